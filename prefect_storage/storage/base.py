"""The ``Storage`` contract every storage class implements.

A storage records flows (:meth:`Storage.add_flow`), persists them
(:meth:`Storage.build`) and loads one back by name where it runs
(:meth:`Storage.get_flow`), in another process, often on another machine, from
nothing but :meth:`Storage.serialize` output.

Subclasses supply transport, not logic. The base class does the bookkeeping
(``flows``, name conflicts, labels, secrets), pickling and script extraction,
change detection, concurrent uploads, JSON (de)serialization and error wording. A
subclass implements at most:

* :meth:`Storage._location_for` — where a new flow goes (a path, key, blob name...);
* :meth:`Storage._write` — store bytes at a location, atomically;
* :meth:`Storage._read` — fetch the bytes at a location (raise
  :class:`~prefect_storage.exceptions.FlowNotFoundError` when there are none);

and, where the classic class differs, the hooks :meth:`Storage._script_payload`
(what a script-mode build uploads), :meth:`Storage._load_script` (how a stored
script becomes a flow) or :meth:`Storage._load` (both modes at once, for storages
such as ``Module`` that import instead of reading bytes). Declaring
``_serialized_fields`` is all serialization needs.

Concurrency contract
--------------------

Safe from many processes and machines at once:

* ``get_flow`` of any flow, from any number of processes, including while another
  process writes it: writes are atomic (a temporary file renamed over the target, a
  single PUT), so a reader sees the old flow or the whole new one, never half.
* ``build()`` / ``add_flow`` of *different* flows, or of the same flow from storage
  objects that were each given it: every registration gets its own timestamped
  location (two names with one slug in one tick get distinct locations), and a
  location's last complete write wins.
* the local payload and git caches, shared by every process of a user: entries are
  written atomically and keyed by content validators; git caches take a file lock.

Not safe:

* one storage *object* mutated from several threads: ``add_flow``, ``build`` and
  setting attributes change ``flows`` without a lock. Give each thread its own
  object, or lock around them. (``build`` itself uploads from a thread pool; that is
  internal and safe.)
* two writers of one *fixed* location (``Local(path=...)``, ``S3(key=...)``,
  ``Webhook``): the last writer wins, and a reader may load either version.
* deleting or editing a flow's file, object or ref by hand while it is loaded.
"""

from __future__ import annotations

import abc
import importlib
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from prefect_storage import config
from prefect_storage.digests import sha256_hex
from prefect_storage.exceptions import (
    FlowNameConflictError,
    FlowStorageError,
    SerializedStorageError,
    StorageConfigError,
    StorageError,
    UnknownFlowError,
    drop_hidden_context,
)
from prefect_storage.slugs import flow_slug, name_hash, timestamp_slug  # re-exported

if TYPE_CHECKING:
    import logging

    from prefect_storage.core.flow import Flow
    from prefect_storage.results.base import Result

__all__ = ["Storage", "flow_slug", "require_mapping", "require_text", "storage_class", "timestamp_slug"]

# Serialized type name -> module defining it. Imported only when a storage of that
# type is deserialized, so loading a Local flow never imports boto3.
BUILTIN_STORAGES: dict[str, str] = {
    "Azure": "prefect_storage.storage.azure",
    "Bitbucket": "prefect_storage.storage.bitbucket",
    "CodeCommit": "prefect_storage.storage.codecommit",
    "Docker": "prefect_storage.storage.docker",
    "GCS": "prefect_storage.storage.gcs",
    "Git": "prefect_storage.storage.git",
    "GitHub": "prefect_storage.storage.github",
    "GitLab": "prefect_storage.storage.gitlab",
    "Local": "prefect_storage.storage.local",
    "Module": "prefect_storage.storage.module",
    "S3": "prefect_storage.storage.s3",
    "Webhook": "prefect_storage.storage.webhook",
}
_registered: dict[str, type[Storage]] = {}


