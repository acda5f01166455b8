"""``LocalAgent``: claims flow runs from the registry and runs each one in a child process."""

from __future__ import annotations

import concurrent.futures
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from prefect_storage.agent.environment import (
    RunSecretError,
    agent_environment,
    resolve_storage_secrets,
    run_environment,
)
from prefect_storage.agent.launcher import Launcher, LaunchOutcome, ProcessLauncher
from prefect_storage.agent.logs import agent_entry, parse_logs
from prefect_storage.exceptions import RunOwnershipError
from prefect_storage.registry.errors import is_transient
from prefect_storage.registry.repository import FAILED, FlowRun, Registry
from prefect_storage.secrets import get_logger, redact

T = TypeVar("T")
logger = get_logger("agent")


_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})


class LocalAgent:
    """Polls the registry for Scheduled runs whose labels it covers and runs them.

    Args:
        registry: a :class:`Registry` or URL (default: the configured registry).
        labels: the labels this agent carries; the host name is added unless
            ``hostname_label=False`` (like the classic LocalAgent).
        concurrency: runs executed at once.
        poll_interval: seconds between polls when there is nothing to do.
        timeout: seconds after which a run's process is killed and the run Failed.
        launcher: how runs are started (default: :class:`ProcessLauncher`).
        import_paths: folders appended to the runs' ``PYTHONPATH``.
        env: extra environment variables for every run.
        pass_env: give runs the agent's environment (minus the project's sensitive
            settings and ``secret_env``); ``False`` passes only basic variables
            (``PATH``, ``HOME``, locale...) and the ``env_allow`` names.
        env_allow: names of the agent's variables runs get with ``pass_env=False``.
        secret_env: names of the agent's variables no run may see.
        max_registry_outage: seconds the agent keeps retrying an unreachable
            registry before giving up.
        heartbeat_interval: seconds between the heartbeats the agent records for
            the runs it is executing.
        lost_run_after: a Running run without a heartbeat for this long (its agent
            died) is marked Failed by any agent, with a message saying so.
        show_flow_logs: also write each run's log lines (redacted) to this agent's log
            when the run ends, as the classic ``--show-flow-logs`` did; they are always
            kept in the registry (``prefect-storage logs RUN``).
    """

    def __init__(
        self,
        registry: Registry | str | None = None,
        labels: Iterable[str] = (),
        concurrency: int = 1,
        poll_interval: float = 2.0,
        timeout: float | None = None,
        launcher: Launcher | None = None,
        import_paths: Iterable[str] = (),
        env: dict[str, str] | None = None,
        hostname_label: bool = True,
        name: str | None = None,
        max_registry_outage: float = 300.0,
        heartbeat_interval: float = 10.0,
        lost_run_after: float = 120.0,
        pass_env: bool = True,
        env_allow: Iterable[str] = (),
        secret_env: Iterable[str] = (),
        executor_address: str | None = None,
        show_flow_logs: bool = False,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1.")
        self.registry = registry if isinstance(registry, Registry) else Registry(registry)
        self.labels = set(labels) | ({socket.gethostname()} if hostname_label else set())
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.launcher: Launcher = launcher or ProcessLauncher()
        self._owns_launcher = launcher is None  # a launcher the caller passed is the caller's to close
        self.import_paths = list(import_paths)
        self.env = dict(env or {})
        self.name = name or f"local-agent-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.max_registry_outage = max_registry_outage
        self.heartbeat_interval = heartbeat_interval
        self.lost_run_after = lost_run_after
        self.pass_env = pass_env
        self.env_allow = list(env_allow)
        self.secret_env = list(secret_env)
        #: run every classic flow's tasks on this Dask scheduler (``--executor-address``)
        self.executor_address = executor_address
        self.show_flow_logs = show_flow_logs
        self.broker: Any = None
        self._signing_configured = False
        self._flows: dict[str, Any] = {}
        self._lost_checked = 0.0
        self._scheduled_at = 0.0
        self._stop = threading.Event()
        self._running: set[str] = set()
        self._running_lock = threading.Lock()

    def stop(self) -> None:
        """Ask :meth:`start` to return once the runs in progress have finished."""
        self._stop.set()

    # -- the loop ---------------------------------------------------------------------------

    def start(self, once: bool = False) -> int:
        """Run until :meth:`stop` (or, with ``once``, until no claimable run is left);
        return the number of runs executed."""
        logger.info("Agent %s started with labels %s", self.name, sorted(self.labels))
        self._fail_own_lost_runs()
        if not self.launcher.isolated_environment:
            from prefect_storage.agent.broker import RunBroker
            from prefect_storage.serialization.flow_pickle import _signing_key

            self.broker = RunBroker(self.registry, self._with_registry)
            self._signing_configured = _signing_key() is not None
        template_env = getattr(self.launcher, "template_env", "absent")
        if template_env is None:  # the warm template starts with the runs' base environment, nothing more
            self.launcher.template_env = self._base_environment()  # type: ignore[attr-defined]
        beating = threading.Event()
        heart = threading.Thread(target=self._heartbeats, args=(beating,), name="agent-heartbeat", daemon=True)
        heart.start()
        try:
            executed = self._loop(once)
        finally:
            beating.set()
            heart.join()
            if self.broker is not None:
                self.broker.stop()
                self.broker = None
            close = getattr(self.launcher, "close", None)
            if close is not None and self._owns_launcher:
                close()
        logger.info("Agent %s stopped after %d runs", self.name, executed)
        return executed

    def _loop(self, once: bool) -> int:
        executed = 0
        active: set[concurrent.futures.Future[LaunchOutcome]] = set()
        with concurrent.futures.ThreadPoolExecutor(self.concurrency, thread_name_prefix="flow-run") as pool:
            while not self._stop.is_set():
                free = self.concurrency - len(active)
                claimed = self._claim(free) if free else []
                active.update(pool.submit(self.execute, run) for run in claimed)
                if once and not claimed and not active:
                    break
                if active:
                    done, active = concurrent.futures.wait(
                        active,
                        timeout=None if free == 0 or once else self.poll_interval,
                        return_when=concurrent.futures.FIRST_COMPLETED,
                    )
                    executed += len(done)
                    for future in done:
                        future.result()  # surfaces a bug in execute() instead of hiding it
                elif not claimed:
                    self._stop.wait(self.poll_interval)
            for future in concurrent.futures.as_completed(active):
                future.result()
                executed += 1
        return executed

    def _fail_own_lost_runs(self) -> None:
        """Fail the Running runs of this agent's earlier life on this host: runs recorded
        under this agent's name, or under a default-named agent of this host whose
        process is gone (it was killed, and its children died with it)."""
        host_prefix = f"local-agent-{socket.gethostname()}-"
        try:
            candidates = self._with_registry(lambda: self.registry.running_runs_by_agent(host_prefix))
            if not self.name.startswith(host_prefix):
                candidates += self._with_registry(lambda: self.registry.running_runs_by_agent(self.name))
        except Exception as exc:
            logger.warning("Could not look for this host's lost runs (%s)", type(exc).__name__)
            return
        for run_id, agent in candidates:
            if agent != self.name and (not agent.startswith(host_prefix) or _agent_process_alive(agent, host_prefix)):
                continue
            message = (
                f"The agent {agent!r} running this flow run stopped (it was killed or restarted on this host), and the "
                "run's process died with it, so the run did not finish. Check the flow's effects and run it again."
            )
            if self._with_registry(lambda r=run_id, a=agent, m=message: self.registry.fail_run_of_agent(r, a, m)):
                logger.warning("Flow run %s was lost when agent %s stopped: marked Failed", run_id, agent)

    def _claim(self, limit: int) -> list[FlowRun]:
        from prefect_storage.registry.schedules import scheduler_step

        now = time.monotonic()
        # keep the schedules' next runs created (they are created ahead of time, so an
        # agent need not look more than once a poll interval, nor a busy one once a second)
        if now - self._scheduled_at >= max(self.poll_interval, 1.0):
            self._scheduled_at = now
            self._with_registry(lambda: scheduler_step(self.registry))
        lost: list[str] = []
        if now - self._lost_checked >= min(self.lost_run_after / 4, 5.0):  # not on every claim of a busy agent
            self._lost_checked = now
            lost = self._with_registry(lambda: self.registry.fail_lost_runs(self.lost_run_after))
        for run_id in lost:
            logger.warning("Flow run %s lost its agent (no heartbeat for %gs): marked Failed", run_id, self.lost_run_after)
        return self._with_registry(lambda: self.registry.claim_flow_runs(self.labels, self.name, limit=limit))

    def _heartbeats(self, done: threading.Event) -> None:
        while not done.wait(self.heartbeat_interval):
            with self._running_lock:
                running = list(self._running)
            try:
                self.registry.heartbeat(running)
            except Exception as exc:  # an outage: the next beat tries again
                logger.warning("Could not record heartbeats (%s)", type(exc).__name__)

    # -- one run ------------------------------------------------------------------------------

    def execute(self, run: FlowRun) -> LaunchOutcome:
        """Run one claimed flow run to its end and record the outcome (never raises for
        anything the flow or its storage does)."""
        started = [agent_entry("INFO", f"Flow run {run.id} of {run.flow_name!r} v{run.flow_version} picked up by {self.name}")]
        with self._running_lock:
            self._running.add(run.id)
        try:
            outcome = self._launch(run)
        except RunSecretError as exc:
            outcome = LaunchOutcome(FAILED, str(exc), [], "")
        except Exception as exc:  # a launcher or registry bug must not leave the run Running
            outcome = LaunchOutcome(FAILED, f"Failed to load and execute flow run: {exc!r}", [], "")
        try:
            self._record(run, outcome, started)
        finally:
            with self._running_lock:
                self._running.discard(run.id)
        return outcome

    def _base_environment(self) -> dict[str, str]:
        return agent_environment(os.environ, self.pass_env, self.env_allow, self.secret_env)

    def _launch(self, run: FlowRun) -> LaunchOutcome:
        refusal = self.launcher.refusal(str(run.storage.get("type")))
        if refusal is not None:
            return LaunchOutcome(FAILED, refusal, [], "")
        flow = self._flows.get(run.flow_id)
        if flow is None:  # a flow version never changes: read it once per agent
            flow = self._flows[run.flow_id] = self._with_registry(lambda: self.registry.get_flow(run.flow_id))
        run_config = flow.serialized.get("run_config") or {}
        refusal = run_config_refusal(run_config, self.launcher)
        if refusal is not None:
            return LaunchOutcome(FAILED, refusal, [], "")
        secrets = resolve_storage_secrets(run.storage)
        spec: dict[str, Any] = {
            "flow_run_id": run.id,
            "flow_name": run.flow_name,
            "storage": run.storage,
            "parameters": run.parameters,
            "checkpoint": True,
        }
        if self.broker is not None:  # saves each run asking the broker whether there is a key
            spec["signing_configured"] = self._signing_configured
        if self.executor_address:
            spec["executor_address"] = self.executor_address
        if run.scheduled_start_time is not None:  # a late run still sees the time it was scheduled for
            spec["scheduled_start_time"] = run.scheduled_start_time.isoformat()
        if run_config.get("working_dir"):
            spec["working_dir"] = run_config["working_dir"]
        if run_config.get("image"):
            spec["image"] = run_config["image"]  # DockerRun: where a container launcher runs it
        isolated = self.launcher.isolated_environment
        env = run_environment(
            {} if isolated else self._base_environment(),
            secrets,
            run_env={**self.env, **(run_config.get("env") or {})},
            import_paths=self.import_paths,
            context={"flow_run_id": run.id, "flow_id": run.flow_id},
            python_path=not isolated,
        )
        broker_env = self.broker.open_run(run.id) if self.broker is not None else {}
        env.update(broker_env)
        try:
            return self.launcher.launch(spec, env, self.timeout)
        finally:
            if self.broker is not None:
                self.broker.close_run(broker_env)

    def _record(self, run: FlowRun, outcome: LaunchOutcome, started: list[Any]) -> None:
        message = redact(outcome.message or "")
        level = "INFO" if outcome.state == "Success" else "ERROR"
        entries = [*started, *parse_logs(outcome.logs), agent_entry(level, f"Flow run finished: {outcome.state}. {message}".strip())]
        if self.show_flow_logs:
            for entry in entries:
                logger.log(logging.getLevelName(entry.level) if entry.level in _LEVELS else logging.INFO,
                           "[%s] %s: %s", run.id[:8], entry.name, entry.message)
        tasks = [{**t, "message": redact(t["message"]) if t.get("message") else t.get("message")} for t in outcome.tasks]
        try:
            # logs, task results and state in one transaction, only while this agent holds the run
            held = self._with_registry(
                lambda: self.registry.finish_flow_run(run.id, self.name, outcome.state, message, tasks, entries, outcome.results)
            )
        except Exception:
            # e.g. logs or results the database refuses: the run's state must still be recorded
            logger.exception("Could not store the logs and results of flow run %s", run.id)
            try:
                self._with_registry(lambda: self.registry.set_flow_run_state(run.id, outcome.state, message, tasks, agent=self.name))
                held = True
            except RunOwnershipError:
                held = False
        if not held:
            current = self._with_registry(lambda: self.registry.get_flow_run(run.id))
            logger.warning(
                "Flow run %s is %s (agent %r): this agent no longer holds it, so its outcome %s was not recorded",
                run.id, current.state, current.agent, outcome.state,
            )
            return
        log = logger.info if outcome.state == "Success" else logger.warning
        log("Flow run %s (%s) finished: %s %s", run.id, run.flow_name, outcome.state, message)

    # -- registry outages ----------------------------------------------------------------------

    def _with_registry(self, call: Callable[[], T]) -> T:
        """``call()``, retried with backoff while the registry is unreachable."""
        delay, deadline = 0.2, time.monotonic() + self.max_registry_outage
        while True:
            try:
                return call()
            except Exception as exc:
                if not is_transient(exc) or time.monotonic() > deadline:
                    raise
                logger.warning("Registry unreachable (%s); retrying in %.1fs", type(exc).__name__, delay)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)


