"""What a cold process pays for: `import prefect_storage` and loading one stored flow.

Guards for the import-time work measured by `python -m benchmarks local`: each test
names modules that a change could pull back into the cold path, and fails if one is.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Prints the modules the snippet loaded that the bare interpreter had not, as JSON.
_ADDED = """
import json, sys
_before = set(sys.modules)
{snippet}
print(json.dumps(sorted(set(sys.modules) - _before)))
"""


def _added_modules(snippet: str, *argv: str, env: dict[str, str] | None = None) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", _ADDED.format(snippet=snippet), *argv],
        capture_output=True, text=True, cwd=ROOT, timeout=120, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_import_prefect_storage_loads_the_context_not_the_engine() -> None:
    added = _added_modules("import prefect_storage\nassert prefect_storage.context.config.flows.checkpointing is None")
    assert {"prefect_storage.context", "prefect_storage.core.configuration"} <= added
    heavy = {
        "typing", "logging", "datetime", "copy", "hashlib", "socket",
        "prefect_storage.exceptions", "prefect_storage.core.flow", "prefect_storage.core.task",
        "prefect_storage.core.state", "prefect_storage.storage",
    }
    assert not added & heavy


def test_public_names_load_on_first_use_and_are_the_engine_objects() -> None:
    import prefect_storage
    from prefect_storage.core.edges import flatten, mapped, unmapped
    from prefect_storage.core.flow import Flow
    from prefect_storage.core.modern_flow import flow
    from prefect_storage.core.run_config import DockerRun, LocalRun, UniversalRun
    from prefect_storage.core.task import Task, task
    from prefect_storage.core.utilities import apply_map, tags
    from prefect_storage.exceptions import ClassicNotProvidedError
    from prefect_storage.tasks.control_flow.case import case

    expected = {
        "Flow": Flow, "Task": Task, "task": task, "flow": flow, "case": case, "DockerRun": DockerRun,
        "LocalRun": LocalRun, "UniversalRun": UniversalRun, "flatten": flatten, "mapped": mapped,
        "unmapped": unmapped, "apply_map": apply_map, "tags": tags,
    }
    for name, obj in expected.items():
        assert getattr(prefect_storage, name) is obj, name
    namespace: dict[str, object] = {}
    exec("from prefect_storage import *", namespace)
    assert set(prefect_storage.__all__) <= set(namespace)
    assert set(prefect_storage.__all__) <= set(dir(prefect_storage))
    with pytest.raises(AttributeError, match="no attribute 'Flw'"):
        prefect_storage.Flw  # noqa: B018
    with pytest.raises(ClassicNotProvidedError, match="Client"):
        prefect_storage.Client()


def test_core_context_stays_the_object_and_core_task_is_the_module_as_in_classic() -> None:
    # the import system rebinds a package attribute to each submodule it loads
    code = (
        "import prefect_storage.core.task, prefect_storage.core.context, prefect_storage.core.flow\n"
        "import prefect_storage, types\n"
        "from prefect_storage.core import task, context, State, Flow\n"
        "assert isinstance(task, types.ModuleType) and task.Task is prefect_storage.Task, task\n"
        "assert callable(prefect_storage.task) and prefect_storage.task is task.task\n"
        "assert context is prefect_storage.context, context\n"
        "assert State.__module__ == 'prefect_storage.core.state' and Flow.__name__ == 'Flow'\n"
    )
    _added_modules(code)


def test_loading_a_stored_flow_cold_needs_no_network_hashlib_or_states(tmp_path: Path) -> None:
    from benchmarks.flows import chain_flow
    from prefect_storage.storage import Local

    storage = Local(directory=tmp_path / "flows", add_default_labels=False)
    flow = chain_flow(20)
    storage.add_flow(flow)
    snippet = (
        "from prefect_storage.storage import Storage\n"
        "loaded = Storage.deserialize(json.loads(sys.argv[1])).get_flow(sys.argv[2])\n"
        "assert len(loaded.tasks) == 20, loaded.tasks\n"
    )
    env = {**os.environ, "PREFECT_STORAGE_HOME": str(tmp_path)}
    added = _added_modules(snippet, json.dumps(storage.serialize()), flow.name, env=env)
    assert "prefect_storage.core.flow" in added
    unneeded = {
        "hashlib", "hmac", "socket", "sqlalchemy", "prefect_storage.core.state", "prefect_storage.core.signals",
        "prefect_storage.registry.repository",
    }
    assert not added & unneeded


@pytest.mark.parametrize("size", [0, 1, 1000, 256 * 1024 - 1, 256 * 1024, 3 * 1024 * 1024 + 7])
def test_digests_match_hashlib_on_both_sides_of_the_threshold(size: int) -> None:
    from prefect_storage.digests import sha256, sha256_hex

    data = os.urandom(size)
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()
    h = sha256(data[: size // 2], expected_size=size)
    h.update(memoryview(data)[size // 2 :])
    assert h.hexdigest() == hashlib.sha256(data).hexdigest()


def test_small_digests_do_not_load_openssl() -> None:
    code = (
        "from prefect_storage.digests import sha256_hex\n"
        "assert sha256_hex(b'abc') == 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'\n"
    )
    assert "hashlib" not in _added_modules(code)


def test_every_public_submodule_is_an_attribute_right_after_import() -> None:
    # classic `import prefect` then `prefect.config.flows...`, `prefect.exceptions.X`
    code = (
        "import pkgutil, prefect_storage\n"
        "names = [m.name for m in pkgutil.iter_modules(prefect_storage.__path__) if not m.name.startswith('_')]\n"
        "missing = [n for n in names if not hasattr(prefect_storage, n)]\n"
        "assert not missing, missing\n"
        "assert prefect_storage.config.flows.checkpointing is None\n"
        "assert issubclass(prefect_storage.exceptions.FlowStorageError, Exception)\n"
    )
    _added_modules(code)


def test_a_warm_process_moves_to_openssl_after_256_kib() -> None:
    # a process that loads flows again and again must not keep the slower built-in
    code = (
        "from prefect_storage.digests import sha256_hex\n"
        "sha256_hex(b'x' * 200_000)\n"
        "assert 'hashlib' not in sys.modules\n"
        "sha256_hex(b'x' * 200_000)\n"
        "assert 'hashlib' in sys.modules\n"
    )
    _added_modules(code)


def test_classic_attribute_paths_work_right_after_import() -> None:
    # classic `import prefect` loaded everything: `prefect.core.flow.Flow` and friends
    paths = [
        "prefect_storage.core.flow.Flow", "prefect_storage.core.task.Task", "prefect_storage.core.edge.Edge",
        "prefect_storage.core.parameter.Parameter", "prefect_storage.core.parameter.DateTimeParameter",
        "prefect_storage.core.state.Success", "prefect_storage.engine.state.Failed", "prefect_storage.engine.signals.FAIL",
        "prefect_storage.engine.results.LocalResult", "prefect_storage.schedules.clocks.CronClock",
        "prefect_storage.triggers.all_successful", "prefect_storage.utilities.edges.unmapped",
        "prefect_storage.serialization.flow.FlowSchema", "prefect_storage.tasks.shell.ShellTask",
        "prefect_storage.config.flows.checkpointing", "prefect_storage.exceptions.PrefectSignal",
    ]
    code = "import prefect_storage\nfor path in sys.argv[1:]:\n    eval(path)\n"
    _added_modules(code, *paths)
