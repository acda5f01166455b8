"""Every error type ``prefect_storage`` raises on purpose.

Each class also subclasses the builtin a caller would catch for that kind of
problem, so classic code that catches ``ValueError`` or ``ImportError`` keeps
working::

    StorageError(Exception)                    base: the message is always redacted
    ├── FlowStorageError                       a flow could not be stored or loaded (classic name)
    │   ├── FlowWriteError(OSError)            the OS refused a write (full disk, permissions)
    │   ├── EntrypointError(ImportError)       a script or module named by an entrypoint cannot load
    │   │   ├── FlowModuleNotFoundError(ModuleNotFoundError)
    │   │   │                                  its module is not importable (``Module`` storage too)
    │   │   └── FlowScriptError(FlowDeserializationError)
    │   │                                      its script failed to compile or run
    │   ├── FlowIntegrityError(ValueError)     truncated, tampered, unsigned or wrongly signed data
    │   ├── FlowDeserializationError           the payload is intact but cannot be unpickled here
    │   ├── FlowNotFoundError(FileNotFoundError)
    │   │                                      nothing at the flow's location (file, key, blob, ref)
    │   └── BucketNotFoundError(FileNotFoundError)
    │                                          the bucket or container itself does not exist
    ├── FlowNameConflictError(ValueError)      a flow of that name is already in the storage
    ├── UnknownFlowError(ValueError)           ``get_flow`` of a name the storage does not hold
    ├── StorageConfigError(ValueError)         bad constructor arguments or settings
    │   ├── SerializedStorageError(TypeError)  registry JSON that does not fit its storage class
    │   └── ScriptModuleNameError              ``Module(__name__)`` in a script registered by path
    ├── StorageAuthError(PermissionError)      the service refused the credentials
    ├── BackendUnavailableError(ConnectionError)
    │                                          the service could not be reached (after retries)
    ├── BackendNotInstalledError(ImportError)  an optional SDK is missing; names the pip extra
    └── SecretNotFoundError(KeyError, ValueError)
                                               a ``$NAME`` template or secret name has no value
                                               (ValueError too: the classic API raised that)

The message of every one of these passes through :func:`prefect_storage.redaction.redact`
when the exception is created, so a secret value that was resolved in this process
never reaches a log or a traceback through them.
"""

from __future__ import annotations

__all__ = [
    "ArtifactError",
    "BackendNotInstalledError",
    "BackendUnavailableError",
    "BlockEncryptionKeyError",
    "BlockNotFoundError",
    "BlockNotSavedError",
    "BlockValidationError",
    "BucketNotFoundError",
    "ClassicNotProvidedError",
    "DeploymentError",
    "DeploymentNotFoundError",
    "EntrypointError",
    "ExecutorConfigError",
    "ExecutorNotStartedError",
    "FlowDeserializationError",
    "FlowIntegrityError",
    "FlowModuleNotFoundError",
    "FlowNameConflictError",
    "FlowNotFoundError",
    "FlowScriptError",
    "FlowStorageError",
    "FlowWriteError",
    "GitCommandError",
    "ImageBuildError",
    "ImagePushError",
    "KeyValueError",
    "MissingFlowError",
    "NoSourceError",
    "NotRegisteredError",
    "RegistryError",
    "ResultNotImplementedError",
    "RunOwnershipError",
    "RunRegistryError",
    "RunSecretError",
    "ScheduleSerializationError",
    "SchemaVersionError",
    "ScriptModuleNameError",
    "SecretNotFoundError",
    "SerializedStorageError",
    "StepError",
    "StepExecutionError",
    "StepRequirementError",
    "StorageAuthError",
    "StorageConfigError",
    "StorageError",
    "TemplateError",
    "UnknownFlowError",
    "UnknownSchemeError",
    "UnknownStepError",
    "WebhookConfigError",
    "ZygoteError",
    "drop_hidden_context",
    "with_sdk_error",
]


