"""Pickled flows: cloudpickle bytes inside a small binary envelope.

Layout (no base64, so the stored size is the payload plus about 200 bytes)::

    b"\\x89PSF1\\n"           magic; the non-ASCII first byte is never JSON or text
    4 bytes, big endian       length of the header
    header                    compact JSON: format, versions, payload size, a sha256
                              over the rest of the header and the payload, and an
                              HMAC-SHA256 signature when a key is configured
    payload                   cloudpickle.dumps(flow)

``flow_from_bytes_pickle`` checks, in this order and before anything is unpickled:
the format, truncation, the payload digest, the signature and the Python minor
version. Data in the classic Prefect 1.x format (JSON with base64 ``flow`` and
``versions``) and bare cloudpickle bytes are read as unsigned data.

Unsigned data (classic JSON, bare pickles, unsigned envelopes) is refused when
``PREFECT_STORAGE_REQUIRE_SIGNATURE=true``, and also as soon as a signing key is
configured, unless ``PREFECT_STORAGE_ALLOW_UNSIGNED=true`` opts in on purpose: the
plain digest needs no key, so without this rule anyone able to write the file could
replace a signed flow by an unsigned one.

Pickles execute code when loaded: load only flows from storage you trust, and use
a signing key when the storage is shared.
"""

from __future__ import annotations

import json
import struct
import sys
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prefect_storage import config
from prefect_storage._version import __version__
from prefect_storage.digests import sha256
from prefect_storage.exceptions import FlowDeserializationError, FlowIntegrityError

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow

__all__ = ["FlowEnvelope", "flow_from_bytes_pickle", "flow_to_bytes_pickle", "read_envelope"]

MAGIC = b"\x89PSF1\n"
FORMAT_VERSION = 1
_LENGTH = struct.Struct(">I")
_PREFIX = len(MAGIC) + _LENGTH.size
_PICKLE_PROTOCOL = 5


def _python_version() -> str:
    return "{}.{}.{}".format(*sys.version_info[:3])


def _signing_key() -> bytes | None:
    from prefect_storage.secrets import find

    key = find(config.SIGNING_KEY_SECRET)
    return key.encode() if key else None


# Set in a process that must check signatures without holding the key: an agent's flow
# run asks its agent (see prefect_storage.agent.broker); (verify, key_configured).
_VERIFIER: tuple[Callable[[bytes, str], bool], Callable[[], bool]] | None = None


def set_signature_verifier(verify: Callable[[bytes, str], bool] | None, configured: Callable[[], bool] | None = None) -> None:
    """Check signatures with ``verify(signed_bytes, signature_hex)`` when this process
    has no signing key (``configured()`` says whether the verifier's side has one);
    ``None`` removes it."""
    global _VERIFIER
    _VERIFIER = None if verify is None else (verify, configured or (lambda: True))


def _key_configured() -> bool:
    return _signing_key() is not None or (_VERIFIER is not None and _VERIFIER[1]())


