"""The modern ``@flow`` decorator (Prefect 2/3 style) beside the classic ``Flow``.

    from prefect_storage import flow, task

    @task(max_retries=2, retry_delay=timedelta(seconds=1))
    def extract():
        return [1, 2, 3]

    @flow(log_prints=True)
    def etl(n: int = 3):
        data = extract()          # a classic task runs at once inside a modern flow
        print(sum(data) * n)
        return data

    etl(n=2)                      # runs in this process and returns its value

A modern flow can be *deployed*: ``etl.deploy(name=..., work_pool_name=...)`` or
``flow.from_source(source, entrypoint).deploy(...)`` records a deployment in the
registry (see :mod:`prefect_storage.deployments`) that agents run.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow as ClassicFlow

__all__ = ["ModernFlow", "flow", "to_modern_flow"]



def _logger() -> Any:
    # `import prefect_storage` must not import logging (see test_import_pulls_in_no_sdk)
    import logging

    return logging.getLogger("prefect_storage.flow_runs")

# Prefect 3 keyword arguments accepted for source compatibility that change nothing here.
_IGNORED_OPTIONS = frozenset(
    {
        "flow_run_name",
        "task_runner",
        "persist_result",
        "result_storage",
        "result_serializer",
        "cache_result_in_memory",
        "on_completion",
        "on_failure",
        "on_cancellation",
        "on_crashed",
        "on_running",
        "retry_condition_fn",
    }
)


def _modern_block(flow: ModernFlow) -> contextlib.AbstractContextManager[Any]:
    """The engine's marker that makes classic tasks run at once inside this flow."""
    from prefect_storage.context import modern_flow_block

    return modern_flow_block(flow)  # type: ignore[no-any-return]


class _PrintToLog(io.TextIOBase):
    """``print`` inside a ``log_prints`` flow: still printed, and logged line by line."""

    def __init__(self, target: Any, flow_name: str) -> None:
        self.target = target
        self.flow_name = flow_name
        self._buffer = ""

    def write(self, text: str) -> int:
        self.target.write(text)
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            _logger().info("%s", line, extra={"flow_name": self.flow_name})
        return len(text)

    def flush(self) -> None:
        self.target.flush()
        if self._buffer:
            _logger().info("%s", self._buffer, extra={"flow_name": self.flow_name})
            self._buffer = ""


_SIMPLE_TYPES: dict[Any, type] = {int: int, float: float, str: str, bool: bool, "int": int, "float": float, "str": str, "bool": bool}


def _coerce(name: str, value: Any, annotation: Any) -> Any:
    """JSON-ish coercion of simple annotated types (``"3"`` -> 3 for ``n: int``)."""
    kind = _SIMPLE_TYPES.get(annotation)
    if kind is None or (isinstance(value, kind) and not (kind is int and isinstance(value, bool))):
        return value
    try:
        if kind is bool:
            if isinstance(value, str) and value.lower() in ("true", "1", "yes", "false", "0", "no"):
                return value.lower() in ("true", "1", "yes")
            raise ValueError(value)
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        return kind(value)
    except (TypeError, ValueError):
        raise TypeError(f"Parameter {name!r} must be {kind.__name__}, got {value!r}.") from None