def storage_class(type_name: str, module: str | None = None) -> type[Storage]:
    """The storage class serialized as ``type_name``.

    Built-in classes are imported on demand. A custom subclass is found once its
    module is imported; ``module`` (recorded by ``serialize()``) is imported only when
    it is listed in ``PREFECT_STORAGE_STORAGE_MODULES``: registry data may come from
    another machine, and importing a module runs its code.
    """
    if type_name not in _registered:
        target = BUILTIN_STORAGES.get(type_name)
        if target is None and module:
            if module not in config.storage_modules():
                raise StorageConfigError(
                    f"Storage type {type_name!r} is not a built-in type and its module {module!r} is not imported. "
                    f"Import {module} before loading the flow, or allow it to be imported on demand with "
                    f"PREFECT_STORAGE_STORAGE_MODULES={module}."
                )
            target = module
        if target:
            try:
                importlib.import_module(target)
            except ImportError as exc:
                raise StorageConfigError(
                    f"Storage type {type_name!r} is defined in {target}, which cannot be imported here: {exc}"
                ) from exc
    try:
        klass = _registered[type_name]
    except KeyError:
        known = ", ".join(sorted(set(BUILTIN_STORAGES) | {n for n, k in _registered.items() if not _is_base(k)}))
        raise StorageConfigError(
            f"Unknown storage type {type_name!r}. Known types: {known}. "
            "A custom Storage subclass must be importable where the flow is loaded."
        ) from None
    if _is_base(klass):
        raise StorageConfigError(
            f"{type_name!r} is an internal base class, not a storage you can load; use one of its subclasses."
        )
    return klass


def _is_base(klass: type[Storage]) -> bool:
    """Abstract classes and family bases (``_base_class = True`` in their own body)."""
    # what inspect.isabstract() checks, without importing inspect (~10 ms of a cold start)
    return bool(getattr(klass, "__abstractmethods__", None)) or bool(klass.__dict__.get("_base_class", False))


