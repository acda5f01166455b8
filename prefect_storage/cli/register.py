"""``prefect-storage register``: the classic ``prefect register`` against the embedded registry."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from prefect_storage.cli.app import EXIT_FAILED, CliState
from prefect_storage.cli.collect import Source, expand_paths, load_module, load_script, module_file, script_file

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow

WATCH_INTERVAL = 0.5


@click.command()
@click.option("--project", default="default", show_default=True, help="Project to register into (created if missing).")
@click.option("-p", "--path", "paths", multiple=True, help="A flow script, a folder of scripts or a glob (repeatable).")
@click.option("-m", "--module", "modules", multiple=True, help="An importable module or module.flow (repeatable).")
@click.option("-j", "--json", "json_paths", multiple=True, help="A flows.json written by `prefect-storage build` (repeatable).")
@click.option("-n", "--name", "names", multiple=True, help="Only register flows with this name (repeatable).")
@click.option("-l", "--label", "labels", multiple=True, help="A label to add to every flow (repeatable).")
@click.option("-f", "--force", is_flag=True, help="Register a new version even if the metadata is unchanged.")
@click.option("--watch", is_flag=True, help="Re-register a source whenever its file changes (Ctrl-C to stop).")
@click.pass_obj
def register(
    state: CliState,
    project: str,
    paths: tuple[str, ...],
    modules: tuple[str, ...],
    json_paths: tuple[str, ...],
    names: tuple[str, ...],
    labels: tuple[str, ...],
    force: bool,
    watch: bool,
) -> None:
    """Register the flows found in scripts and modules.

    Script flows without storage get Local(path=<script>, stored_as_script=True);
    module flows without storage get Module(<module>). Each storage is built once;
    a flow whose metadata did not change is skipped.
    """
    if not paths and not modules and not json_paths:
        raise click.UsageError("Give at least one --path, --module or --json.")
    files = expand_paths(paths)
    if watch:
        if json_paths:
            raise click.UsageError("--watch works with --path and --module, not --json.")
        _watch(state, files, modules, project, names, labels, force)
        return
    counts = register_sources(state, files, modules, project, names, labels, force, json_paths)
    if counts["errored"]:
        sys.exit(EXIT_FAILED)


def register_sources(
    state: CliState,
    files: list[str],
    modules: tuple[str, ...] | list[str],
    project: str,
    names: tuple[str, ...],
    labels: tuple[str, ...],
    force: bool,
    json_paths: tuple[str, ...] = (),
) -> collections.Counter[str]:
    """One registration pass; prints per-flow lines and the summary, returns the counts."""
    counts: collections.Counter[str] = collections.Counter(registered=0, skipped=0, errored=0)
    serialized = [flow for path in json_paths for flow in load_flows_json(path, labels)]
    flows = collect_flows(files, modules, counts)
    found = {f.name for f in flows} | {f["name"] for f in serialized}
    if names:
        missing = sorted(set(names) - found)
        if missing:
            raise click.ClickException("Failed to find the following flows:\n" + "\n".join(f"- {n}" for n in missing))
        flows = [f for f in flows if f.name in names]
        serialized = [f for f in serialized if f["name"] in names]
    for flow in prepare_and_build(flows, labels, counts):
        _record_one(state, flow.name, lambda flow=flow: flow.serialize(build=False), project, force, counts)
    for data in serialized:
        _record_one(state, data["name"], lambda data=data: data, project, force, counts)
    bar = "=" * 40
    click.echo(f"{bar}\n{counts['registered']} registered, {counts['skipped']} skipped, {counts['errored']} errored\n{bar}")
    return counts


def collect_flows(files: list[str], modules: tuple[str, ...] | list[str], counts: collections.Counter[str]) -> list[Flow]:
    """Every flow in the scripts and modules; a source that fails to load counts as errored."""
    sources: list[Source] = []
    for kind, loader, items in (("path", load_script, files), ("module", load_module, modules)):
        for item in items:
            click.echo(f"Collecting flows from {item}...")
            try:
                sources.append(loader(item))
            except click.ClickException:
                raise
            except Exception as exc:
                click.secho(f"  Error loading {kind} {item!r}: {exc!r}", fg="red")
                counts["errored"] += 1
    return [flow for source in sources for flow in source.flows]


def prepare_and_build(flows: list[Flow], labels: tuple[str, ...], counts: collections.Counter[str]) -> list[Flow]:
    """The classic order: defaults and add_flow for every flow, then one build per storage."""
    return _build_per_storage(_prepare(flows, labels, counts), counts)


def load_flows_json(path: str, labels: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The flows of a ``flows.json`` (``{"version": 1, "flows": [...]}``), with ``labels``
    merged into each flow's run config labels."""
    if "://" in path:
        raise click.ClickException(f"{path!r}: only local flows.json files are supported; download it first.")
    try:
        with open(path, encoding="utf-8") as fh:
            document = json.load(fh)
    except FileNotFoundError:
        raise click.ClickException(f"Path {path!r} doesn't exist") from None
    except (OSError, ValueError):
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("flows"), list) or "version" not in document:
        raise click.ClickException(f"{path!r} is not a valid Prefect flows `json` file.")
    if document["version"] != 1:
        raise click.ClickException(f"{path!r} is version {document['version']}, only version 1 is supported")
    flows = []
    for data in document["flows"]:
        if not isinstance(data, dict) or "name" not in data:
            raise click.ClickException(f"{path!r} is not a valid Prefect flows `json` file.")
        if labels:
            run_config = dict(data.get("run_config") or {"type": "UniversalRun", "labels": [], "env": {}})
            run_config["labels"] = sorted(set(run_config.get("labels") or []) | set(labels))
            data = {**data, "run_config": run_config}
        flows.append(data)
    return flows