class ModernFlow:
    """A function wrapped by :func:`flow`. Call it to run it; deploy it to have agents run it.

    Args:
        fn: the flow function.
        name: the flow's name (default: the function name with ``_`` -> ``-``).
        description: free text (default: the docstring).
        version: free-form version string.
        retries: how many times a failed run is retried in the same process.
        retry_delay_seconds: wait between retries.
        log_prints: ``print`` output inside the flow is also logged.
        timeout_seconds: a run taking longer raises ``TimeoutError``.
        validate_parameters: check (and coerce simple annotated types of) the
            arguments before the run.
    """

    __prefect_storage_modern_flow__ = True

    def __init__(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        description: str | None = None,
        version: str | None = None,
        retries: int | None = 0,
        retry_delay_seconds: float | None = 0,
        log_prints: bool | None = False,
        timeout_seconds: float | None = None,
        validate_parameters: bool = True,
        **options: Any,
    ) -> None:
        if not callable(fn):
            raise TypeError("@flow must decorate a function.")
        unknown = set(options) - _IGNORED_OPTIONS
        if unknown:
            raise TypeError(f"flow() got unexpected keyword arguments {sorted(unknown)}.")
        if retries is not None and retries < 0:
            raise ValueError("retries must be 0 or more.")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "flow").replace("_", "-")
        self.description = description if description is not None else inspect.getdoc(fn)
        self.version = version
        self.retries = retries or 0
        self.retry_delay_seconds = retry_delay_seconds or 0
        self.log_prints = bool(log_prints)
        self.timeout_seconds = timeout_seconds
        self.validate_parameters = validate_parameters
        self.isasync = inspect.iscoroutinefunction(fn)
        self.parameters = inspect.signature(fn)
        self._storage: Any = None
        self._entrypoint: str | None = None
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"<ModernFlow: name={self.name!r}>"

    def __get__(self, instance: Any, owner: Any = None) -> Any:  # flows defined as methods
        if instance is None:
            return self
        return functools.partial(self.__call__, instance)

    def with_options(self, **changes: Any) -> ModernFlow:
        """A copy with some settings changed (``name``, ``retries``, ``log_prints``...)."""
        settings = {
            "name": self.name,
            "description": self.description,
            "version": self.version,
            "retries": self.retries,
            "retry_delay_seconds": self.retry_delay_seconds,
            "log_prints": self.log_prints,
            "timeout_seconds": self.timeout_seconds,
            "validate_parameters": self.validate_parameters,
        }
        settings.update(changes)
        new = ModernFlow(self.fn, **settings)
        new._storage, new._entrypoint = self._storage, self._entrypoint
        return new

    # -- parameters ------------------------------------------------------------------

    def bind_parameters(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The run's parameters by name (defaults applied), validated if asked."""
        try:
            bound = self.parameters.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"Flow {self.name!r}: {exc}") from None
        bound.apply_defaults()
        values = dict(bound.arguments)
        if self.validate_parameters:
            for key, param in self.parameters.parameters.items():
                if key in values and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                    values[key] = _coerce(key, values[key], param.annotation)
        return values

    def parameter_schema(self) -> list[dict[str, Any]]:
        """``[{"name", "required", "default"}]`` for the registry (JSON defaults only)."""
        import json

        schema = []
        for key, param in self.parameters.parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            entry: dict[str, Any] = {"name": key, "required": param.default is param.empty}
            if param.default is not param.empty:
                try:
                    json.dumps(param.default)
                    entry["default"] = param.default
                except (TypeError, ValueError):
                    entry["default"] = repr(param.default)
            schema.append(entry)
        return schema

    # -- running ---------------------------------------------------------------------

    def __call__(self, *args: Any, return_state: bool = False, **kwargs: Any) -> Any:
        """Run the flow in this process; return its value (or, with ``return_state``,
        a classic ``Success``/``Failed`` state holding it)."""
        parameters = self.bind_parameters(args, kwargs)
        if self.isasync:
            return self._call_async(parameters, return_state)
        try:
            value = self._run_with_retries(lambda: self._run_once(parameters))
        except Exception as exc:
            if return_state:
                return self._failed(exc)
            raise
        if return_state:
            from prefect_storage.core.state import Success

            return Success(f"Flow {self.name!r} finished.", result=value)
        return value

    async def _call_async(self, parameters: dict[str, Any], return_state: bool) -> Any:
        import asyncio
        last: BaseException | None = None
        for attempt in range(self.retries + 1):
            try:
                with self._running(parameters):
                    coro = self.fn(**parameters)
                    value = await (asyncio.wait_for(coro, self.timeout_seconds) if self.timeout_seconds else coro)
                if return_state:
                    from prefect_storage.core.state import Success

                    return Success(f"Flow {self.name!r} finished.", result=value)
                return value
            except asyncio.TimeoutError:
                last = TimeoutError(f"Flow run exceeded timeout of {self.timeout_seconds} second(s)")
            except Exception as exc:
                last = exc
            if attempt < self.retries:
                _logger().warning("Flow %r failed (%s); retry %d of %d", self.name, last, attempt + 1, self.retries)
                await asyncio.sleep(self.retry_delay_seconds)
        assert last is not None
        if return_state:
            return self._failed(last)
        raise last

    def _failed(self, exc: BaseException) -> Any:
        from prefect_storage.core.state import Failed

        return Failed(f"Flow {self.name!r} failed: {type(exc).__name__}: {exc}", result=exc)

    def _run_with_retries(self, once: Callable[[], Any]) -> Any:
        for attempt in range(self.retries + 1):
            try:
                return once()
            except Exception as exc:
                if attempt >= self.retries:
                    raise
                _logger().warning("Flow %r failed (%s); retry %d of %d", self.name, exc, attempt + 1, self.retries)
                time.sleep(self.retry_delay_seconds)
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def _running(self, parameters: dict[str, Any]) -> Iterator[None]:
        from prefect_storage.core.context import context

        run_id = context.get("flow_run_id") or str(uuid.uuid4())
        with context(flow_name=self.name, flow_run_id=run_id, parameters=dict(parameters)), _modern_block(self):
            if not self.log_prints:
                yield
                return
            writer = _PrintToLog(sys.stdout, self.name)
            try:
                with contextlib.redirect_stdout(writer):  # type: ignore[type-var]
                    yield
            finally:
                writer.flush()

    def _run_once(self, parameters: dict[str, Any]) -> Any:
        if not self.timeout_seconds:
            with self._running(parameters):
                return self.fn(**parameters)
        import contextvars

        outcome: dict[str, Any] = {}
        ctx = contextvars.copy_context()

        def target() -> None:
            try:
                with self._running(parameters):
                    outcome["value"] = self.fn(**parameters)
            except BaseException as exc:  # handed to the caller's thread
                outcome["error"] = exc

        worker = threading.Thread(target=ctx.run, args=(target,), name=f"flow-{self.name}", daemon=True)
        worker.start()
        worker.join(self.timeout_seconds)
        if worker.is_alive():
            raise TimeoutError(f"Flow run exceeded timeout of {self.timeout_seconds} second(s)")
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    # -- deployments -----------------------------------------------------------------

    @classmethod
    def from_source(cls, source: Any, entrypoint: str) -> ModernFlow:
        """Load the flow at ``entrypoint`` from ``source`` (a git URL, a folder or
        fsspec URL, any ``RunnerStorage``, or a storage block), remembering where it
        came from so that ``.deploy()`` records pull steps for it."""
        from prefect_storage.deployments.source import load_from_source

        return load_from_source(source, entrypoint)

    def deploy(
        self,
        name: str,
        work_pool_name: str | None = None,
        image: Any = None,
        build: bool = True,
        push: bool = True,
        parameters: dict[str, Any] | None = None,
        job_variables: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        description: str | None = None,
        version: str | None = None,
        cron: str | None = None,
        interval: Any = None,
        schedule: Any = None,
        paused: bool = False,
        work_queue_name: str | None = None,
        entrypoint_type: Any = None,
        print_next_steps: bool = True,
        registry: Any = None,
        **ignored: Any,
    ) -> str:
        """Record (or update) deployment ``name`` of this flow in the registry and return
        its id. See :func:`prefect_storage.deployments.deploy.deploy_flow`."""
        from prefect_storage.deployments.deploy import deploy_flow

        return deploy_flow(
            self,
            name=name,
            work_pool_name=work_pool_name,
            image=image,
            build=build,
            push=push,
            parameters=parameters,
            job_variables=job_variables,
            tags=tags,
            description=description,
            version=version,
            cron=cron,
            interval=interval,
            schedule=schedule,
            paused=paused,
            work_queue_name=work_queue_name,
            print_next_steps=print_next_steps,
            registry=registry,
        )

    def serve(
        self,
        name: str | None = None,
        parameters: dict[str, Any] | None = None,
        cron: str | None = None,
        interval: Any = None,
        tags: list[str] | None = None,
        description: str | None = None,
        version: str | None = None,
        limit: int | None = None,
        once: bool = False,
        registry: Any = None,
        **ignored: Any,
    ) -> int:
        """Register this flow as deployment ``name`` and run an agent for it in this
        process until interrupted (``once=True``: run what is scheduled, then return).
        Returns the number of runs executed."""
        from prefect_storage.deployments.serve import serve_flow

        return serve_flow(
            self,
            name=name or self.name,
            parameters=parameters,
            cron=cron,
            interval=interval,
            tags=tags,
            description=description,
            version=version,
            limit=limit,
            once=once,
            registry=registry,
        )


