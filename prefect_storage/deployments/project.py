"""``prefect.yaml``: read it, run its build and push steps, record its deployments;
and write a starter one (``prefect-storage init``).

The file has Prefect 3's layout and step names, so one file serves both::

    build: [...]          # steps run before deploying (e.g. build_docker_image)
    push: [...]           # steps that upload the code (e.g. push_to_s3)
    pull: [...]           # steps a run executes to get the code (e.g. git_clone)
    deployments:
    - name: my-deployment
      entrypoint: flows/etl.py:etl
      parameters: {n: 3}
      work_pool: {name: my-pool, work_queue_name: null, job_variables: {}}
      schedules: [{cron: "0 * * * *"}]
      tags: [prod]

A deployment may override ``build``/``push``/``pull``. Build and push outputs fill
``{{ step-id.key }}`` placeholders of the pull steps and of the deployment (e.g.
``image: '{{ build-image.image }}'``); ``{{ prefect.blocks... }}``, ``{{ $ENV }}`` and
``{{ prefect.variables... }}`` stay templates until a run resolves them.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from prefect_storage.exceptions import DeploymentError, EntrypointError

logger = logging.getLogger("prefect_storage.deployments")

__all__ = ["DEFAULT_PREFECTIGNORE", "RECIPES", "deploy_project", "init_project", "load_project"]


def load_project(path: str | os.PathLike[str] = "prefect.yaml") -> dict[str, Any]:
    """The parsed ``prefect.yaml`` (a dict with at least ``deployments``)."""
    import yaml

    file = Path(path)
    if not file.is_file():
        raise DeploymentError(f"{file.resolve()} does not exist. Create one with `prefect-storage init`.")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise DeploymentError(f"{file} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise DeploymentError(f"{file} must hold a mapping with a `deployments` list.")
    deployments = data.get("deployments") or []
    if not isinstance(deployments, list) or not all(isinstance(d, dict) for d in deployments):
        raise DeploymentError(f"{file}: `deployments` must be a list of mappings.")
    for section in ("build", "push", "pull"):
        if data.get(section) is not None and not isinstance(data[section], list):
            raise DeploymentError(f"{file}: `{section}` must be a list of steps or null.")
    return data


def _select(deployments: list[dict[str, Any]], names: list[str], all_: bool, file: Path) -> list[dict[str, Any]]:
    available = [str(d.get("name")) for d in deployments]
    if not deployments:
        raise DeploymentError(f"{file} defines no deployments.")
    if all_ or (not names and len(deployments) == 1):
        return deployments
    if not names:
        raise DeploymentError(f"{file} defines several deployments ({', '.join(available)}): name one, or pass --all.")
    chosen = []
    for wanted in names:
        short = wanted.split("/", 1)[-1]
        match = [d for d in deployments if d.get("name") in (wanted, short)]
        if not match:
            raise DeploymentError(f"No deployment named {wanted!r} in {file}; it has: {', '.join(available)}.")
        chosen.extend(m for m in match if m not in chosen)
    return chosen


# -- flow name and parameters without running the code (when it cannot be loaded here) ---------


def _static_flow_info(entrypoint: str, root: Path) -> tuple[str, list[dict[str, Any]]]:
    from prefect_storage.serialization.entrypoint import split_entrypoint

    target, name, is_file = split_entrypoint(entrypoint)
    if not is_file:
        raise DeploymentError(f"Cannot read flow {entrypoint!r} without importing it; install its package here.")
    path = root / target
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name.split(".")[-1]:
            flow_name = node.name.replace("_", "-")
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call):
                    for kw in deco.keywords:
                        if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                            flow_name = str(kw.value.value)
            args = node.args
            positional = args.posonlyargs + args.args
            defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
            params = []
            for arg, default in list(zip(positional, defaults)) + list(zip(args.kwonlyargs, args.kw_defaults)):
                entry: dict[str, Any] = {"name": arg.arg, "required": default is None}
                if isinstance(default, ast.Constant):
                    entry["default"] = default.value
                params.append(entry)
            return flow_name, params
    raise DeploymentError(f"Flow function {name!r} not found in {path}.")


def flow_info(entrypoint: str, root: Path) -> tuple[str, list[dict[str, Any]]]:
    """The flow's name and parameter schema: loaded from the entrypoint, or read from
    its source when it cannot be imported here (missing dependencies)."""
    from prefect_storage.core.modern_flow import to_modern_flow
    from prefect_storage.serialization.entrypoint import load_entrypoint

    try:
        flow = to_modern_flow(load_entrypoint(entrypoint, root), entrypoint)
        return flow.name, flow.parameter_schema()
    except EntrypointError as exc:
        if "not found in" in str(exc) or "does not exist" in str(exc):
            raise
        logger.warning("Cannot load %s here (%s); reading the flow from its source instead.", entrypoint, exc)
        return _static_flow_info(entrypoint, root)


# -- deploy -----------------------------------------------------------------------------------


def _run_section(steps: list[Any] | None, outputs: dict[str, Any], done: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Run build/push steps once per distinct list; merge their outputs into ``outputs``."""
    from prefect_storage.deployments.steps.core import run_steps

    if not steps:
        return outputs
    key = json.dumps(steps, sort_keys=True, default=str) + json.dumps(sorted(k for k in outputs if k != "__flat__"))
    if key not in done:
        done[key] = run_steps(steps, dict(outputs))
    outputs.update(done[key])
    return outputs


