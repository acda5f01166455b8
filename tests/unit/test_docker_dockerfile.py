"""Docker storage without an engine: validation, naming, Dockerfile generation, healthcheck logic."""

from __future__ import annotations

import datetime
import importlib
import json
import re
import sys
from pathlib import Path

import pytest

from prefect_storage import Flow, task
from prefect_storage.exceptions import StorageConfigError
from prefect_storage.serialization import flow_to_bytes_pickle
from prefect_storage.storage import Storage
from prefect_storage.storage import docker_healthcheck as healthcheck
from prefect_storage.storage.docker import Docker
from prefect_storage.storage.docker_context import (
    DockerfileSpec,
    context_digest,
    render_dockerfile,
    write_build_context,
)
from tests.conformance.flows import make_flow


def test_base_image_and_dockerfile_are_exclusive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=re.escape("Only one of `base_image` and `dockerfile` can be provided.")):
        Docker(base_image="python:3.11", dockerfile=str(tmp_path / "Dockerfile"))


def test_files_must_be_absolute() -> None:
    with pytest.raises(ValueError, match=r"Provided paths \{a.txt, b/c\} are not absolute file paths"):
        Docker(files={"a.txt": "/x", "b/c": "/y", "/ok": "/z"})


def test_script_mode_needs_a_path(tmp_path: Path) -> None:
    storage = Docker(stored_as_script=True)
    storage.add_flow(make_flow())  # classic: accepted here, refused when the Dockerfile is made
    with pytest.raises(ValueError, match=re.escape("A `path` must be provided to show where flow `.py` file is stored in the image.")):
        storage.create_dockerfile_object(str(tmp_path))


def test_defaults_do_not_mutate_caller_arguments() -> None:
    deps, env = ["pandas"], {"A": "1"}
    storage = Docker(python_dependencies=deps, env_vars=env)
    assert deps == ["pandas"] and env == {"A": "1"}
    assert storage.env_vars["PREFECT__USER_CONFIG_PATH"] == "/opt/prefect/config.toml"
    assert storage.base_image == "python:{}.{}-slim".format(*sys.version_info[:2])


def test_default_flow_location_and_name() -> None:
    storage = Docker(registry_url="gcr.io/p", image_name="a", image_tag="b")
    assert storage.add_flow(make_flow(name="My Flow")) == "/opt/prefect/flows/my-flow.prefect"
    assert storage.name == "gcr.io/p/a:b"
    assert Docker(image_name="a", image_tag="b").name == "a:b"
    with pytest.raises(ValueError, match="Docker storage is missing required fields image_name and image_tag"):
        _ = Docker().name


def test_serialized_fields_round_trip() -> None:
    storage = Docker(registry_url="r:5000", image_name="n", image_tag="t", registry_auth_secret="CREDS")
    storage.add_flow(make_flow())
    data = json.loads(json.dumps(storage.serialize()))
    assert {k: data[k] for k in ("registry_url", "image_name", "image_tag", "prefect_directory", "registry_auth_secret")} == {
        "registry_url": "r:5000", "image_name": "n", "image_tag": "t", "prefect_directory": "/opt/prefect",
        "registry_auth_secret": "CREDS",
    }
    rebuilt = Storage.deserialize(data)
    assert isinstance(rebuilt, Docker) and rebuilt.name == "r:5000/n:t" and rebuilt.flows == storage.flows


def _spec(**overrides: object) -> DockerfileSpec:
    values: dict[str, object] = dict(
        base_image="python:3.11-slim",
        dockerfile_text=None,
        env_vars={"PREFECT__USER_CONFIG_PATH": "/opt/prefect/config.toml", "B": "it's"},
        prefect_requirement="prefect-storage==0.1.0",
        python_dependencies=["pandas>=2", "requests"],
        prefect_directory="/opt/prefect",
        flow_payloads={"/opt/prefect/flows/etl.prefect": b"x"},
        files={"/host/data.csv": "/opt/data.csv"},
        extra_dockerfile_commands=["RUN echo extra"],
        healthcheck_locations=["/opt/prefect/flows/etl.prefect"],
        python_version=(3, 11),
    )
    values.update(overrides)
    return DockerfileSpec(**values)  # type: ignore[arg-type]