class _FlowDecorator:
    """``@flow``, ``@flow(...)`` and ``flow.from_source(...)``."""

    def __call__(self, __fn: Callable[..., Any] | None = None, **options: Any) -> Any:
        if __fn is None:
            return lambda fn: ModernFlow(fn, **options)
        return ModernFlow(__fn, **options)

    from_source = staticmethod(ModernFlow.from_source)

    def __repr__(self) -> str:
        return "<prefect_storage.flow decorator>"


flow = _FlowDecorator()


def to_modern_flow(obj: Any, where: str = "") -> ModernFlow:
    """A modern flow for what an entrypoint named: a modern flow as is, a classic
    ``Flow`` (run with its classic runner), or a plain function (wrapped with
    ``log_prints=True``, as Prefect does)."""
    from prefect_storage.core.flow import Flow as ClassicFlow

    if isinstance(obj, ModernFlow):
        return obj
    if isinstance(obj, ClassicFlow):
        return _classic_as_modern(obj)
    if inspect.isfunction(obj) or inspect.ismethod(obj) or (callable(obj) and not isinstance(obj, type)):
        return ModernFlow(obj, log_prints=True)
    from prefect_storage.exceptions import MissingFlowError

    raise MissingFlowError(f"{where or repr(obj)} is a {type(obj).__name__}, not a flow or a function.")


def _classic_as_modern(classic: ClassicFlow) -> ModernFlow:
    def run_classic(**parameters: Any) -> Any:
        from prefect_storage.core.context import context
        from prefect_storage.core.runner import FlowRunner

        state = FlowRunner(classic).run(parameters=parameters, flow_run_id=context.get("flow_run_id"))
        if not state.is_successful():
            raise RuntimeError(f"Classic flow {classic.name!r} failed: {state.message}")
        return state

    modern = ModernFlow(run_classic, name=classic.name, validate_parameters=False)
    modern.classic_flow = classic  # type: ignore[attr-defined]
    params = [
        inspect.Parameter(
            p.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=inspect.Parameter.empty if p.required else p.default,
        )
        for p in classic.parameters()
    ]
    modern.parameters = inspect.Signature(params)
    return modern


def _source_file(fn: Callable[..., Any]) -> str | None:
    try:
        path = inspect.getsourcefile(fn)
    except TypeError:
        return None
    return os.path.abspath(path) if path else None