class Storage(abc.ABC):
    """Base class of every storage. See the module docstring for what subclasses supply.

    Args:
        result: the default :class:`~prefect_storage.results.Result` for flows in this
            storage (classes with a natural pairing set one themselves).
        secrets: names of secrets the agent must provide to runs of these flows.
        labels: labels an agent must carry to run these flows.
        add_default_labels: add the class's default labels (``Local``: the host
            name). ``None`` reads ``PREFECT__FLOWS__DEFAULTS__STORAGE__ADD_DEFAULT_LABELS``.
        stored_as_script: store flows as ``.py`` scripts instead of pickles.
    """

    #: constructor arguments ``serialize()`` keeps (besides ``flows`` and ``secrets``)
    _serialized_fields: ClassVar[tuple[str, ...]] = ()
    #: write pickles in ``add_flow`` instead of ``build`` (the classic Local behaviour)
    _write_on_add: ClassVar[bool] = False
    #: uploads ``build()`` may run at once; remote stores raise this
    _max_concurrent_writes: ClassVar[int] = 1
    #: attributes dropped when the storage is pickled with a flow (clients, caches)
    _transient_attributes: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _registered.setdefault(cls.__name__, cls)

    def __init__(
        self,
        result: Result | None = None,
        secrets: Iterable[str] | None = None,
        labels: Iterable[str] | None = None,
        add_default_labels: bool | None = None,
        stored_as_script: bool = False,
    ) -> None:
        self.result = result
        self.secrets = _names(secrets, "secrets")
        self._labels = _names(labels, "labels")
        self.add_default_labels = config.add_default_labels() if add_default_labels is None else add_default_labels
        self.stored_as_script = stored_as_script
        self.flows: dict[str, str] = {}
        self._flows: dict[str, Flow] = {}
        self._written: dict[str, str] = {}  # flow name -> sha256 of the bytes last written

    # -- identity -------------------------------------------------------------------

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def logger(self) -> logging.Logger:
        from prefect_storage.secrets import get_logger

        return get_logger(f"storage.{type(self).__name__}")

    def __repr__(self) -> str:
        return f"<Storage: {type(self).__name__}>"

    def __contains__(self, obj: object) -> bool:
        """``"name" in storage``: membership by flow name (a Flow object is never "in")."""
        return isinstance(obj, str) and obj in self.flows

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        # Live flows stay behind: a pickled flow must not drag its siblings along.
        state["_flows"] = {}
        state["_written"] = {}
        for attribute in self._transient_attributes:
            state.pop(attribute, None)
        return state

    # -- labels ---------------------------------------------------------------------

    @property
    def default_labels(self) -> list[str]:
        """Labels this class adds on its own; none for most classes."""
        return []

    @property
    def labels(self) -> list[str]:
        """The user's labels, plus :attr:`default_labels` when ``add_default_labels``."""
        if not self.add_default_labels:
            return self._labels
        return sorted(set(self._labels) | set(self.default_labels))

    # -- the contract -----------------------------------------------------------------

    def add_flow(self, flow: Flow) -> str:
        """Record ``flow`` and return its location. A second flow of the same name is refused."""
        if flow.name in self.flows:
            raise FlowNameConflictError(
                f'Name conflict: Flow with the name "{flow.name}" is already present in this storage.'
            )
        location = self._location_for(flow)
        if location in self.flows.values() and self._generated_location(location):
            # Another name with the same slug in the same tick ("Coll A", "coll-a"):
            # a location belongs to one flow, so this one gets its name's hash.
            location = f"{location}-{name_hash(flow.name)}"
        self.flows[flow.name] = location
        self._flows[flow.name] = flow
        if self._write_on_add:
            try:
                with drop_hidden_context():
                    self._persist([flow.name])
            except BaseException:
                del self.flows[flow.name], self._flows[flow.name]
                raise
        return location

    def build(self) -> Storage:
        """Persist every added flow that changed since it was last written, then run
        the basic healthchecks. Returns ``self``; calling it again is safe and
        uploads nothing that is unchanged."""
        self._validate_build()
        with drop_hidden_context():
            self._persist(list(self._flows))
        self.run_basic_healthchecks()
        return self

    def get_flow(self, flow_name: str) -> Flow:
        """Load the flow called ``flow_name`` from where it was stored."""
        location = self._location_of(flow_name)
        from prefect_storage.context import loading

        with drop_hidden_context(), loading():
            flow = self._load(flow_name, location)
        loaded = getattr(flow, "name", flow_name)
        if loaded != flow_name:
            raise FlowStorageError(
                f"{self._describe(location)} holds the flow {loaded!r}, not {flow_name!r}: two flows share this "
                "location. Register the flow again so that it gets a location of its own."
            )
        return flow

    def serialize(self) -> dict[str, Any]:
        """A JSON-safe dict from which :meth:`deserialize` rebuilds this storage elsewhere.

        It holds ``type``, ``flows``, ``secrets`` (names only) and the class's
        settings as given, templates unrendered: never a secret value.
        """
        from prefect_storage._version import __version__

        data: dict[str, Any] = {
            "type": type(self).__name__,
            "__version__": __version__,
            "flows": dict(self.flows),
            "secrets": list(self.secrets),
        }
        if type(self).__name__ not in BUILTIN_STORAGES:
            data["__module__"] = type(self).__module__
        for field in self._serialized_fields:
            data[field] = getattr(self, field)
        return data

    @classmethod
    def deserialize(cls, data: Mapping[str, Any]) -> Storage:
        """Rebuild a storage of the right subclass from :meth:`serialize` output.

        Unknown keys are ignored, so JSON written by a newer version still loads.
        """
        if not isinstance(data, Mapping) or "type" not in data:
            raise StorageConfigError(f"Serialized storage must be a dict with a 'type' key, got {data!r:.200}.")
        klass = storage_class(str(data["type"]), data.get("__module__"))
        if not issubclass(klass, cls):
            raise StorageConfigError(f"{data['type']!r} is not a {cls.__name__}.")
        try:
            storage = klass._from_serialized(data)
            flows = data.get("flows") or {}
            if not isinstance(flows, Mapping) or not all(isinstance(v, str) for v in flows.values()):
                raise TypeError(f"'flows' must map flow names to locations, got {flows!r:.200}")
        except StorageError:
            raise
        except (TypeError, ValueError, AttributeError) as exc:
            problem = str(exc)
            raise SerializedStorageError(
                f"Serialized {data['type']} storage cannot be rebuilt: {problem}. The registry data is incomplete or "
                "was written for another version; register the flow again."
            ) from None
        storage.flows = dict(flows)
        return storage

    @classmethod
    def _from_serialized(cls, data: Mapping[str, Any]) -> Storage:
        """Call the constructor with the serialized fields; override to pass extra flags."""
        kwargs = {f: data[f] for f in (*cls._serialized_fields, "secrets") if f in data}
        return cls(**kwargs)

    # -- the modern bridge (runner storage; see storage/modern.py) -------------------------

    def to_runner_storage(self) -> Any:
        """The runner storage (``GitRepository``, ``RemoteStorage``, ``LocalStorage``) that pulls this
        storage's source; :class:`~prefect_storage.exceptions.NoSourceError` for pickled flows."""
        from prefect_storage.storage.modern import to_runner_storage

        return to_runner_storage(self)

    def to_pull_step(self) -> dict[str, Any] | list[dict[str, Any]]:
        """The deployment pull step that fetches this storage's source (secrets as ``${NAME}`` templates)."""
        step: dict[str, Any] | list[dict[str, Any]] = self.to_runner_storage().to_pull_step()
        return step

    def entrypoint(self, flow_name: str) -> str:
        """``file.py:flow_name`` (or ``pkg.module``) of ``flow_name`` relative to the pulled folder."""
        from prefect_storage.storage.modern import entrypoint_for

        return entrypoint_for(self, flow_name)

    def run_basic_healthchecks(self) -> None:
        """Warn about flows whose task results cannot be checkpointed anywhere."""
        for flow in self._flows.values():
            if flow.result is None and self.result is None and any(t.checkpoint and t.result is None for t in flow.tasks):
                warnings.warn(
                    f"Flow {flow.name!r} has tasks with checkpoint=True but neither the flow nor its storage "
                    "has a result to write them to.",
                    UserWarning,
                    stacklevel=3,
                )

    # -- what subclasses implement ----------------------------------------------------

    @abc.abstractmethod
    def _location_for(self, flow: Flow) -> str:
        """The location ``add_flow`` records for a new flow (a path, key, module, file in a repo...)."""

    def _write(self, location: str, data: bytes) -> None:
        """Store ``data`` at ``location`` so that readers see all of it or none of it."""
        raise NotImplementedError(f"{type(self).__name__} cannot write flows.")

    def _read(self, location: str) -> bytes:
        """The bytes at ``location``; raise ``FlowNotFoundError`` when there are none."""
        raise NotImplementedError(f"{type(self).__name__} cannot read flows.")

    def _validate_build(self) -> None:
        """Refuse, before anything is written, a build that cannot succeed."""

    def _generated_location(self, location: str) -> bool:
        """Whether ``location`` was made from the flow's name (not given by the user), so
        that ``add_flow`` may make it unique. Classes that build locations from
        :func:`flow_slug` say yes."""
        return False

    def _script_payload(self, flow_name: str, flow: Flow) -> bytes | None:
        """What a script-mode build uploads for a flow; ``None``: nothing (the script
        already lives where it is loaded from)."""
        return None

    def _describe(self, location: str) -> str:
        """How a location is named in messages (``s3://bucket/key``...)."""
        return location

    def _load(self, flow_name: str, location: str) -> Flow:
        if self.stored_as_script:
            return self._load_script(flow_name, location)
        from prefect_storage.serialization.flow_pickle import flow_from_bytes_pickle

        return flow_from_bytes_pickle(self._read(location), source=self._describe(location))

    def _load_script(self, flow_name: str, location: str) -> Flow:
        from prefect_storage.serialization.extract import extract_flow_from_file

        return extract_flow_from_file(file_contents=self._read(location), file_path=None, flow_name=flow_name)

    # -- shared machinery -------------------------------------------------------------

    def _location_of(self, flow_name: str) -> str:
        try:
            return self.flows[flow_name]
        except (KeyError, TypeError):
            held = ", ".join(repr(n) for n in sorted(self.flows)) or "no flows"
            raise UnknownFlowError(
                f"Flow is not contained in this Storage: {flow_name!r} is not one of {held}. "
                "Add it with add_flow() (or register it), or check the name."
            ) from None

    def _payload(self, flow_name: str) -> bytes | None:
        flow = self._flows[flow_name]
        if self.stored_as_script:
            return self._script_payload(flow_name, flow)
        from prefect_storage.serialization.flow_pickle import flow_to_bytes_pickle

        return flow_to_bytes_pickle(flow)

    def _persist(self, names: list[str]) -> None:
        """Write each named flow whose bytes changed since its last write, concurrently
        when the class allows it. All writes are attempted; failures are reported together."""
        jobs: list[tuple[str, str, bytes, str]] = []
        for name in names:
            data = self._payload(name)
            if data is None:
                continue
            digest = sha256_hex(data)
            if self._written.get(name) != digest:
                jobs.append((name, self.flows[name], data, digest))
        if not jobs:
            return
        workers = min(self._max_concurrent_writes, len(jobs))
        if workers <= 1:
            errors = {}
            for job in jobs:
                error = self._write_one(job)
                if error is not None:
                    errors[job[0]] = error
        else:
            import concurrent.futures

            with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="prefect-storage-upload") as pool:
                outcomes = dict(zip((job[0] for job in jobs), pool.map(self._write_one, jobs)))
            errors = {name: error for name, error in outcomes.items() if error is not None}
        if errors:
            first = next(iter(errors.values()))
            if len(errors) == 1:
                raise first
            detail = "; ".join(f"{name!r}: {error}" for name, error in errors.items())
            raise FlowStorageError(f"{len(errors)} of {len(jobs)} flows could not be stored: {detail}") from first

    def _write_one(self, job: tuple[str, str, bytes, str]) -> BaseException | None:
        name, location, data, digest = job
        try:
            self._write(location, data)
        except Exception as exc:
            return exc
        self._written[name] = digest
        return None


