"""Settings whose values may be secrets: blocks, ``SecretStr``-like objects, ``$VAR`` templates.

The runner layer sits below ``blocks/`` and never imports it: a block is recognised
by duck typing (it has ``get_block_placeholder()``), a secret string by
``get_secret_value()``. Values are resolved at the moment of use and every resolved
secret is registered with the redaction layer, so it never reaches a log or an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefect_storage.exceptions import BlockNotSavedError
from prefect_storage.secrets import remember_secret, render, template_names


def is_block(value: Any) -> bool:
    """Whether ``value`` looks like a block (ours or Prefect's)."""
    return callable(getattr(value, "get_block_placeholder", None)) and not isinstance(value, type)


def is_secret_str(value: Any) -> bool:
    return callable(getattr(value, "get_secret_value", None))


def placeholder(block: Any) -> str:
    """``{{ prefect.blocks.<type>.<name> }}`` for a saved block; :class:`BlockNotSavedError` otherwise."""
    try:
        reference = block.get_block_placeholder()
    except BlockNotSavedError:
        raise
    except Exception as exc:  # a foreign block type with its own error
        raise BlockNotSavedError(
            f"{type(block).__name__} must be saved with .save('name') before it can be referenced: {exc}"
        ) from None
    return "{{ " + str(reference) + " }}"


def block_value(block: Any) -> Any:
    """The value a block stands for: ``get()`` (Secret), ``.value`` (String/JSON), else its fields."""
    getter = getattr(block, "get", None)
    if callable(getter) and not isinstance(block, Mapping):
        value = getter()
    elif hasattr(block, "value"):
        value = block.value
    else:
        dump = getattr(block, "model_dump", None) or getattr(block, "to_dict", None)
        value = dump() if callable(dump) else vars(block)
    return reveal(value)


def reveal(value: Any) -> Any:
    """Resolve ``value`` for use now: blocks, secret strings and ``$VAR`` templates, recursively.

    Every secret-looking result is registered for redaction.
    """
    if isinstance(value, str):
        if "$" in value and template_names(value):
            return render(value)  # render() registers what it resolves
        return value
    if is_secret_str(value):
        secret = value.get_secret_value()
        if isinstance(secret, str):
            remember_secret(secret)
        return secret
    if is_block(value):
        resolved = block_value(value)
        if isinstance(resolved, str):
            remember_secret(resolved)
        return resolved
    if isinstance(value, Mapping):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(reveal(item) for item in value)
    return value


def to_template(value: Any, *, where: str) -> Any:
    """``value`` as it may be written into a pull step: blocks become placeholders,
    templates stay templates, and a literal secret string is refused."""
    if is_block(value):
        return placeholder(value)
    if is_secret_str(value):
        raise ValueError(
            f"{where} holds a literal secret: save it as a Secret block (Secret(value=...).save('name')) "
            "or use a $VARIABLE template before converting this storage to a pull step."
        )
    if isinstance(value, Mapping):
        return {key: to_template(item, where=where) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_template(item, where=where) for item in value]
    return value