def _prepare(flows: list[Flow], labels: tuple[str, ...], counts: collections.Counter[str]) -> list[Flow]:
    """Defaults and add_flow for every flow before any build (so shared storages hash stably)."""
    from prefect_storage.registry.register import add_to_storage, prepare_flow

    ready = []
    for flow in flows:
        try:
            prepare_flow(flow, labels)
            add_to_storage(flow)
        except Exception as exc:
            click.secho(f"Registering {flow.name!r}... Error\n  └── {exc}", fg="red")
            counts["errored"] += 1
        else:
            ready.append(flow)
    return ready


def _build_per_storage(flows: list[Flow], counts: collections.Counter[str]) -> list[Flow]:
    """``build()`` once per storage instance; a failed build errors every flow on it."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from prefect_storage.cli.output import console

    groups: dict[int, list[Flow]] = {}
    for flow in flows:
        groups.setdefault(id(flow.storage), []).append(flow)
    built: list[Flow] = []
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
        console=console(), transient=True,
    ) as progress:
        overall = progress.add_task("Building storage", total=len(groups))
        for group in groups.values():
            storage = group[0].storage
            progress.update(overall, description=f"Building `{storage.name}` storage...")
            click.echo(f"Building `{storage.name}` storage...")
            try:
                storage.build()
            except Exception as exc:
                for flow in group:
                    click.secho(f"Registering {flow.name!r}... Error\n  └── storage build failed: {exc}", fg="red")
                counts["errored"] += len(group)
            else:
                built.extend(group)
            progress.advance(overall)
    return built


def _record_one(
    state: CliState,
    name: str,
    serialize: Callable[[], dict[str, Any]],
    project: str,
    force: bool,
    counts: collections.Counter[str],
) -> None:
    from prefect_storage.registry.register import record_serialized

    click.echo(f"Registering {name!r}...", nl=False)
    try:
        registration = record_serialized(serialize(), state.registry, project, uuid.uuid4().hex if force else None)
    except Exception as exc:
        if _is_registry_outage(exc):
            raise
        click.secho(" Error", fg="red")
        click.echo(f"  └── {exc}")
        counts["errored"] += 1
        return
    if registration.created:
        click.secho(" Done", fg="green")
        click.echo(f"  └── ID: {registration.flow.id}\n  └── Version: {registration.flow.version}")
        counts["registered"] += 1
    else:
        click.secho(" Skipped (metadata unchanged)", fg="yellow")
        counts["skipped"] += 1


def _is_registry_outage(exc: BaseException) -> bool:
    from prefect_storage.registry.errors import SchemaVersionError, is_transient

    return is_transient(exc) or isinstance(exc, SchemaVersionError)


# -- --watch ------------------------------------------------------------------------------------


def _watch(
    state: CliState,
    files: list[str],
    modules: tuple[str, ...],
    project: str,
    names: tuple[str, ...],
    labels: tuple[str, ...],
    force: bool,
) -> None:
    """Register everything once, then re-register a source in a fresh process whenever
    its file's mtime changes (polled every 0.5 s). Errors are reported, never fatal."""
    watched: dict[str, tuple[str, str]] = {script_file(path): ("--path", path) for path in files}
    for module in modules:
        origin = module_file(module)
        if origin:
            watched[origin] = ("--module", module)
        else:
            click.secho(f"Cannot find the file of module {module!r}; it is not watched.", fg="yellow")
    mtimes = {path: None for path in watched}
    click.echo(f"Watching {len(watched)} file(s) for changes (Ctrl-C to stop)...")
    try:
        while True:
            changed = []
            for path in watched:
                mtime = _mtime(path)
                if mtime != mtimes[path]:
                    mtimes[path] = mtime
                    changed.append(path)
            if changed:
                _register_in_subprocess(state, [watched[p] for p in changed], project, names, labels, force)
            time.sleep(WATCH_INTERVAL)
    except KeyboardInterrupt:
        click.echo("Stopped watching.")


def _mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def _register_in_subprocess(
    state: CliState,
    sources: list[tuple[str, str]],
    project: str,
    names: tuple[str, ...],
    labels: tuple[str, ...],
    force: bool,
) -> None:
    argv: list[Any] = [sys.executable, "-m", "prefect_storage.cli", "register", "--project", project]
    for option, value in sources:
        argv += [option, value]
    for name in names:
        argv += ["--name", name]
    for label in labels:
        argv += ["--label", label]
    if force:
        argv.append("--force")
    env = dict(os.environ)
    if state.registry_url:
        # Through the environment, not argv: a registry URL may carry a password, and
        # argv is visible to every user of the machine.
        from prefect_storage.registry.engine import REGISTRY_URL_ENV

        env[REGISTRY_URL_ENV] = state.registry_url
    result = subprocess.run(argv, check=False, env=env)
    if result.returncode:
        click.secho(f"Registration pass exited with {result.returncode}; still watching.", fg="yellow")