def _schedules(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    from prefect_storage.deployments.deploy import normalize_schedules

    raw = list(config.get("schedules") or [])
    if config.get("schedule"):
        raw.append(config["schedule"])
    return normalize_schedules(schedules=raw)


def deploy_project(
    path: str | os.PathLike[str] = "prefect.yaml",
    names: list[str] | None = None,
    all_: bool = False,
    registry: Any = None,
    echo: Callable[[str], None] = print,
) -> list[Any]:
    """Deploy the selected deployments of ``path``; return their records."""
    from prefect_storage.deployments import templating
    from prefect_storage.deployments.deploy import _registry, record_deployment

    file = Path(path).resolve()
    project = load_project(file)
    root = file.parent
    chosen = _select(list(project.get("deployments") or []), list(names or []), all_, file)
    reg = _registry(registry)
    records = []
    origin = os.getcwd()
    done: dict[str, dict[str, Any]] = {}
    try:
        for config in chosen:
            os.chdir(root)
            name = config.get("name")
            if not name:
                raise DeploymentError(f"{file}: a deployment has no `name`.")
            entrypoint = config.get("entrypoint")
            if not entrypoint:
                raise DeploymentError(f"{file}: deployment {name!r} has no `entrypoint` (path/to/file.py:flow_name).")
            outputs: dict[str, Any] = {}
            build = config["build"] if "build" in config else project.get("build")
            push = config["push"] if "push" in config else project.get("push")
            pull = config["pull"] if "pull" in config else project.get("pull")
            _run_section(build, outputs, done)
            os.chdir(root)
            _run_section(push, outputs, done)
            os.chdir(root)
            pull_steps = templating.render_outputs_only(list(pull or []), outputs)
            rendered = templating.render_outputs_only({k: v for k, v in config.items() if k not in ("build", "push", "pull")}, outputs)
            work_pool = rendered.get("work_pool") or {}
            if isinstance(work_pool, str):
                work_pool = {"name": work_pool}
            flow_name, schema = flow_info(str(entrypoint), root)
            job_variables = dict(work_pool.get("job_variables") or {})
            record = record_deployment(
                flow_name,
                str(name),
                str(entrypoint),
                pull_steps or [{"prefect.deployments.steps.set_working_directory": {"directory": str(root)}}],
                parameter_schema=schema,
                parameters=rendered.get("parameters") or {},
                work_pool_name=work_pool.get("name"),
                work_queue_name=work_pool.get("work_queue_name"),
                job_variables=job_variables,
                tags=list(rendered.get("tags") or []),
                schedules=_schedules(rendered),
                description=rendered.get("description"),
                version=None if rendered.get("version") is None else str(rendered.get("version")),
                paused=bool(rendered.get("paused", False)),
                image=job_variables.get("image"),
                enforce_parameter_schema=bool(rendered.get("enforce_parameter_schema", True)),
                registry=reg,
            )
            steps = ", ".join(next(iter(s)).rsplit(".", 1)[-1] for s in record.spec["pull_steps"]) or "none"
            echo(
                f"Deployment '{record.full_name}' recorded: entrypoint {record.entrypoint}, pull steps [{steps}], "
                f"work pool {record.work_pool or '(any agent)'}, schedules {len(record.spec['schedules'])}, "
                f"tags {record.spec['tags'] or '[]'}"
            )
            records.append(record)
    finally:
        os.chdir(origin)
    return records


# -- init -------------------------------------------------------------------------------------

DEFAULT_PREFECTIGNORE = """\
# prefect-storage / Prefect ignore file: gitignore syntax; these files are not pushed
# python artifacts
__pycache__/
*.py[cod]
*$py.class
*.egg-info/
*.egg
# type checker and test caches
.mypy_cache/
.pytest_cache/
.ruff_cache/
.coverage
# environments and secrets
.env
.env.*
.venv/
env/
venv/
# editors
.idea/
.vscode/
*.swp
# version control
.git/
"""

RECIPES = ("git", "s3", "gcs", "azure", "docker", "local")

_RECIPE_FIELDS = {
    "git": ["repository", "branch"],
    "s3": ["bucket", "folder"],
    "gcs": ["bucket", "folder"],
    "azure": ["container", "folder"],
    "docker": ["image_name", "tag"],
    "local": [],
}


def _git(*args: str, cwd: Path) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _recipe(recipe: str, fields: Mapping[str, str], root: Path) -> dict[str, Any]:
    credentials = fields.get("credentials")
    if recipe == "git":
        step: dict[str, Any] = {"repository": fields["repository"], "branch": fields["branch"]}
        if credentials:
            step["credentials"] = credentials
        if fields.get("access_token"):
            step["access_token"] = fields["access_token"]
        return {"build": None, "push": None, "pull": [{"prefect.deployments.steps.git_clone": step}]}
    if recipe in ("s3", "gcs", "azure"):
        module, push_step, pull_step, where = {
            "s3": ("prefect_aws", "push_to_s3", "pull_from_s3", "bucket"),
            "gcs": ("prefect_gcp", "push_to_gcs", "pull_from_gcs", "bucket"),
            "azure": ("prefect_azure", "push_to_azure_blob_storage", "pull_from_azure_blob_storage", "container"),
        }[recipe]
        requires = {"s3": "prefect-aws>=0.5", "gcs": "prefect-gcp>=0.6", "azure": "prefect-azure>=0.4"}[recipe]
        push: dict[str, Any] = {"id": "push_code", "requires": requires, where: fields[where], "folder": fields["folder"]}
        pull: dict[str, Any] = {
            "id": "pull_code",
            "requires": requires,
            where: "{{ push_code." + where + " }}",
            "folder": "{{ push_code.folder }}",
        }
        if credentials:
            push["credentials"] = pull["credentials"] = credentials
        return {
            "build": None,
            "push": [{f"{module}.deployments.steps.{push_step}": push}],
            "pull": [{f"{module}.deployments.steps.{pull_step}": pull}],
        }
    if recipe == "docker":
        return {
            "build": [
                {
                    "prefect_docker.deployments.steps.build_docker_image": {
                        "id": "build-image",
                        "requires": "prefect-docker>=0.3.1",
                        "dockerfile": "auto",
                        "image_name": fields["image_name"],
                        "tag": fields["tag"],
                    }
                }
            ],
            "push": None,
            "pull": [{"prefect.deployments.steps.set_working_directory": {"directory": f"/opt/prefect/{root.name}"}}],
        }
    return {"build": None, "push": None, "pull": [{"prefect.deployments.steps.set_working_directory": {"directory": str(root)}}]}


def init_project(
    recipe: str,
    fields: Mapping[str, str] | None = None,
    directory: str | os.PathLike[str] = ".",
    name: str | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Write ``prefect.yaml`` (and ``.prefectignore`` unless present) for ``recipe``;
    return the files written."""
    import yaml

    from prefect_storage._version import __version__

    root = Path(directory).resolve()
    if recipe not in RECIPES:
        raise DeploymentError(f"Unknown recipe {recipe!r}; choose one of {', '.join(RECIPES)}.")
    values = dict(fields or {})
    if recipe == "git":
        values.setdefault("repository", _git("remote", "get-url", "origin", cwd=root) or "")
        values.setdefault("branch", _git("rev-parse", "--abbrev-ref", "HEAD", cwd=root) or "main")
    if recipe == "docker":
        values.setdefault("image_name", root.name.lower())
        values.setdefault("tag", "latest")
    missing = [f for f in _RECIPE_FIELDS[recipe] if not values.get(f)]
    if missing:
        raise DeploymentError(
            f"Recipe {recipe!r} needs {', '.join(missing)}: pass --field {missing[0]}=VALUE"
            + (" (or run it in a git checkout with an `origin` remote)." if recipe == "git" else ".")
        )
    target = root / "prefect.yaml"
    if target.exists() and not overwrite:
        raise DeploymentError(f"{target} already exists; pass --force to replace it.")
    document: dict[str, Any] = {"name": name or root.name, "prefect-version": __version__}
    document.update(_recipe(recipe, values, root))
    deployment: dict[str, Any] = {
        "name": None,
        "version": None,
        "tags": [],
        "description": None,
        "entrypoint": None,
        "parameters": {},
        "work_pool": {"name": None, "work_queue_name": None, "job_variables": {}},
        "schedules": [],
    }
    if recipe == "docker":
        deployment["work_pool"]["job_variables"] = {"image": "{{ build-image.image }}"}
    document["deployments"] = [deployment]
    header = (
        "# Welcome to your prefect.yaml file! Written by prefect-storage init; Prefect 3 reads it too.\n"
        "# Fill in the deployment's name, entrypoint (path/to/file.py:flow_name) and work pool, then run\n"
        "# `prefect-storage deploy`.\n\n"
    )
    target.write_text(header + yaml.safe_dump(document, sort_keys=False, default_flow_style=False), encoding="utf-8")
    written = [target]
    ignore = root / ".prefectignore"
    if not ignore.exists():
        ignore.write_text(DEFAULT_PREFECTIGNORE, encoding="utf-8")
        written.append(ignore)
    return written