#: Run config types and the agent that launches them (classic Prefect 1.x agents).
AGENT_KINDS = {
    "KubernetesRun": "a Kubernetes agent (classic `prefect agent kubernetes start`)",
    "ECSRun": "an ECS agent (classic `prefect agent ecs start`)",
    "VertexRun": "a Vertex AI agent (classic `prefect agent vertex start`)",
}


def run_config_refusal(run_config: dict[str, Any], launcher: Launcher) -> str | None:
    """Why this agent cannot launch a run with ``run_config``, naming the agent kind
    that can, or ``None``."""
    kind = str(run_config.get("type") or "UniversalRun")
    if kind in AGENT_KINDS:
        return (
            f"This flow's run config is {kind}, which needs {AGENT_KINDS[kind]}; prefect-storage's local and docker "
            f"agents cannot launch it. Hint: give the flow a LocalRun or UniversalRun (DockerRun for "
            f"`prefect-storage agent docker`) and re-register it, or run it where {kind} is supported."
        )
    if kind not in {"UniversalRun", "LocalRun", "DockerRun"}:
        return f"Unsupported run config type {kind!r}: this agent launches UniversalRun, LocalRun and DockerRun flows."
    return None


def _agent_process_alive(agent: str, host_prefix: str) -> bool:
    """For a default agent name ``local-agent-<host>-<pid>-<hex>`` of this host: is that pid alive?"""
    pid_text = agent[len(host_prefix):].split("-", 1)[0]
    if not pid_text.isdigit():
        return True  # not a name we can check: leave it to the heartbeat rule
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