def _canonical(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def _digest(header: dict[str, Any], payload: bytes | memoryview) -> str:
    """sha256 over the canonical header (without digest and signature) and the payload,
    so a change to the recorded versions or size is caught like a change to the pickle."""
    head = _canonical({k: v for k, v in header.items() if k not in ("sha256", "sig")})
    h = sha256(head, expected_size=len(head) + len(payload))
    h.update(payload)
    return str(h.hexdigest())


def _hmac_hex(key: bytes, message: bytes) -> str:
    import hashlib  # only with a signing key: unsigned loads skip loading OpenSSL
    import hmac

    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _same_digest(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a, b)


def flow_to_bytes_pickle(flow: Flow) -> bytes:
    """Serialize ``flow`` with cloudpickle inside the envelope described in this module.

    The envelope is signed when the secret ``PREFECT_STORAGE_SIGNING_KEY`` resolves.
    """
    import cloudpickle

    payload = cloudpickle.dumps(flow, protocol=_PICKLE_PROTOCOL)
    header: dict[str, Any] = {
        "f": FORMAT_VERSION,
        "v": {"python": _python_version(), "cloudpickle": cloudpickle.__version__, "prefect_storage": __version__},
        "n": len(payload),
    }
    header["sha256"] = _digest(header, payload)
    key = _signing_key()
    if key is not None:
        header["sig"] = _hmac_hex(key, _canonical(header))
    encoded = _canonical(header)
    return b"".join((MAGIC, _LENGTH.pack(len(encoded)), encoded, payload))


class FlowEnvelope:
    """A verified envelope: ``versions`` it was built with and the raw ``payload``."""

    __slots__ = ("payload", "signed", "versions")

    def __init__(self, payload: bytes | memoryview, versions: dict[str, str], signed: bool) -> None:
        self.payload = payload
        self.versions = versions
        self.signed = signed


def read_envelope(data: bytes, source: str = "flow data") -> FlowEnvelope:
    """Check ``data`` (format, size, digest, signature, Python version) and return its payload.

    ``source`` names where the data came from in error messages (a path, a key, ...).
    Raises :class:`FlowIntegrityError` or :class:`FlowDeserializationError`.
    """
    if data[: len(MAGIC)] == MAGIC or (data and len(data) < len(MAGIC) and MAGIC.startswith(bytes(data))):
        envelope = _read_current(data, source)
    elif data[:1] == b"{":
        envelope = _read_classic_json(data, source)
    elif data[:1] == b"\x80":  # a bare pickle (protocol 2+), as very old flows were stored
        envelope = FlowEnvelope(data, {}, signed=False)
    else:
        raise FlowIntegrityError(
            f"{source} is not a stored flow: it starts with {bytes(data[:8])!r}, not the prefect_storage "
            "envelope, classic Prefect JSON or a pickle. Was the right location given?"
        )
    if not envelope.signed:
        if config.require_signature():
            raise FlowIntegrityError(
                f"{source} is not signed and PREFECT_STORAGE_REQUIRE_SIGNATURE=true refuses unsigned flows. "
                "Re-register the flow with the secret PREFECT_STORAGE_SIGNING_KEY set."
            )
        # A configured key means "only flows signed with it": otherwise anyone who can
        # write the file could swap in an unsigned pickle (its plain digest needs no key).
        if not config.allow_unsigned() and _key_configured():
            raise FlowIntegrityError(
                f"{source} is not signed, and a signing key (PREFECT_STORAGE_SIGNING_KEY) is configured here, so "
                "only flows signed with it load. Re-register the flow with the key set, or set "
                "PREFECT_STORAGE_ALLOW_UNSIGNED=true to read classic and unsigned flows on purpose."
            )
    built = envelope.versions.get("python")
    if built and built.split(".")[:2] != _python_version().split(".")[:2] and not config.allow_python_mismatch():
        raise FlowDeserializationError(
            f"{source} was pickled with Python {built} but this is Python {_python_version()}; pickled flows only "
            "load on the same Python minor version. Re-register the flow from this Python version, store it as a "
            "script (stored_as_script=True), or set PREFECT_STORAGE_ALLOW_PYTHON_MISMATCH=true to try anyway."
        )
    return envelope


def _read_current(data: bytes, source: str) -> FlowEnvelope:
    if len(data) < _PREFIX:
        raise FlowIntegrityError(f"{source} is truncated: {len(data)} bytes is shorter than the envelope header.")
    (header_length,) = _LENGTH.unpack_from(data, len(MAGIC))
    if len(data) < _PREFIX + header_length:
        raise FlowIntegrityError(
            f"{source} is truncated: the header needs {header_length} bytes, {len(data) - _PREFIX} are present."
        )
    try:
        header = json.loads(data[_PREFIX : _PREFIX + header_length])
        expected_size, digest, versions = int(header["n"]), str(header["sha256"]), dict(header["v"])
    except (ValueError, KeyError, TypeError) as exc:
        raise FlowIntegrityError(f"{source} has a damaged envelope header ({exc}).") from None
    if header.get("f") != FORMAT_VERSION:
        raise FlowIntegrityError(
            f"{source} uses envelope format {header.get('f')!r}; this prefect_storage {__version__} reads format "
            f"{FORMAT_VERSION}. Upgrade prefect_storage where the flow is loaded."
        )
    payload = memoryview(data)[_PREFIX + header_length :]
    if len(payload) != expected_size:
        problem = "truncated" if len(payload) < expected_size else "longer than recorded (altered)"
        raise FlowIntegrityError(f"{source} is {problem}: the payload has {len(payload)} bytes, {expected_size} were stored.")
    if _digest(header, payload) != digest:
        raise FlowIntegrityError(f"{source} was altered: its sha256 does not match the one stored with it.")
    signature = header.pop("sig", None)
    verified = False
    if signature is not None:
        key = _signing_key()
        if key is None and _VERIFIER is not None and _VERIFIER[1]():
            if not _VERIFIER[0](_canonical(header), str(signature)):
                raise FlowIntegrityError(
                    f"{source} has a wrong signature: it was signed with another key, or altered after signing."
                )
            verified = True
        elif key is None:
            if config.require_signature():
                raise FlowIntegrityError(
                    f"{source} is signed but no signing key is configured here to check it; "
                    "provide the secret PREFECT_STORAGE_SIGNING_KEY."
                )
        elif not _same_digest(_hmac_hex(key, _canonical(header)), str(signature)):
            raise FlowIntegrityError(
                f"{source} has a wrong signature: it was signed with another key, or altered after signing."
            )
        else:
            verified = True
    return FlowEnvelope(payload, versions, signed=verified)


def _read_classic_json(data: bytes, source: str) -> FlowEnvelope:
    import base64
    import binascii

    try:
        document = json.loads(data)
        payload = base64.b64decode(document["flow"], validate=True)
        versions = {k: str(v) for k, v in document.get("versions", {}).items() if k in ("python", "cloudpickle", "prefect")}
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise FlowIntegrityError(
            f"{source} looks like a classic Prefect 1.x flow file but cannot be read ({exc}); it is truncated or altered."
        ) from None
    return FlowEnvelope(payload, versions, signed=False)


def flow_from_bytes_pickle(data: bytes, source: str = "flow data") -> Flow:
    """Verify ``data`` (see :func:`read_envelope`) and unpickle the flow in it.

    A failing unpickle raises :class:`FlowDeserializationError` listing the versions
    that differ from the ones the flow was built with, and a hint when a module is
    missing, as the classic API did.
    """
    import cloudpickle

    envelope = read_envelope(data, source)
    try:
        flow = cloudpickle.loads(envelope.payload)
    except Exception as exc:
        raise FlowDeserializationError(_unpickle_failure(exc, envelope.versions)) from exc
    from prefect_storage.core.flow import Flow

    if not isinstance(flow, Flow):
        raise FlowDeserializationError(f"{source} holds a {type(flow).__name__}, not a Flow.")
    built_with = envelope.versions.get("prefect_storage")
    if built_with and built_with != __version__:
        warnings.warn(
            f"This flow was built using prefect_storage {built_with!r}, but you currently have {__version__!r} "
            "installed. We recommend loading flows with the same version they were built with, failure to do so "
            "may result in errors.",
            stacklevel=2,
        )
    return flow


def _running_versions() -> dict[str, str]:
    import cloudpickle

    return {"python": _python_version(), "cloudpickle": cloudpickle.__version__, "prefect_storage": __version__}


def _unpickle_failure(exc: Exception, built: dict[str, str]) -> str:
    running = _running_versions()
    parts = [f"An error occurred while unpickling the flow:\n  {exc!r}"]
    mismatches = [
        f"  - {name}: (flow built with '{built[name]}', currently running with '{running[name]}')"
        for name in sorted(built)
        if name in running and built[name] != running[name]
    ]
    if mismatches:
        parts.append(
            "This may be due to one of the following version mismatches between the flow build and execution environments:"
        )
        parts.extend(mismatches)
    if isinstance(exc, ImportError):
        parts.append(
            ("This also may" if mismatches else "This may")
            + " be due to a missing Python module in your current environment. Please ensure you have all required "
            "flow dependencies installed."
        )
    return "\n".join(parts)
