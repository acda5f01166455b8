"""``{{ ... }}`` placeholders in steps and deployments, resolved at the moment of use.

* ``{{ step-id.key }}`` — an output of an earlier step (``{{ key }}`` alone: the most
  recent output of that name);
* ``{{ $NAME }}`` — the environment variable ``NAME``;
* ``{{ prefect.blocks.secret.NAME }}`` — a ``Secret`` block's value;
  ``{{ prefect.blocks.<type-slug>.<name> }}`` — a block document's fields (a dict);
* ``{{ prefect.variables.NAME }}`` — a variable (the registry's key-value store, or
  ``$PREFECT_STORAGE_VARIABLE_<NAME>``).

A value that is exactly one placeholder is replaced by the resolved object (a dict
stays a dict); placeholders inside longer text are replaced by their text. What is
stored in the registry is always the template: steps are rendered only in the
process that runs them, and resolved secrets are remembered for redaction.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from prefect_storage.exceptions import TemplateError

__all__ = ["PLACEHOLDER", "placeholders", "render", "render_outputs_only"]

PLACEHOLDER = re.compile(r"\{\{\s*([\w$][\w\-.$]*)\s*\}\}")


def placeholders(value: Any) -> list[str]:
    """Every placeholder expression in ``value`` (nested dicts/lists included)."""
    found: list[str] = []
    if isinstance(value, str):
        found.extend(PLACEHOLDER.findall(value))
    elif isinstance(value, Mapping):
        for item in value.values():
            found.extend(placeholders(item))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found.extend(placeholders(item))
    return found


def _dig(value: Any, path: list[str], expression: str) -> Any:
    for part in path:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif hasattr(value, part):
            value = getattr(value, part)
        else:
            raise TemplateError(f"{{{{ {expression} }}}}: the value has no field {part!r}.")
    return value


def load_block_value(type_slug: str, name: str) -> Any:
    """The value of block ``name`` of type ``type_slug``: a Secret's value, else its fields."""
    from prefect_storage.deployments import blockref

    return blockref.block_value(type_slug, name)


def variable_value(name: str) -> Any:
    env_name = f"PREFECT_STORAGE_VARIABLE_{name.upper()}"
    if env_name in os.environ:
        return os.environ[env_name]
    try:
        from prefect_storage.deployments import blockref

        return blockref.variable(name)
    except LookupError:
        raise TemplateError(
            f"Variable {name!r} is not set: store it with `prefect-storage kv set {name} VALUE` or set "
            f"${env_name} where the deployment runs."
        ) from None


def _resolve(expression: str, outputs: Mapping[str, Any], keep_unknown_steps: bool) -> Any:
    if expression.startswith("$"):
        name = expression[1:]
        if name not in os.environ:
            raise TemplateError(f"Environment variable {name!r} ({{{{ {expression} }}}}) is not set where this step runs.")
        return os.environ[name]
    parts = expression.split(".")
    if parts[0] == "prefect" and len(parts) >= 2:
        if parts[1] == "blocks" and len(parts) >= 4:
            value = load_block_value(parts[2], parts[3])  # remembers its secret fields for redaction
            return _dig(value, parts[4:], expression)
        if parts[1] == "variables" and len(parts) >= 3:
            return _dig(variable_value(parts[2]), parts[3:], expression)
        raise TemplateError(
            f"Unknown placeholder {{{{ {expression} }}}}: use prefect.blocks.<type>.<name> or prefect.variables.<name>."
        )
    head, rest = parts[0], parts[1:]
    if head in outputs and isinstance(outputs[head], Mapping) and (not rest or rest[0] in outputs[head]):
        return _dig(outputs[head], rest, expression)
    if not rest and head in outputs:
        return outputs[head]
    # `{{ pull_code.folder }}` before any step has id pull_code: fall back to the latest
    # output called `folder` (Prefect's outputs are merged flat the same way).
    flat = outputs.get("__flat__", {})
    if rest and rest[0] in flat and head not in outputs:
        return _dig(flat[rest[0]], rest[1:], expression)
    if keep_unknown_steps:
        raise KeyError(expression)
    known = sorted(k for k in outputs if k != "__flat__")
    raise TemplateError(
        f"Placeholder {{{{ {expression} }}}} names no earlier step output (step ids so far: {known or 'none'})."
    )


def render(
    value: Any,
    outputs: Mapping[str, Any] | None = None,
    *,
    keep: Callable[[str], bool] | None = None,
    keep_unknown_steps: bool = False,
) -> Any:
    """``value`` with every placeholder resolved (see the module docstring).

    ``keep(expression)`` true leaves that placeholder as text; ``keep_unknown_steps``
    leaves placeholders naming unknown step outputs as text instead of raising.
    """
    outputs = outputs or {}
    if isinstance(value, Mapping):
        return {k: render(v, outputs, keep=keep, keep_unknown_steps=keep_unknown_steps) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, outputs, keep=keep, keep_unknown_steps=keep_unknown_steps) for v in value]
    if not isinstance(value, str) or "{{" not in value:
        return value

    def one(expression: str, original: str) -> tuple[Any, bool]:
        if keep is not None and keep(expression):
            return original, False
        try:
            return _resolve(expression, outputs, keep_unknown_steps), True
        except KeyError as exc:
            if isinstance(exc, TemplateError):
                raise
            return original, False

    whole = PLACEHOLDER.fullmatch(value.strip())
    if whole:
        resolved, _ = one(whole.group(1), value)
        return resolved

    def substitute(match: re.Match[str]) -> str:
        resolved, done = one(match.group(1), match.group(0))
        return str(resolved) if done else match.group(0)

    return PLACEHOLDER.sub(substitute, value)


def is_runtime_only(expression: str) -> bool:
    """Placeholders that must stay templates in what is stored: environment, blocks, variables."""
    return expression.startswith("$") or expression.startswith("prefect.")


def render_outputs_only(value: Any, outputs: Mapping[str, Any]) -> Any:
    """Deploy time: fill in build/push step outputs (image names, buckets) and keep
    environment, block and variable placeholders (and unknown step ids) for run time."""
    return render(value, outputs, keep=is_runtime_only, keep_unknown_steps=True)


def record_output(outputs: dict[str, Any], step_id: str | None, result: Any) -> None:
    """Merge a step's result into ``outputs`` (by id, and flat by key)."""
    if not isinstance(result, Mapping):
        return
    flat = outputs.setdefault("__flat__", {})
    flat.update(result)
    outputs.update(result)
    if step_id:
        outputs[step_id] = dict(result)