class StorageError(Exception):
    """Base class of every error raised by ``prefect_storage``."""

    def __init__(self, *args: object) -> None:
        from prefect_storage.redaction import redact

        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))

    def __str__(self) -> str:
        # KeyError-derived classes would otherwise show the message in quotes.
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class FlowStorageError(StorageError):
    """A flow could not be stored or loaded (the classic Prefect 1.x name)."""


class FlowIntegrityError(FlowStorageError, ValueError):
    """Stored flow data is truncated, altered, unsigned when a signature is required,
    or signed with another key. Raised before anything is unpickled."""


class FlowDeserializationError(FlowStorageError):
    """The stored data is intact but cannot be turned back into a flow here
    (Python version mismatch, a missing module, an unpickling error)."""


class FlowNotFoundError(FlowStorageError, FileNotFoundError):
    """Nothing exists at the location a storage recorded for a flow."""


class BucketNotFoundError(FlowStorageError, FileNotFoundError):
    """The bucket or container a storage or result names does not exist (not just the object)."""


class FlowNameConflictError(StorageError, ValueError):
    """A flow with the same name was already added to this storage."""


class UnknownFlowError(StorageError, ValueError):
    """``get_flow`` was asked for a flow name the storage does not hold."""


class StorageConfigError(StorageError, ValueError):
    """A storage, result or setting was configured with values that cannot work."""


class StorageAuthError(StorageError, PermissionError):
    """The service refused the credentials; the message says which source was used."""


class BackendUnavailableError(StorageError, ConnectionError):
    """The service could not be reached, even after retrying."""


class BackendNotInstalledError(StorageError, ImportError):
    """An optional SDK is not installed; the message names the extra to install."""


class SecretNotFoundError(StorageError, KeyError, ValueError):
    """A secret name (or ``$NAME`` template) has no value in any configured place."""


# -- runner storage and blocks (issue 13) --------------------------------------------------


class UnknownSchemeError(StorageConfigError):
    """A URL's scheme is not in the scheme map; the message lists the known schemes."""


class NoSourceError(StorageConfigError):
    """A storage holds no source code to pull (a pickled flow): it has no pull step."""


class BlockNotFoundError(StorageError, KeyError, ValueError):
    """No block document of that type and name is saved in the registry."""


class BlockNotSavedError(StorageError, ValueError):
    """A block must be saved (``block.save(name)``) before it can be referenced."""


class BlockValidationError(StorageConfigError):
    """A block was given a field it does not have, or lacks a required one."""


class BlockEncryptionKeyError(StorageError, PermissionError):
    """The key that encrypts block secret fields is missing, malformed or not the one they were saved with."""


# --- executors (dask helper) -------------------------------------------------------------


class ExecutorConfigError(StorageError, ValueError):
    """An executor was given arguments that cannot work (the message says which and why)."""


class ExecutorNotStartedError(StorageError, RuntimeError):
    """Work was submitted to an executor outside its ``start()`` block."""


# -- deploy: modern flows, entrypoints, deployment steps, prefect.yaml ---------------------------


class EntrypointError(FlowStorageError, ImportError):
    """An entrypoint (``path/to/file.py:name`` or ``pkg.module:name``) could not be loaded:
    a bad format, a missing file or module, or a script that failed while it ran (the
    message names the file and the line)."""


class MissingFlowError(EntrypointError):
    """The entrypoint's file or module loaded, but has no object of that name (or the
    object is not a flow or a function)."""


class FlowScriptError(EntrypointError, FlowDeserializationError):
    """A flow script failed to compile or to run, or called ``sys.exit()``, while the
    one script loader ran it: at registration (``--path``), when a stored script flow is
    loaded, or for a ``path/to/file.py:name`` entrypoint. The message names the file
    and, where known, the line. Both an :class:`EntrypointError` and a
    :class:`FlowDeserializationError`, the names its callers raised before."""


class ScriptModuleNameError(StorageConfigError):
    """A flow's ``Module`` storage names the module a script ran under
    (``Module(__name__)`` in a script registered with ``--path``, or run as
    ``__main__``), which no agent can import. The message says what to use instead."""


