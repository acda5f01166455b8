"""Running deployment steps: ``{"fully.qualified.step": {"id": ..., "requires": ..., **inputs}}``.

Step names resolve to this package's functions whether written the Prefect way
(``prefect.deployments.steps.git_clone``, ``prefect_aws.deployments.steps.push_to_s3``,
``prefect_docker.deployments.steps.build_docker_image``...) or ours
(``prefect_storage.deployments.steps.git_clone``). Any other dotted name is imported
as a user function, as Prefect does; a name under a Prefect namespace that is not a
known step is an :class:`UnknownStepError` listing the known ones.

Inputs are rendered (see :mod:`prefect_storage.deployments.templating`) just before
the step runs; a step's dict result is recorded under its ``id`` for later steps.
``requires:`` is checked, never installed silently: with
``PREFECT_STORAGE_ALLOW_INSTALL=true`` (an agent started with ``--allow-install``)
missing packages are pip-installed first.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prefect_storage.deployments import templating
from prefect_storage.exceptions import (
    StepError,
    StepExecutionError,
    StepRequirementError,
    StorageError,
    UnknownStepError,
)

logger = logging.getLogger("prefect_storage.deployments.steps")

__all__ = ["check_requirements", "known_steps", "resolve_step", "run_step", "run_steps", "step_name"]

# step function name -> module inside prefect_storage.deployments.steps
_OWN_STEPS = {
    "git_clone": "pull",
    "pull_from_remote_storage": "pull",
    "pull_with_block": "pull",
    "set_working_directory": "pull",
    "run_shell_script": "utility",
    "pip_install_requirements": "utility",
    "push_to_s3": "push",
    "pull_from_s3": "push",
    "push_to_gcs": "push",
    "pull_from_gcs": "push",
    "push_to_azure_blob_storage": "push",
    "pull_from_azure_blob_storage": "push",
    "build_docker_image": "build",
    "push_docker_image": "build",
    "load_classic_flow": "classic",
}

# Prefect and integration namespaces whose steps are ours.
_ALIAS_PREFIXES = (
    "prefect.deployments.steps.pull.",
    "prefect.deployments.steps.utility.",
    "prefect.deployments.steps.",
    "prefect_aws.deployments.steps.",
    "prefect_aws.deployment.steps.",
    "prefect_gcp.deployments.steps.",
    "prefect_gcp.deployment.steps.",
    "prefect_azure.deployments.steps.",
    "prefect_azure.deployment.steps.",
    "prefect_docker.deployments.steps.",
    "prefect_docker.deployment.steps.",
    "prefect_storage.deployments.steps.pull.",
    "prefect_storage.deployments.steps.utility.",
    "prefect_storage.deployments.steps.push.",
    "prefect_storage.deployments.steps.build.",
    "prefect_storage.deployments.steps.classic.",
    "prefect_storage.deployments.steps.",
)
_RESERVED_NAMESPACES = ("prefect.", "prefect_aws.", "prefect_gcp.", "prefect_azure.", "prefect_docker.", "prefect_storage.",
                        "prefect_github.", "prefect_gitlab.", "prefect_bitbucket.")

# Prefect integration packages -> what our own implementation of their steps imports.
_REQUIREMENT_MODULES = {
    "prefect": [],
    "prefect-aws": ["s3fs"],
    "prefect-gcp": ["gcsfs"],
    "prefect-azure": ["adlfs"],
    "prefect-docker": ["docker"],
    "prefect-github": [],
    "prefect-gitlab": [],
    "prefect-bitbucket": [],
    "prefect-shell": [],
}
_REQUIREMENT_EXTRAS = {"prefect-aws": "s3", "prefect-gcp": "gcs", "prefect-azure": "azure", "prefect-docker": "docker"}


def known_steps() -> list[str]:
    """The step names this project implements (write them with any known prefix)."""
    return sorted(_OWN_STEPS)


def step_name(step: Mapping[str, Any]) -> str:
    if not isinstance(step, Mapping) or len(step) != 1:
        raise StepError(
            f"A step must be a mapping with exactly one key, the step's name (got {step!r}); e.g. "
            "{'prefect.deployments.steps.git_clone': {'repository': ...}}."
        )
    return str(next(iter(step)))


def resolve_step(name: str) -> Callable[..., Any]:
    """The function behind step ``name``."""
    for prefix in _ALIAS_PREFIXES:
        if name.startswith(prefix):
            short = name[len(prefix) :]
            if short in _OWN_STEPS:
                module = importlib.import_module(f"prefect_storage.deployments.steps.{_OWN_STEPS[short]}")
                return getattr(module, short)  # type: ignore[no-any-return]
    if name in _OWN_STEPS:
        module = importlib.import_module(f"prefect_storage.deployments.steps.{_OWN_STEPS[name]}")
        return getattr(module, name)  # type: ignore[no-any-return]
    if not name.startswith(_RESERVED_NAMESPACES) and "." in name:
        module_name, _, attr = name.rpartition(".")
        try:
            module = importlib.import_module(module_name)
            func = getattr(module, attr)
        except (ImportError, AttributeError) as exc:
            raise UnknownStepError(
                f"Step {name!r} is not a known step and cannot be imported ({exc}). Known steps: "
                f"{', '.join(known_steps())} (prefixed prefect.deployments.steps., prefect_aws.deployments.steps., "
                "prefect_storage.deployments.steps., ...)."
            ) from None
        if callable(func):
            return func  # type: ignore[no-any-return]
    raise UnknownStepError(
        f"Unknown step {name!r}. Known steps: {', '.join(known_steps())} (write them as "
        "prefect.deployments.steps.<name>, prefect_aws/gcp/azure/docker.deployments.steps.<name> or "
        "prefect_storage.deployments.steps.<name>)."
    )


def _parse_requirement(text: str) -> tuple[str, str]:
    import re

    match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$", text)
    if not match:
        raise StepRequirementError(f"Cannot read requirement {text!r}.")
    return match.group(1).lower().replace("_", "-"), match.group(3).strip()


def _satisfied(name: str, spec: str) -> bool:
    import importlib.metadata

    try:
        installed = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    if not spec:
        return True
    try:
        from packaging.specifiers import SpecifierSet

        return installed in SpecifierSet(spec)
    except ImportError:  # no packaging: presence is all we can check
        return True


def check_requirements(requires: str | Iterable[str] | None, step: str = "step", allow_install: bool | None = None) -> None:
    """Check ``requires:`` (a string or a list). Prefect integration packages are
    checked as the modules our step implementations need; others as installed
    distributions. Missing ones raise :class:`StepRequirementError` unless installs
    are allowed."""
    if not requires:
        return
    items = [requires] if isinstance(requires, str) else list(requires)
    texts = [part.strip() for item in items for part in str(item).split(",") if part.strip()] if len(items) == 1 else items
    if len(items) == 1 and any(op in items[0] for op in (">", "<", "=", "~")) and "," in items[0]:
        texts = [items[0]]  # one requirement with a comma in its version range
    missing: list[str] = []
    for text in texts:
        name, spec = _parse_requirement(str(text))
        if name in _REQUIREMENT_MODULES:
            for module in _REQUIREMENT_MODULES[name]:
                if importlib.util.find_spec(module) is None:
                    extra = _REQUIREMENT_EXTRAS.get(name, "all")
                    missing.append(f"{module} (for {text}; pip install 'prefect-storage[{extra}]')")
            continue
        if not _satisfied(name, spec):
            missing.append(str(text))
    if not missing:
        return
    if allow_install is None:
        from prefect_storage import config

        allow_install = config.allow_install()
    if allow_install:
        packages = [m.split(" (for ")[0] for m in missing]
        logger.info("Installing %s for step %s (installs allowed)", packages, step)
        done = subprocess.run([sys.executable, "-m", "pip", "install", *packages], capture_output=True, text=True)
        if done.returncode == 0:
            importlib.invalidate_caches()
            return
        raise StepRequirementError(f"Step {step}: installing {packages} failed: {done.stderr.strip()[-500:]}")
    raise StepRequirementError(
        f"Step {step} requires {', '.join(missing)}, which is not installed here. Install it where the step runs "
        "(or start the agent with --allow-install to let it pip-install step requirements)."
    )


def _label(name: str, step_id: str | None) -> str:
    return f"{name!r}" + (f" (id {step_id!r})" if step_id else "")


def run_step(step: Mapping[str, Any], outputs: dict[str, Any] | None = None, allow_install: bool | None = None) -> Any:
    """Run one step with its inputs rendered against ``outputs``; record and return its result."""
    outputs = {} if outputs is None else outputs
    name = step_name(step)
    raw = dict(step[name] or {})
    step_id = raw.pop("id", None)
    requires = raw.pop("requires", None)
    label = _label(name, step_id)
    func = resolve_step(name)
    check_requirements(requires, label, allow_install)
    inputs = templating.render(raw, outputs)
    logger.info("Running step %s", label)
    try:
        result = func(**inputs)
    except TypeError as exc:
        if "argument" in str(exc):
            raise StepExecutionError(f"Step {label} was given bad arguments: {exc}") from exc
        raise StepExecutionError(f"Step {label} failed: {type(exc).__name__}: {exc}") from exc
    except StorageError as exc:
        # keep the typed error's kind (auth, not found...) visible, and say which step
        raise StepExecutionError(f"Step {label} failed: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:
        raise StepExecutionError(f"Step {label} failed: {type(exc).__name__}: {exc}") from exc
    templating.record_output(outputs, step_id, result)
    return result


def run_steps(
    steps: Iterable[Mapping[str, Any]] | None, outputs: dict[str, Any] | None = None, allow_install: bool | None = None
) -> dict[str, Any]:
    """Run ``steps`` in order; return the outputs (by step id, and flat)."""
    from prefect_storage.deployments.steps import pull

    outputs = {} if outputs is None else outputs
    with pull.pull_context():
        for step in steps or []:
            run_step(step, outputs, allow_install)
    return outputs
