"""The ``prefect-storage`` command group, its shared options and its exit codes."""

from __future__ import annotations

import dataclasses
import logging
import sys
from typing import Any

import click

from prefect_storage.exceptions import StorageError
from prefect_storage.registry.engine import REGISTRY_URL_ENV

EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_REGISTRY = 1, 2, 3, 4
#: an unexpected exception: a bug (the BSD sysexits EX_SOFTWARE code)
EXIT_BUG = 70


class NotFound(click.ClickException):
    exit_code = EXIT_NOT_FOUND


class RegistryUnavailable(click.ClickException):
    exit_code = EXIT_REGISTRY


class BadConfiguration(click.ClickException):
    exit_code = EXIT_USAGE


class InternalError(click.ClickException):
    """An exception no command expected: a bug. The only case that shows a traceback."""

    exit_code = EXIT_BUG


@dataclasses.dataclass
class CliState:
    registry_url: str | None
    _registry: Any = None

    @property
    def registry(self) -> Any:
        if self._registry is None:
            from prefect_storage.registry import Registry

            self._registry = Registry(self.registry_url)
        return self._registry


class _Group(click.Group):
    """Turns registry errors into the documented exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        import sqlalchemy as sa

        from prefect_storage.registry.errors import NotRegisteredError, SchemaVersionError

        try:
            return super().invoke(ctx)
        except NotRegisteredError as exc:
            raise NotFound(str(exc)) from None
        except SchemaVersionError as exc:
            raise RegistryUnavailable(str(exc)) from None
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            from prefect_storage.registry.engine import public_url

            url = ctx.obj.registry_url if isinstance(ctx.obj, CliState) else None
            raise RegistryUnavailable(
                f"Cannot reach the registry{f' at {public_url(url)}' if url else ''}: {exc.orig or exc}. "
                f"Check --registry / ${REGISTRY_URL_ENV}."
            ) from None
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except StorageError as exc:
            raise _storage_error(exc) from None
        except Exception as exc:
            import traceback

            from prefect_storage.secrets import redact

            text = redact("".join(traceback.format_exception(exc)))
            raise InternalError(
                f"Internal error: this is a bug in prefect_storage, not a problem with your input. Please report it "
                f"with this traceback:\n{text}"
            ) from None


def _storage_error(exc: StorageError) -> click.ClickException:
    """The documented exit code for a ``prefect_storage`` error (see docs/cli.md)."""
    from prefect_storage.exceptions import FlowNotFoundError, StorageConfigError, UnknownFlowError

    message = str(exc)
    if isinstance(exc, StorageConfigError):
        return BadConfiguration(message)
    if isinstance(exc, (UnknownFlowError, FlowNotFoundError)):
        return NotFound(message)
    return click.ClickException(message)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--registry",
    "registry_url",
    envvar=REGISTRY_URL_ENV,
    metavar="URL",
    help=f"Registry database URL (sqlite:///file.db or postgresql://...). Default: ${REGISTRY_URL_ENV}, "
    "else sqlite in the prefect_storage home folder.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
@click.pass_context
def cli(ctx: click.Context, registry_url: str | None, verbose: bool) -> None:
    """Register classic flows, run them through agents, check their storage."""
    ctx.obj = CliState(registry_url)
    _configure_logging(logging.DEBUG if verbose else logging.WARNING)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (tests swap it)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def _configure_logging(level: int) -> None:
    from prefect_storage.log import RedactingFilter

    root = logging.getLogger("prefect_storage")
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        handler = _StderrHandler()
        handler.addFilter(RedactingFilter())
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)