class StepError(StorageError, RuntimeError):
    """A deployment step could not run: unknown step name, missing requirement, bad
    arguments, or the step itself failed. The message names the step."""


class UnknownStepError(StepError, ValueError):
    """A step name that is neither a prefect_storage step nor a known Prefect alias."""


class StepRequirementError(StepError, ImportError):
    """A step's ``requires:`` packages are not installed where it runs."""


class StepExecutionError(StepError):
    """A step raised; the message says which step (its id and name) and why."""


class TemplateError(StorageError, KeyError, ValueError):
    """A ``{{ ... }}`` placeholder in a step or deployment could not be resolved."""


class DeploymentError(StorageError, ValueError):
    """A deployment (``prefect.yaml``, ``flow.deploy()``) is malformed or names nothing."""


class DeploymentNotFoundError(DeploymentError, LookupError):
    """No deployment of that name is registered."""
# ---------------------------------------------------------------------------- engine


class PrefectSignal(BaseException):
    """Base of the engine's control signals (classic ``prefect.exceptions.PrefectSignal``).

    A ``BaseException`` on purpose: ``except Exception`` in task code must not swallow
    ``FAIL``, ``SKIP``, ``LOOP`` or a timeout.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)


class TaskTimeoutSignal(PrefectSignal):
    """Raised inside a task that ran longer than its ``timeout``."""


class VersionLockMismatchSignal(PrefectSignal):
    """A backend refused a state change (kept for classic imports)."""


class PrefectException(Exception):
    """Base of classic Prefect errors (kept for classic imports)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)


# --- classic compatibility: import paths and task library (classic helper) -----------------


class ClassicNotProvidedError(StorageError, ModuleNotFoundError):
    """A classic ``prefect`` module or name that ``prefect_storage`` does not provide.

    The message names the module (and class) and what to do instead; ``name`` is the
    module path, as for any ``ModuleNotFoundError``.
    """




class ClientError(PrefectException):
    """Classic ``prefect.exceptions.ClientError`` (an API call failed), kept so that code
    catching it imports; the registry raises its own errors."""


class ObjectNotFoundError(ClientError):
    """Classic ``prefect.exceptions.ObjectNotFoundError``."""


class AuthorizationError(ClientError):
    """Classic ``prefect.exceptions.AuthorizationError``."""


__all__ += ["AuthorizationError", "ClassicNotProvidedError", "ClientError", "ObjectNotFoundError"]


# -- schedules (issue 12) ----------------------------------------------------------------


class ScheduleSerializationError(StorageError, ValueError):
    """A schedule cannot be stored or read back: a custom filter or clock, or bad data."""


# -- agent area: run broker, flow-of-flows, KV store, artifacts ------------------------------


class RunRegistryError(StorageError, ConnectionError):
    """A flow run could not reach the registry (no registry configured or reachable, or
    the agent's run broker is gone); the message says what to configure."""


class ZygoteError(StorageError, RuntimeError):
    """The agent's pre-imported template process (which forks each run's child) is not
    available: it failed to start or died. ``agent --cold-start`` starts runs without it."""


class RunOwnershipError(StorageError, PermissionError):
    """A flow run's state was written by an agent that no longer holds the run (another
    agent or the lost-run check already finished it)."""


class KeyValueError(StorageError, ValueError):
    """A key-value store operation was given a bad key or value, or a key that is missing."""


class ArtifactError(StorageError, ValueError):
    """An artifact operation was refused: no task run to attach to, unknown artifact id,
    or an artifact of another flow run."""
# -- defined here since issue 9 (one tree); the old import paths re-export them ------------


class RegistryError(StorageError):
    """Base class of registry errors (``prefect_storage.registry.errors``)."""


class NotRegisteredError(RegistryError, LookupError):
    """No project, flow or flow run matches what was asked for."""


class SchemaVersionError(RegistryError):
    """The registry database was written by a newer prefect_storage than this one."""


