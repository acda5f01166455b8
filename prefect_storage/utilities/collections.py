"""Classic ``prefect.utilities.collections``: ``DotDict`` and the nested-dict helpers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any

__all__ = ["DotDict", "as_nested_dict", "dict_to_flatdict", "flatdict_to_dict", "flatten_seq", "merge_dicts"]


class DotDict(MutableMapping[str, Any]):
    """A dict whose keys are also attributes: ``d.a == d["a"]``; ``to_dict()`` gives plain dicts."""

    def __init__(self, init_dict: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        if init_dict:
            self.update(init_dict)
        self.update(kwargs)

    def __getitem__(self, key: str) -> Any:
        return self.__dict__[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.__dict__[key] = value

    def __delitem__(self, key: str) -> None:
        del self.__dict__[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__)

    def __len__(self) -> int:
        return len(self.__dict__)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {', '.join(sorted(repr(k) for k in self))}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def copy(self) -> DotDict:
        return type(self)(self.__dict__.copy())

    def to_dict(self) -> dict[str, Any]:
        """A plain ``dict`` copy, nested ``DotDict`` values converted too."""
        return as_nested_dict(self, dict)  # type: ignore[return-value]


def as_nested_dict(obj: Any, dct_class: type = DotDict) -> Any:
    """Convert ``obj`` and every dict inside it (also inside lists, tuples, sets) to ``dct_class``."""
    if isinstance(obj, (list, tuple, set)):
        return type(obj)(as_nested_dict(d, dct_class) for d in obj)
    if isinstance(obj, Mapping):
        return dct_class({k: as_nested_dict(v, dct_class) for k, v in obj.items()})
    return obj


def merge_dicts(d1: Mapping[str, Any], d2: Mapping[str, Any]) -> dict[str, Any]:
    """``d1`` updated by ``d2``, recursing where both hold a mapping under the same key."""
    out = dict(d1)
    for key, value in d2.items():
        if isinstance(out.get(key), Mapping) and isinstance(value, Mapping):
            out[key] = merge_dicts(out[key], value)
        else:
            out[key] = value
    return out


def dict_to_flatdict(dct: Mapping[str, Any], parent: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """``{"a": {"b": 1}}`` -> ``{("a", "b"): 1}``."""
    items: dict[tuple[str, ...], Any] = {}
    for key, value in dct.items():
        path = (*parent, key)
        if isinstance(value, Mapping) and value:
            items.update(dict_to_flatdict(value, path))
        else:
            items[path] = value
    return items


def flatdict_to_dict(dct: Mapping[tuple[str, ...], Any], dct_class: type = dict) -> Any:
    """The inverse of :func:`dict_to_flatdict`."""
    result: Any = dct_class()
    for path, value in dct.items():
        node = result
        for key in path[:-1]:
            node = node.setdefault(key, dct_class())
        node[path[-1]] = value
    return result


def flatten_seq(seq: Iterable[Any]) -> Iterator[Any]:
    """Yield the leaves of nested lists, tuples and sets, depth first."""
    for item in seq:
        if isinstance(item, (list, tuple, set)):
            yield from flatten_seq(item)
        else:
            yield item
