"""Cache validators (classic ``prefect.engine.cache_validators``): may a ``Cached``
state be reused, given the task's current inputs and the run's parameters?

Signature: ``validator(state, inputs, parameters) -> bool``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "all_inputs",
    "all_parameters",
    "duration_only",
    "never_use",
    "partial_inputs_only",
    "partial_parameters_only",
    "tokenize",
]

Validator = Callable[[Any, dict[str, Any], dict[str, Any]], bool]


def tokenize(value: Any) -> str:
    """A stable digest of ``value`` for input comparison: ``dask.base.tokenize`` when Dask
    is installed (as in the classic engine, so stored hashes compare equal), else a digest
    of its pickle (or repr)."""
    try:
        from dask.base import tokenize as dask_tokenize
    except ImportError:
        pass
    else:
        return dask_tokenize(value)  # type: ignore[no-any-return]
    import hashlib
    import pickle

    try:
        import cloudpickle

        raw = cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        raw = repr(value).encode()
    return hashlib.md5(raw, usedforsecurity=False).hexdigest()


def never_use(state: Any, inputs: dict[str, Any], parameters: dict[str, Any]) -> bool:
    """Never reuse a cache (the default without ``cache_for``)."""
    return False


def duration_only(state: Any, inputs: dict[str, Any], parameters: dict[str, Any]) -> bool:
    """Reuse until the cache expires, whatever the inputs (the default with ``cache_for``)."""
    expires = state.cached_result_expiration
    return expires is None or expires > datetime.datetime.now(datetime.timezone.utc)


def all_inputs(state: Any, inputs: dict[str, Any], parameters: dict[str, Any]) -> bool:
    """Reuse while not expired and every input equals the cached run's."""
    if not duration_only(state, inputs, parameters):
        return False
    hashed = getattr(state, "hashed_inputs", None)
    if hashed is not None:
        return hashed == {key: tokenize(value) for key, value in inputs.items()}
    return {key: res.value for key, res in state.cached_inputs.items()} == inputs


def all_parameters(state: Any, inputs: dict[str, Any], parameters: dict[str, Any]) -> bool:
    """Reuse while not expired and the run's parameters equal the cached run's."""
    if not duration_only(state, inputs, parameters):
        return False
    return state.cached_parameters == parameters


def partial_parameters_only(validate_on: Iterable[str] | None = None) -> Validator:
    """A validator comparing only the parameters named in ``validate_on``."""

    def _partial_parameters_only(state: Any, inputs: dict[str, Any], parameters: dict[str, Any]) -> bool:
        parameters = parameters or {}
        if not duration_only(state, inputs, parameters):
            return False
        if validate_on is None:
            return True
        cached = state.cached_parameters or {}
        provided = {k: v for k, v in parameters.items() if k in validate_on}
        needed = {k: v for k, v in cached.items() if k in validate_on}
        return provided == needed

    _partial_parameters_only.validator_kwargs = {"validate_on": validate_on}  # type: ignore[attr-defined]
    return _partial_parameters_only


def partial_inputs_only(validate_on: Iterable[str] | None = None) -> Validator:
    """A validator comparing only the inputs named in ``validate_on``."""

    def _partial_inputs_only(state: Any, inputs: dict[str, Any], parameters: dict[str, Any]) -> bool:
        inputs = inputs or {}
        if not duration_only(state, inputs, parameters):
            return False
        if validate_on is None:
            return True
        hashed = getattr(state, "hashed_inputs", None)
        if hashed is not None:
            provided = {k: tokenize(v) for k, v in inputs.items() if k in validate_on}
            needed = {k: v for k, v in hashed.items() if k in validate_on}
            return provided == needed
        cached = {key: res.value for key, res in state.cached_inputs.items()}
        provided = {k: v for k, v in inputs.items() if k in validate_on}
        needed = {k: v for k, v in cached.items() if k in validate_on}
        return provided == needed

    _partial_inputs_only.validator_kwargs = {"validate_on": validate_on}  # type: ignore[attr-defined]
    return _partial_inputs_only
