"""``Module`` storage: flows that are importable Python objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect_storage.exceptions import ScriptModuleNameError, StorageConfigError
from prefect_storage.storage.base import Storage

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow


class Module(Storage):
    """Load flows by importing a module installed where the flow runs.

    Args:
        module: ``package.module`` (the flow is found among its attributes, by name)
            or ``package.module:attr.path`` (the object there, called first when it is
            a factory function).

    Nothing is written: ``build()`` only checks that the module string is well formed and
    names an importable module, not a running script (``Module(__name__)`` in a script).
    Paired result: none (set ``result=`` or ``flow.result``).

    Example::

        flow.storage = Module("my_package.flows.etl")
        flow.storage = Module("my_package.flows:make_flow")
    """

    _serialized_fields = ("module",)

    def __init__(self, module: str, **kwargs: Any) -> None:
        if not isinstance(module, str) or not module.partition(":")[0]:
            raise StorageConfigError(f"Module storage needs a module path like 'pkg.flows' or 'pkg.flows:flow', got {module!r}.")
        self.module = module
        super().__init__(**kwargs)

    def check_importable(self, what: str = "A flow") -> None:
        """Refuse a module path that only names a running script: ``Module(__name__)`` in
        a script registered with ``--path`` (``"<flow>"``) or run as ``__main__``. No agent
        can import it, so the flow would fail at run time.

        Raises:
            ScriptModuleNameError: naming ``what`` and saying what to use instead.
        """
        from prefect_storage.serialization.loader import is_script_module_name

        name = self.module.partition(":")[0]
        if is_script_module_name(name):
            raise ScriptModuleNameError(
                f"{what} uses Module(__name__), which is {name!r} when the script is registered with --path "
                "(or run directly), and no agent can import that. Either register it with --module pkg.module "
                "(so __name__ is the importable module name), write the module path explicitly "
                "(Module('pkg.module')), or use a storage that stores the script (e.g. Local(path=..., "
                "stored_as_script=True))."
            )

    def _validate_build(self) -> None:
        self.check_importable()

    def _location_for(self, flow: Flow) -> str:
        return self.module

    def _payload(self, flow_name: str) -> bytes | None:
        return None  # the flow is code in an installed package: nothing to write

    def _load(self, flow_name: str, location: str) -> Flow:
        from prefect_storage.serialization.extract import extract_flow_from_module

        return extract_flow_from_module(location, flow_name=flow_name)