def _names(values: Iterable[str] | None, what: str) -> list[str]:
    """``labels`` / ``secrets`` as a list of strings; a bare string is refused (it would
    become its characters)."""
    if values is None:
        return []
    if isinstance(values, (str, bytes)):
        raise StorageConfigError(f"`{what}` must be a list of strings, got the string {values!r}; write {what}=[{values!r}].")
    out = list(values)
    wrong = [v for v in out if not isinstance(v, str)]
    if wrong:
        raise StorageConfigError(f"`{what}` must be a list of strings; {wrong[0]!r} is a {type(wrong[0]).__name__}.")
    return out


def require_text(value: object, what: str, owner: str) -> str:
    """``value`` when it is a non-empty string; else a :class:`StorageConfigError` naming ``what``."""
    if not isinstance(value, str) or not value:
        raise StorageConfigError(f"{owner} needs `{what}` as a non-empty string, got {value!r:.80}.")
    return value


def require_mapping(value: object, what: str, owner: str) -> Mapping[str, Any] | None:
    """``value`` when it is ``None`` or a mapping; else a :class:`StorageConfigError` naming ``what``."""
    if value is not None and not isinstance(value, Mapping):
        raise StorageConfigError(
            f"{owner} needs `{what}` as a dict of keyword arguments, got a {type(value).__name__} ({value!r:.80})."
        )
    return value
