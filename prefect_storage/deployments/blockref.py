"""What ``{{ prefect.blocks.<type>.<name> }}`` and ``{{ prefect.variables.<name> }}`` resolve to.

* ``secret`` blocks resolve to their value. When no ``Secret`` block has that name,
  the classic secret chain is asked (environment, ``PREFECT__CONTEXT__SECRETS__NAME``,
  the secrets file, a secret manager), so a migrated classic flow's token keeps
  working without creating a block first.
* Any other block type resolves to the loaded block object (credentials blocks go
  straight to ``git_clone``, ``push_to_s3``...; their secret fields stay wrapped and
  are remembered for redaction once loaded).
* Variables come from ``$PREFECT_STORAGE_VARIABLE_<NAME>`` or the key-value store.
"""

from __future__ import annotations

from typing import Any

__all__ = ["block_value", "load_block", "variable"]


def load_block(type_slug: str, name: str) -> Any:
    """The saved block ``name`` of type ``type_slug`` (``s3-bucket``, ``github-credentials``...)."""
    import prefect_storage.blocks  # noqa: F401  (defines, and so registers, every built-in block type)
    from prefect_storage.blocks.core import get_block_class

    return get_block_class(type_slug).load(name)


def _remember(value: Any) -> None:
    from prefect_storage.secrets import remember_secret

    if isinstance(value, str) and value:
        remember_secret(value)
    elif isinstance(value, dict):
        for item in value.values():
            _remember(item)


def block_value(type_slug: str, name: str) -> Any:
    """See the module docstring."""
    from prefect_storage.exceptions import SecretNotFoundError, TemplateError

    if type_slug == "secret":
        try:
            value = load_block("secret", name).get()
        except LookupError as block_error:  # no such block: the classic secret chain
            from prefect_storage import secrets

            try:
                value = secrets.resolve(name)
            except SecretNotFoundError:
                raise TemplateError(
                    f"{{{{ prefect.blocks.secret.{name} }}}}: no Secret block named {name!r} "
                    f"({block_error}) and no classic secret of that name. Create it with "
                    f"`prefect-storage block create secret {name}`."
                ) from None
        _remember(value)
        return value
    try:
        return load_block(type_slug, name)
    except LookupError as exc:
        raise TemplateError(f"{{{{ prefect.blocks.{type_slug}.{name} }}}}: {exc}") from None


def variable(name: str) -> Any:
    """A variable from the key-value store (``LookupError`` when it is not set)."""
    try:
        from prefect_storage.backend import get_key_value  # type: ignore[attr-defined]
    except ImportError:
        raise LookupError(name) from None
    try:
        return get_key_value(name)
    except Exception as exc:  # the KV store says the key is absent
        raise LookupError(name) from exc
