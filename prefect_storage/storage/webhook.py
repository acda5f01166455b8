"""``Webhook`` storage: a flow behind any HTTP API (one request to store it, one to fetch it)."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from prefect_storage.exceptions import (
    BackendUnavailableError,
    FlowNameConflictError,
    FlowNotFoundError,
    FlowStorageError,
    StorageAuthError,
    StorageConfigError,
    StorageError,
    with_sdk_error,
)
from prefect_storage.secrets import get_logger, render
from prefect_storage.storage.base import Storage

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow

ALLOWED_METHODS = ("GET", "PATCH", "POST", "PUT")


class WebhookConfigError(StorageConfigError, RuntimeError):
    """A Webhook setting that cannot work (classic code catches ``RuntimeError``)."""


class Webhook(Storage):
    """Store a flow by sending it in an HTTP request; load it with another request.

    ``build()`` sends ``build_request_http_method`` with ``build_request_kwargs``
    (the ``requests.request`` arguments: ``url``, ``headers``, ``params``...) and the
    flow as the body; ``get_flow()`` sends ``get_flow_request_http_method`` with
    ``get_flow_request_kwargs`` and loads the flow from the response body.

    Every string in both kwargs (inside dicts and lists, at any depth) may hold
    ``$NAME`` / ``${NAME}`` templates, rendered at request time: the environment
    first, then the secret chain (:mod:`prefect_storage.secrets`). Templates, not
    values, are what ``serialize()`` keeps; rendered values are never stored or
    logged. A missing name raises :class:`~prefect_storage.exceptions.SecretNotFoundError`
    naming it.

    Requests retry connection errors and 429/5xx answers. When the server gives an
    ``ETag``, the next load sends ``If-None-Match`` and a ``304`` answer reuses the
    cached bytes, so an unchanged flow is not downloaded again. A ``401``/``403``
    raises :class:`~prefect_storage.exceptions.StorageAuthError`, a ``404``
    :class:`~prefect_storage.exceptions.FlowNotFoundError`.

    One Webhook storage holds one flow (the requests name one place). Adding the
    same name twice raises the usual name-conflict error; adding a second flow of
    another name raises :class:`WebhookConfigError`. (Classic Webhook silently
    replaced the first flow.)

    Args:
        build_request_kwargs: ``requests`` keyword arguments for the store request.
        build_request_http_method: ``"GET"``, ``"PATCH"``, ``"POST"`` or ``"PUT"``.
        get_flow_request_kwargs: ``requests`` keyword arguments for the fetch request.
        get_flow_request_http_method: as above.
        stored_as_script: send the flow's script instead of a pickle.
        flow_script_path: the script to send (script mode; needed at build only).

    Example::

        Webhook(
            build_request_kwargs={"url": "https://flows.example.com/etl",
                                  "headers": {"Authorization": "Bearer ${FLOWS_TOKEN}"}},
            build_request_http_method="PUT",
            get_flow_request_kwargs={"url": "https://flows.example.com/etl",
                                     "headers": {"Authorization": "Bearer ${FLOWS_TOKEN}"}},
            get_flow_request_http_method="GET",
        )
    """

    _serialized_fields = (
        "build_request_kwargs",
        "build_request_http_method",
        "get_flow_request_kwargs",
        "get_flow_request_http_method",
        "stored_as_script",
    )
    _transient_attributes = ("_session", "_build_responses")

    def __init__(
        self,
        build_request_kwargs: Mapping[str, Any],
        build_request_http_method: str,
        get_flow_request_kwargs: Mapping[str, Any],
        get_flow_request_http_method: str,
        stored_as_script: bool = False,
        flow_script_path: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        for method in (build_request_http_method, get_flow_request_http_method):
            if method not in ALLOWED_METHODS:
                get_logger("storage.Webhook").critical("HTTP method %r not recognized", method)
                raise WebhookConfigError(f"HTTP method '{method}' not recognized")
        for name, value in (("build_request_kwargs", build_request_kwargs), ("get_flow_request_kwargs", get_flow_request_kwargs)):
            if not isinstance(value, Mapping):
                raise WebhookConfigError(f"`{name}` must be a dict of requests keyword arguments, got {type(value).__name__}.")
            _check_depth(value, name)
        self.build_request_kwargs = dict(build_request_kwargs)
        self.build_request_http_method = build_request_http_method
        self.get_flow_request_kwargs = dict(get_flow_request_kwargs)
        self.get_flow_request_http_method = get_flow_request_http_method
        self.flow_script_path = os.fspath(flow_script_path) if flow_script_path is not None else None
        self._build_responses: dict[str, Any] = {}
        super().__init__(stored_as_script=stored_as_script, **kwargs)

    # -- the contract -------------------------------------------------------------------

    def add_flow(self, flow: Flow) -> str:
        if self.flows and flow.name not in self.flows:
            (held,) = self.flows
            raise WebhookConfigError(
                f"This Webhook storage already holds the flow {held!r}; its requests name one place, so it holds one "
                f"flow. Use another Webhook storage for {flow.name!r}."
            )
        if flow.name in self.flows:
            raise FlowNameConflictError(
                f'Name conflict: Flow with the name "{flow.name}" is already present in this storage.'
            )
        return super().add_flow(flow)

    def _location_for(self, flow: Flow) -> str:
        return flow.name  # classic: the requests, not the location, say where it lives

    def _validate_build(self) -> None:
        if self.stored_as_script:
            if not self.flow_script_path:
                raise WebhookConfigError("flow_script_path must be provided if stored_as_script=True")
            if not os.path.isfile(self.flow_script_path):
                raise WebhookConfigError(f"file '{self.flow_script_path}' passed to flow_script_path does not exist")

    def _script_payload(self, flow_name: str, flow: Flow) -> bytes | None:
        with open(str(self.flow_script_path), "rb") as fh:
            return fh.read()

    def _write(self, location: str, data: bytes) -> None:
        kwargs = render(self.build_request_kwargs)
        if "data" in kwargs:
            message = (
                "'data' found in build_request_kwargs. This value is overwritten with the flow content and should "
                "not be set directly"
            )
            self.logger.warning(message)
            warnings.warn(message, RuntimeWarning, stacklevel=4)
        kwargs["data"] = data
        response = self._send(self.build_request_http_method, kwargs, self.build_request_kwargs, "store the flow")
        self._check(response, self.build_request_kwargs, "store the flow")
        response.request = None  # it holds the rendered headers (tokens): never keep them
        self._build_responses[location] = response

    def _read(self, location: str) -> bytes:
        from prefect_storage.backends.cache import PayloadCache

        cache = PayloadCache("webhook")
        key = self._cache_key()
        cached = cache.get(key)
        kwargs = render(self.get_flow_request_kwargs)
        if cached is not None:
            headers = dict(kwargs.get("headers") or {})
            headers["If-None-Match"] = cached[0]
            kwargs["headers"] = headers
        response = self._send(self.get_flow_request_http_method, kwargs, self.get_flow_request_kwargs, "fetch the flow")
        if response.status_code == 304 and cached is not None:
            return cached[1]
        self._check(response, self.get_flow_request_kwargs, "fetch the flow")
        data = response.content
        etag = response.headers.get("ETag")
        if etag:
            cache.put(key, etag, data)
        else:
            cache.discard(key)
        return data

    def _load_script(self, flow_name: str, location: str) -> Flow:
        from prefect_storage.serialization.extract import extract_flow_from_file

        return extract_flow_from_file(file_contents=self._read(location).decode("utf-8"), flow_name=flow_name)

    def _describe(self, location: str) -> str:
        return f"{self.get_flow_request_http_method} {self.get_flow_request_kwargs.get('url', '?')}"

    # -- HTTP ---------------------------------------------------------------------------

    @property
    def build_responses(self) -> dict[str, Any]:
        """The ``requests.Response`` of the last store request, by flow name (to read
        e.g. an id the server assigned). Its ``request`` is dropped: it held the
        rendered headers."""
        return self._build_responses

    def _http(self) -> Any:
        session = getattr(self, "_session", None)
        if session is None:
            from prefect_storage.backends.http import session as make_session

            session = self._session = make_session(extra="webhook")
        return session

    def _cache_key(self) -> str:
        # Built from the templates, never the rendered values: the key is written to disk.
        template = json.dumps([self.get_flow_request_http_method, self.get_flow_request_kwargs], sort_keys=True, default=str)
        return "webhook:" + hashlib.sha256(template.encode()).hexdigest()

    def _send(self, method: str, kwargs: dict[str, Any], template: Mapping[str, Any], action: str) -> Any:
        import requests

        kwargs.setdefault("timeout", 60)
        try:
            return self._http().request(method, **kwargs)
        except requests.exceptions.RequestException as exc:
            failure = type(exc).__name__
        # Raised outside the except block: requests' exception (kept as __context__ even
        # with "from None") holds the rendered URL, which may carry a token.
        raise BackendUnavailableError(
            f"Could not connect to {template.get('url', '?')} to {action}: {failure}. "
            "Check that the server is reachable from here."
        )

    @staticmethod
    def _check(response: Any, template: Mapping[str, Any], action: str) -> None:
        url = template.get("url", "?")  # the template: a rendered URL may hold a token
        status = response.status_code
        error: StorageError
        if status in (401, 403):
            error = StorageAuthError(
                f"{url} refused to {action} ({status} {response.reason}): check the credentials in the request "
                "headers/auth (their $VAR templates and the secrets behind them)."
            )
        elif status == 404:
            error = FlowNotFoundError(f"Flow not found: {url} answered 404 when asked to {action}.")
        elif status >= 400:
            error = FlowStorageError(f"{url} failed to {action}: {status} {response.reason}.")
        else:
            return
        # Classic Webhook raised requests.HTTPError (raise_for_status): keep that catchable.
        # No response attached: its URL and request hold rendered (secret) values.
        raise with_sdk_error(error, "requests", "HTTPError")

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_build_responses"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_build_responses", {})


MAX_KWARGS_DEPTH = 64


def _check_depth(value: object, name: str) -> None:
    """Refuse request kwargs nested deeper than :data:`MAX_KWARGS_DEPTH` (rendering and
    JSON would otherwise hit Python's recursion limit at request time)."""
    level: list[object] = [value]
    depth = 0
    while level:
        depth += 1
        if depth > MAX_KWARGS_DEPTH:
            raise WebhookConfigError(
                f"`{name}` is nested more than {MAX_KWARGS_DEPTH} levels deep; flatten the request arguments."
            )
        nxt: list[object] = []
        for item in level:
            if isinstance(item, Mapping):
                nxt.extend(item.values())
            elif isinstance(item, (list, tuple)):
                nxt.extend(item)
        level = nxt