class ResultNotImplementedError(StorageError, NotImplementedError):
    """The base ``Result`` cannot read or write; choose a subclass."""


class WebhookConfigError(StorageConfigError, RuntimeError):
    """A Webhook setting that cannot work (classic code catches ``RuntimeError``)."""


class ImageBuildError(FlowStorageError, ValueError):
    """``docker build`` failed: a Dockerfile step or the flow healthcheck. The message
    holds the failing step's output."""


class ImagePushError(FlowStorageError):
    """The registry refused or lost a push (other than for credentials)."""


class GitCommandError(StorageError):
    """A git command failed in a way no hint matches."""


class RunSecretError(SecretNotFoundError):
    """A secret the flow's storage lists could not be resolved by the agent (its message
    is redacted like every error here)."""


# -- hardening (issue 10) ----------------------------------------------------------------


class SerializedStorageError(StorageConfigError, TypeError):
    """Serialized storage data (registry JSON) that does not fit its class: a missing
    or wrongly typed field. ``TypeError`` too: calling the class with it raised that."""


class FlowWriteError(FlowStorageError, OSError):
    """The operating system refused a write (full disk, permissions, a name too long)."""


class FlowModuleNotFoundError(EntrypointError, ModuleNotFoundError):
    """The module an entrypoint names (a ``Module`` or module-path ``Local`` storage,
    ``register --module``, a ``pkg.module:name`` deployment entrypoint) is not importable
    here, or imports one that is not."""


# Classic code caught the SDK's own error (botocore ``ClientError``,
# ``github.UnknownObjectException``, ``requests.HTTPError``). Where that SDK is
# installed, an error is raised as a subclass of both the project's class and the
# SDK's, built at raise time (no SDK is imported when this module is), so both
# ``except`` clauses keep working.
_COMPAT_CLASSES: dict[tuple[type, type], type] = {}


def _rebuild(cls: type[StorageError], args: tuple[object, ...], state: dict[str, object]) -> StorageError:
    error = cls(*args)
    error.__dict__.update(state)
    return error


def with_sdk_error(error: StorageError, sdk_module: str, sdk_class: str, **attributes: object) -> StorageError:
    """``error`` as an instance of the project's class *and* ``sdk_module.sdk_class``
    when that SDK can be imported (else ``error`` unchanged). ``attributes`` (e.g.
    ``response``, ``status``) are set on it, as the SDK's constructor would have."""
    import importlib

    try:
        sdk = getattr(importlib.import_module(sdk_module), sdk_class)
    except (ImportError, AttributeError):
        return error
    if isinstance(error, sdk):
        return error
    base = type(error)
    compat = _COMPAT_CLASSES.get((base, sdk))
    if compat is None:
        try:
            compat = type(
                base.__name__,
                (base, sdk),
                {
                    "__module__": base.__module__,
                    "__qualname__": base.__qualname__,
                    "__doc__": base.__doc__,
                    "__init__": StorageError.__init__,
                    "__str__": StorageError.__str__,
                    # Pickles as the plain project class (the dynamic class is not importable).
                    "__reduce__": lambda self: (_rebuild, (base, self.args, dict(self.__dict__))),
                },
            )
        except TypeError:  # incompatible layouts: keep the project's error
            return error
        _COMPAT_CLASSES[(base, sdk)] = compat
    new = compat(*error.args)
    new.__dict__.update(error.__dict__)
    for name, value in attributes.items():
        setattr(new, name, value)
    return new


class drop_hidden_context:
    """Context manager: a ``prefect_storage`` error leaving the block loses every
    ``__context__`` its chain hides (``raise ... from None`` only hides the exception
    being handled; it stays reachable, and an SDK's exception may hold a URL with a
    token). Explicit causes (``raise ... from exc``) are kept."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> bool:
        seen: set[int] = set()
        link = exc if isinstance(exc, StorageError) else None
        while link is not None and id(link) not in seen:
            seen.add(id(link))
            if link.__suppress_context__:
                link.__context__ = None
            link = link.__cause__ or link.__context__
        return False