def test_dockerfile_follows_the_classic_order() -> None:
    text = render_dockerfile(_spec())
    lines = [line for line in text.splitlines() if line and not line.startswith("    ")]
    kinds = [" ".join(line.split()[:2]) for line in lines]
    assert lines[0] == "FROM python:3.11-slim"
    assert lines[1] == "ENV B=\"it's\" \\"  # repr() quoting, sorted keys
    assert "PREFECT__USER_CONFIG_PATH='/opt/prefect/config.toml'" in text
    assert kinds[2:] == [
        "RUN python3", "RUN python3", "RUN python3", "RUN mkdir", "COPY flows/", "COPY data.csv", "RUN echo", "RUN python3",
    ]
    assert lines[2] == "RUN python3 -m pip install --upgrade pip"
    assert "pip show prefect-storage >/dev/null 2>&1 || python3 -m pip install prefect-storage==0.1.0" in lines[3]
    assert lines[4] == "RUN python3 -m pip install 'pandas>=2' requests"
    assert lines[-1] == (
        "RUN python3 -m prefect_storage.storage.docker_healthcheck '[\"/opt/prefect/flows/etl.prefect\"]' '(3, 11)'"
    )


def test_flows_outside_the_default_folder_get_their_own_copy(tmp_path: Path) -> None:
    spec = _spec(flow_payloads={"/opt/prefect/flows/a.prefect": b"a", "/srv/custom/b.flow": b"b"}, files={})
    text = render_dockerfile(spec)
    assert "COPY flows/ /opt/prefect/flows/\n" in text
    assert re.search(r"^COPY flows-extra/[0-9a-f]{8}-b\.flow /srv/custom/b\.flow$", text, re.M)
    write_build_context(spec, tmp_path)
    assert [p.read_bytes() for p in (tmp_path / "flows-extra").iterdir()] == [b"b"]


def test_dockerfile_is_deterministic() -> None:
    reordered = _spec(env_vars={"B": "it's", "PREFECT__USER_CONFIG_PATH": "/opt/prefect/config.toml"})
    assert render_dockerfile(_spec()) == render_dockerfile(_spec()) == render_dockerfile(reordered)


def test_offline_mode_installs_from_wheels_without_index() -> None:
    text = render_dockerfile(_spec(wheelhouse="/somewhere"))
    assert "COPY wheels /opt/prefect/wheels" in text
    assert "--upgrade pip" not in text
    assert text.count("--no-index --find-links /opt/prefect/wheels") == 2


def test_ignore_healthchecks_drops_the_run_and_custom_dockerfile_replaces_from() -> None:
    text = render_dockerfile(_spec(ignore_healthchecks=True, base_image=None, dockerfile_text="FROM mine\nRUN true\n"))
    assert "docker_healthcheck" not in text
    assert text.startswith("FROM mine\nRUN true\n")


