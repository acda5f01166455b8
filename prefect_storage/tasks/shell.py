"""``ShellTask``: run a shell command in a subprocess (classic ``prefect.tasks.shell``)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from typing import Any

from prefect_storage.core.signals import FAIL
from prefect_storage.core.task import Task
from prefect_storage.core.utilities import defaults_from_attrs

__all__ = ["PowershellTask", "ShellTask"]


class ShellTask(Task):
    """Run ``command`` with ``shell`` (``bash`` by default); stderr is merged into stdout.

    Args:
        command: the command; may also be given to ``run``.
        env: extra environment variables (added to the current environment).
        helper_script: shell text run before the command in the same process
            (``cd`` somewhere, define functions, export variables).
        shell: the program that runs the script file.
        return_all: return every output line (a list) instead of the last line.
        log_stderr: on failure, log the output (last line, or all with ``return_all``).
        stream_output: log each output line as it comes: ``True`` at INFO, or a
            level number or name (``"DEBUG"``).
        **kwargs: the usual :class:`Task` arguments.

    Returns the last output line (``None`` without output), or all lines with
    ``return_all``. A non-zero exit raises ``FAIL("Command failed with exit code N")``
    whose result is that output.
    """

    _script_suffix = ".sh"

    def __init__(
        self,
        command: str | None = None,
        env: dict[str, str] | None = None,
        helper_script: str | None = None,
        shell: str = "bash",
        return_all: bool = False,
        log_stderr: bool = False,
        stream_output: bool | int | str = False,
        **kwargs: Any,
    ) -> None:
        self.command = command
        self.env = env
        self.helper_script = helper_script
        self.shell = shell
        self.return_all = return_all
        self.log_stderr = log_stderr
        if isinstance(stream_output, str):
            level = logging.getLevelName(stream_output.upper())
            if not isinstance(level, int):
                raise TypeError(f"'stream_output': {stream_output} is not a valid log level")
            stream_output = level
        self.stream_output: int | bool = logging.INFO if stream_output is True else stream_output
        super().__init__(**kwargs)

    @defaults_from_attrs("command", "env", "helper_script")
    def run(
        self, command: str | None = None, env: dict[str, str] | None = None, helper_script: str | None = None
    ) -> str | list[str] | None:
        """Run the command; see the class docstring for the result and failure rules."""
        if command is None:
            raise TypeError("run() missing required argument: 'command'")
        run_env = {**os.environ, **{k: str(v) for k, v in (env or {}).items()}}
        script = (helper_script + "\n" if helper_script else "") + command
        lines: list[str] = []
        last: str | None = None
        with tempfile.NamedTemporaryFile("w", prefix="prefect-", suffix=self._script_suffix, delete=False) as fh:
            fh.write(script)
        try:
            # Windows finds the shell on PATH only in shell mode.
            with subprocess.Popen(
                [self.shell, fh.name],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=run_env,
                shell=sys.platform == "win32",
            ) as proc:
                assert proc.stdout is not None
                for raw in iter(proc.stdout.readline, b""):
                    last = raw.decode("utf-8", errors="replace").rstrip()
                    if self.return_all:
                        lines.append(last)
                    if self.stream_output:
                        self.logger.log(int(self.stream_output), last)
                code = proc.wait()
        finally:
            os.unlink(fh.name)
        output: str | list[str] | None = lines if self.return_all else last
        if code:
            message = f"Command failed with exit code {code}"
            self.logger.error(message)
            if self.log_stderr and not self.stream_output:
                self.logger.error("\n".join(lines) if self.return_all else last)
            raise FAIL(message, result=output)
        return output


class PowershellTask(ShellTask):
    """Run ``command`` with PowerShell: :class:`ShellTask` with a ``.ps1`` script file and
    ``shell="pwsh"`` (PowerShell 6+; ``"powershell"`` for Windows PowerShell 5). The
    arguments, the result and the failure rules are those of :class:`ShellTask`."""

    _script_suffix = ".ps1"

    def __init__(self, command: str | None = None, env: dict[str, str] | None = None,
                 helper_script: str | None = None, shell: str = "pwsh", **kwargs: Any) -> None:
        super().__init__(command=command, env=env, helper_script=helper_script, shell=shell, **kwargs)
