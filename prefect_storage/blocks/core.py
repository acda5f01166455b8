"""``Block``: a named, typed bundle of settings saved in the registry (Prefect's block API).

A block type declares its fields; secret fields hold :class:`SecretStr` values that
never print (``SecretStr('**********')``), are encrypted at rest
(:mod:`prefect_storage.blocks.crypto`) and are registered for redaction as soon as
they exist in the process::

    Secret(value="s3cr3t").save("my-token", overwrite=True)
    Secret.load("my-token").get()            # 's3cr3t'
    S3Bucket(bucket_name="code", credentials=AwsCredentials.load("prod")).save("code")

Nested blocks that were saved are stored as references and loaded again by name;
unsaved ones are stored inline. No pydantic: fields are plain attributes.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from prefect_storage.exceptions import BlockNotFoundError, BlockNotSavedError, BlockValidationError
from prefect_storage.secrets import remember_secret

__all__ = ["Block", "Field", "SecretStr", "block_types", "get_block_class"]

B = TypeVar("B", bound="Block")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_MISSING: Any = object()


class SecretStr:
    """A secret value (usually a string) that never shows in ``repr``/``str``/logs."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        self._value = value
        for text in _texts(value):
            remember_secret(text)

    def get_secret_value(self) -> Any:
        """The value itself."""
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and self._value == other._value

    def __hash__(self) -> int:
        return hash(json.dumps(self._value, sort_keys=True, default=str))

    def __copy__(self) -> SecretStr:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> SecretStr:
        return self

    def __reduce__(self) -> Any:
        raise TypeError("A SecretStr cannot be pickled: pass the block's name and load it where it is needed.")


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value, json.dumps(value)[1:-1]]
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in _texts(v)] + [json.dumps(value)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _texts(v)]
    return []


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of a block type."""

    default: Any = None
    secret: bool = False
    required: bool = False
    block: str | None = None  # slug of the block type a nested block must have
    aliases: tuple[str, ...] = ()
    description: str = ""


_TYPES: dict[str, type[Block]] = {}


def block_types() -> dict[str, type[Block]]:
    """Every block type by slug (``secret``, ``aws-credentials``, ``s3-bucket``...)."""
    return dict(_TYPES)


def get_block_class(slug: str) -> type[Block]:
    """The block class registered under ``slug``."""
    try:
        return _TYPES[slug]
    except KeyError:
        raise BlockNotFoundError(f"Unknown block type {slug!r}. Known types: {', '.join(sorted(_TYPES))}.") from None


class Block:
    """Base class of every block type (see the module docstring)."""

    _block_type_slug: ClassVar[str] = ""
    _block_type_name: ClassVar[str] = ""
    _fields: ClassVar[dict[str, Field]] = {}
    _block_document_name: str | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("_block_type_slug"):
            _TYPES[cls._block_type_slug] = cls
            if not cls.__dict__.get("_block_type_name"):
                cls._block_type_name = cls.__name__

    def __init__(self, **data: Any) -> None:
        aliases = {alias: name for name, f in self._fields.items() for alias in f.aliases}
        unknown = []
        values: dict[str, Any] = {}
        for key, value in data.items():
            name = aliases.get(key, key)
            if name not in self._fields:
                unknown.append(key)
            else:
                values[name] = value
        if unknown:
            raise BlockValidationError(
                f"{type(self).__name__} has no field(s) {', '.join(map(repr, unknown))}; "
                f"its fields are: {', '.join(self._fields)}."
            )
        for name, spec in self._fields.items():
            value = values.get(name, _MISSING)
            if value is _MISSING or value is None:
                if spec.required:
                    raise BlockValidationError(f"{type(self).__name__} needs the field {name!r}.")
                value = _copy_default(spec.default)
            object.__setattr__(self, name, self._coerce(name, spec, value))
        object.__setattr__(self, "_block_document_name", None)
        self._validate()

    def _validate(self) -> None:
        """Cross-field checks of a block type (override)."""

    @staticmethod
    def _coerce(name: str, spec: Field, value: Any) -> Any:
        if value is None:
            return None
        if spec.secret and not isinstance(value, SecretStr):
            return SecretStr(value)
        if spec.block and isinstance(value, Mapping):
            return get_block_class(spec.block)(**value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        spec = self._fields.get(name)
        if spec is not None:
            value = self._coerce(name, spec, value)
        object.__setattr__(self, name, value)

    # -- identity -------------------------------------------------------------------

    @classmethod
    def get_block_type_slug(cls) -> str:
        """``secret``, ``s3-bucket``...: the type's name in references and the registry."""
        return cls._block_type_slug

    def get_block_placeholder(self) -> str:
        """``prefect.blocks.<type>.<name>``: how pull steps and templates refer to this saved block."""
        if not self._block_document_name:
            raise BlockNotSavedError(
                f"This {type(self).__name__} has not been saved: call .save('name') before referencing it."
            )
        return f"prefect.blocks.{self._block_type_slug}.{self._block_document_name}"

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(
            getattr(self, n) == getattr(other, n) for n in self._fields  # type: ignore[misc]
        )

    __hash__ = None  # type: ignore[assignment]

    def model_dump(self) -> dict[str, Any]:
        """The fields as a dict (secret fields stay :class:`SecretStr`; nested blocks are dicts)."""
        return {
            name: getattr(self, name).model_dump() if isinstance(getattr(self, name), Block) else getattr(self, name)
            for name in self._fields
        }

    def masked(self) -> dict[str, Any]:
        """The fields for display: secret values as ``********``."""
        out: dict[str, Any] = {}
        for name in self._fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                out[name] = "********"
            elif isinstance(value, Block):
                ref = value._block_document_name
                out[name] = f"{{{{ {value.get_block_placeholder()} }}}}" if ref else value.masked()
            else:
                out[name] = value
        return out

    # -- persistence ------------------------------------------------------------------

    def save(self, name: str, overwrite: bool = False) -> str:
        """Save under ``name`` (lower-case letters, digits and dashes); return the document id."""
        if not isinstance(name, str) or not _NAME.match(name):
            raise BlockValidationError(
                f"Block name {name!r} is not valid: use lower-case letters, digits and dashes (e.g. 'my-token')."
            )
        from prefect_storage.blocks import store

        document_id = store.save_document(self._block_type_slug, name, self._document(), overwrite=overwrite)
        object.__setattr__(self, "_block_document_name", name)
        return document_id

    def _document(self) -> dict[str, Any]:
        from prefect_storage.blocks import crypto

        document: dict[str, Any] = {}
        for name in self._fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                document[name] = crypto.encrypt(value.get_secret_value())
            elif isinstance(value, Block):
                if value._block_document_name:
                    document[name] = {"$ref": {"type": value._block_type_slug, "name": value._block_document_name}}
                else:
                    document[name] = {"$inline": {"type": value._block_type_slug, "data": value._document()}}
            else:
                document[name] = value
        return document

    @classmethod
    def _from_document(cls: type[B], document: Mapping[str, Any]) -> B:
        from prefect_storage.blocks import crypto

        values: dict[str, Any] = {}
        for name in cls._fields:
            if name not in document:
                continue
            value = document[name]
            if isinstance(value, Mapping) and "$ref" in value:
                ref = value["$ref"]
                value = get_block_class(ref["type"]).load(ref["name"])
            elif isinstance(value, Mapping) and "$inline" in value:
                inline = value["$inline"]
                value = get_block_class(inline["type"])._from_document(inline["data"])
            elif crypto.is_encrypted(value):
                value = SecretStr(crypto.decrypt(value))
            values[name] = value
        return cls(**values)

    @classmethod
    def load(cls: type[B], name: str, validate: bool = True) -> B:
        """The block saved as ``name`` (or ``"<type>/<name>"`` on :class:`Block` itself)."""
        from prefect_storage.blocks import store

        target: type[Block] = cls
        if "/" in name:
            slug, _, name = name.partition("/")
            target = get_block_class(slug)
            if cls is not Block and not issubclass(target, cls):
                raise BlockValidationError(f"{name!r} names a {slug} block, not a {cls.__name__}.")
        elif not cls._block_type_slug:
            raise BlockValidationError("Block.load needs 'type/name' (e.g. 'secret/my-token').")
        document = store.read_document(target._block_type_slug, name)
        block = target._from_document(document)
        object.__setattr__(block, "_block_document_name", name)
        return block  # type: ignore[return-value]

    @classmethod
    def delete(cls, name: str) -> None:
        """Delete the saved block ``name`` of this type."""
        from prefect_storage.blocks import store

        store.delete_document(cls._block_type_slug, name)


def _copy_default(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.loads(json.dumps(value))
    return value