def test_build_context_holds_flows_files_dockerignore_and_is_hashable(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("a,b\n")
    ignore = tmp_path / "ignore"
    ignore.write_text("*.secret\n")
    spec = _spec(files={str(data): "/opt/data.csv"}, dockerignore=str(ignore))
    one, two = tmp_path / "one", tmp_path / "two"
    write_build_context(spec, one)
    write_build_context(spec, two)
    assert (one / "data.csv").read_text() == "a,b\n"
    assert (one / ".dockerignore").read_text() == "*.secret\n"
    assert sorted(p.name for p in (one / "flows").iterdir()) == ["etl.prefect"]
    assert context_digest(one) == context_digest(two)
    (two / "data.csv").write_text("changed\n")
    assert context_digest(one) != context_digest(two)


def test_basename_clash_in_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.txt").write_text("1")
    (tmp_path / "b" / "x.txt").write_text("2")
    spec = _spec(files={str(tmp_path / "a" / "x.txt"): "/1", str(tmp_path / "b" / "x.txt"): "/2"})
    with pytest.raises(ValueError, match="already exists in"):
        write_build_context(spec, tmp_path / "ctx")


def test_create_dockerfile_object_uses_the_storage_settings(tmp_path: Path) -> None:
    storage = Docker(base_image="img:1", python_dependencies=["pandas"], extra_dockerfile_commands=["RUN echo hi"])
    storage.add_flow(make_flow(name="etl"))
    path = storage.create_dockerfile_object(str(tmp_path))
    text = Path(path).read_text()
    assert text.startswith("FROM img:1\n")
    assert "COPY flows/ /opt/prefect/flows/\n" in text and (tmp_path / "flows" / "etl.prefect").is_file()
    assert "'pandas'" not in text and "install pandas" in text


# -- the in-image healthcheck, run here against files on this machine ---------------------


def _pickled(tmp_path: Path, flow: Flow) -> str:
    location = tmp_path / "flow.prefect"
    location.write_bytes(flow_to_bytes_pickle(flow))
    return str(location)


def test_healthcheck_passes_for_a_loadable_flow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    location = _pickled(tmp_path, make_flow())
    assert healthcheck.main([json.dumps([location]), repr(sys.version_info[:2])]) == 0
    assert "All health checks passed." in capsys.readouterr().out


def test_healthcheck_fails_on_python_mismatch_for_pickles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    location = _pickled(tmp_path, make_flow())
    assert healthcheck.main([json.dumps([location]), "(2, 7)"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "serialized using 2.7" in out and "same Python minor version" in out


def test_healthcheck_only_warns_on_python_mismatch_for_scripts(tmp_path: Path) -> None:
    script = tmp_path / "flow.py"
    script.write_text("from prefect_storage import Flow\nflow = Flow('s')\n")
    with pytest.warns(UserWarning, match="serialized using 2.7"):
        assert healthcheck.main([json.dumps([str(script)]), "(2, 7)"]) == 0


def test_healthcheck_names_a_missing_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "vanishing_helper_mod.py").write_text("def value():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    helper = importlib.import_module("vanishing_helper_mod")
    with Flow("needs helper") as flow:
        task(helper.value)()
    location = _pickled(tmp_path, flow)
    (tmp_path / "vanishing_helper_mod.py").unlink()
    sys.modules.pop("vanishing_helper_mod")
    importlib.invalidate_caches()
    assert healthcheck.main([json.dumps([location]), repr(sys.version_info[:2])]) == 1
    assert "needs the module 'vanishing_helper_mod'" in capsys.readouterr().out


def test_healthcheck_reports_a_missing_or_broken_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert healthcheck.main([json.dumps([str(tmp_path / "gone.prefect")]), repr(sys.version_info[:2])]) == 1
    assert "is not in the image" in capsys.readouterr().out
    broken = tmp_path / "broken.prefect"
    broken.write_bytes(b"garbage")
    assert healthcheck.main([json.dumps([str(broken)]), repr(sys.version_info[:2])]) == 1
    assert "cannot be loaded" in capsys.readouterr().out


def test_docker_storage_import_needs_no_sdk() -> None:
    code = "import sys, prefect_storage.storage.docker, prefect_storage.storage.webhook; print('docker' in sys.modules, 'requests' in sys.modules)"
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_docker_build_without_flows_is_not_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Classic builds the image even with no flows: the build goes on to the engine.
    from prefect_storage.exceptions import BackendUnavailableError

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(BackendUnavailableError, match="Docker engine"):
        Docker().build(push=False)


def test_healthcheck_warns_about_retries_without_upstream_results(tmp_path: Path) -> None:
    @task
    def produce() -> int:
        return 1

    @task(max_retries=2, retry_delay=datetime.timedelta(seconds=1))
    def consume(x: int) -> int:
        return x

    with Flow("retries") as flow:
        consume(produce())
    location = _pickled(tmp_path, flow)
    with pytest.warns(UserWarning, match="has retry settings but some upstream dependencies do not have result types"):
        assert healthcheck.main([json.dumps([location]), repr(sys.version_info[:2])]) == 0


# -- stream error classification (the SDK reports push/pull errors inside its stream) -----


@pytest.mark.parametrize(
    ("line", "action", "error"),
    [
        ({"error": "no basic auth credentials"}, "push", "StorageAuthError"),
        ({"errorDetail": {"message": "unauthorized: authentication required"}}, "pull", "StorageAuthError"),
        ({"error": "manifest unknown"}, "pull", "FlowNotFoundError"),
        ({"error": "Get http://127.0.0.1:9/v2/: dial tcp: connection refused"}, "push", "ImagePushError"),
    ],
)
def test_stream_errors_become_typed_errors(line: dict, action: str, error: str) -> None:
    from prefect_storage.backends import docker as backend

    stream = [{"status": "Preparing", "id": "abc"}, {"id": "abc", "progressDetail": {"current": 5, "total": 10}}, line]
    with pytest.raises(Exception) as info:
        backend._follow_layers(stream, action, "r/x:1")
    assert type(info.value).__name__ == error


@pytest.mark.parametrize(
    ("image", "expected"),
    [("a:b", ("a", "b")), ("127.0.0.1:5000/x/y:t", ("127.0.0.1:5000/x/y", "t")), ("127.0.0.1:5000/x", ("127.0.0.1:5000/x", "latest"))],
)
def test_split_image(image: str, expected: tuple[str, str]) -> None:
    from prefect_storage.backends.docker import split_image

    assert split_image(image) == expected


def test_registry_credentials_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.backends.docker import auth_config_from_secret
    from prefect_storage.secrets import redact

    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__REG", json.dumps({"username": "u", "password": "pw-12345"}))
    assert auth_config_from_secret("REG") == {"username": "u", "password": "pw-12345"}
    assert "pw-12345" not in redact("pw-12345 leaked")
    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__BAD", "not json")
    with pytest.raises(StorageConfigError, match="must hold JSON"):
        auth_config_from_secret("BAD")
    assert auth_config_from_secret(None) is None
