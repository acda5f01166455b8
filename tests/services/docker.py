"""Docker services for the tests: an engine, a Python base image, wheels, registries.

* ``docker_engine``: the machine's engine when its socket answers, else a private
  ``dockerd`` (Debian docker.io) with its own data-root, exec-root, pidfile and
  socket. The private engine runs with ``--bridge=none`` only when no ``docker0``
  interface exists: that flag deletes ``docker0`` at start-up, which would break a
  system engine (see test-services.md, section 4). Its data-root lives under
  ``$PREFECT_STORAGE_TOOLS/docker`` so imported and built layers survive between
  runs (a lock keeps two sessions from sharing it; the second uses a temp one).
* ``docker_base_image``: Debian bookworm minbase + python3/pip, made once with
  debootstrap (``scripts/make-docker-base.sh``), cached as a tarball, ``docker import``ed.
* ``docker_wheelhouse``: wheels of prefect-storage and its dependencies, so image
  builds install offline (containers have no network here).
* ``docker_registry`` / ``docker_registry_auth``: Debian's ``docker-registry`` on
  loopback, without and with htpasswd auth.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import import_or_skip, require_service
from tests.services._process import ServiceProcess, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = "prefect-storage-test/pybase:bookworm"
REGISTRY_USER = "flows-bot"
REGISTRY_PASSWORD = "registry-pass-1234"


def tools_dir() -> Path:
    return Path(os.environ.get("PREFECT_STORAGE_TOOLS") or Path.home() / ".cache" / "prefect-storage-tools")


def _ping(url: str) -> bool:
    try:
        import docker

        client = docker.APIClient(base_url=url, version="auto", timeout=5)
        ok = bool(client.ping())
        client.close()
        return ok
    except Exception:
        return False


@dataclass
class DockerEngine:
    base_url: str
    private: bool

    def client(self):
        import docker

        return docker.APIClient(base_url=self.base_url, version="auto", timeout=300)


def _interface_exists(name: str) -> bool:
    return os.path.exists(f"/sys/class/net/{name}")


@contextlib.contextmanager
def _private_dockerd(tmp_factory: pytest.TempPathFactory | None) -> Iterator[DockerEngine]:
    if _interface_exists("docker0"):  # --bridge=none would delete it: never next to another engine
        raise RuntimeError("refusing to start a private dockerd with --bridge=none while docker0 exists")
    shared = tools_dir() / "docker"
    shared.mkdir(parents=True, exist_ok=True)
    lock = open(shared / "engine.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        data_root = shared / "engine-data"
    except OSError:  # another session owns the cached data-root
        data_root = tmp_factory.mktemp("dockerd-data") if tmp_factory else Path(tempfile.mkdtemp(prefix="dockerd-data-"))
    run = Path(tempfile.mkdtemp(prefix="psd-", dir="/tmp"))  # short: unix socket paths are limited
    socket = run / "docker.sock"
    argv = [
        "dockerd", "--data-root", str(data_root), "--exec-root", str(run / "exec"),
        "--pidfile", str(run / "dockerd.pid"), "-H", f"unix://{socket}",
        "--iptables=false", "--ip6tables=false", "--ip-masq=false",
    ]
    argv.append("--bridge=none")  # checked above: no docker0 to delete
    service = ServiceProcess("dockerd", argv, run / "dockerd.log")
    service.start()
    url = f"unix://{socket}"
    try:
        service.wait_until(lambda: _ping(url), timeout=60)
        yield DockerEngine(url, private=True)
    finally:
        service.stop(timeout=30)
        lock.close()
        shutil.rmtree(run, ignore_errors=True)


@contextlib.contextmanager
def engine(tmp_factory: pytest.TempPathFactory | None = None) -> Iterator[DockerEngine]:
    """The machine's engine, else a private dockerd; ``DOCKER_HOST`` points at it meanwhile."""
    candidates = [os.environ.get("DOCKER_HOST"), "unix:///var/run/docker.sock"]
    found = next((url for url in candidates if url and _ping(url)), None)
    previous = os.environ.get("DOCKER_HOST")
    with contextlib.ExitStack() as stack:
        if found:
            engine = DockerEngine(found, private=False)
        else:
            usable = shutil.which("dockerd") is not None and os.geteuid() == 0
            require_service(usable, "no Docker engine answers and dockerd cannot be started (needs docker.io and root)")
            require_service(
                not _interface_exists("docker0"),
                "a docker0 interface exists but its engine does not answer; refusing to start a private dockerd "
                "with --bridge=none next to it (it would delete docker0)",
            )
            engine = stack.enter_context(_private_dockerd(tmp_factory))
        os.environ["DOCKER_HOST"] = engine.base_url
        try:
            yield engine
        finally:
            if previous is None:
                os.environ.pop("DOCKER_HOST", None)
            else:
                os.environ["DOCKER_HOST"] = previous


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerEngine]:
    """A Docker engine; ``DOCKER_HOST`` points at it for the session."""
    import_or_skip("docker")
    with engine(tmp_path_factory) as found:
        yield found


def ensure_base_image(engine: DockerEngine) -> str:
    """Import the debootstrapped base image unless the engine has it (made once, cached)."""
    client = engine.client()
    if client.images(name=BASE_IMAGE):
        return BASE_IMAGE
    tarball = tools_dir() / "docker" / "pybase-bookworm.tar.gz"
    if not tarball.is_file():
        usable = shutil.which("debootstrap") is not None and os.geteuid() == 0
        require_service(usable, f"{tarball} is missing and debootstrap cannot make it (run `make system` as root)")
        tarball.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["bash", str(REPO_ROOT / "scripts" / "make-docker-base.sh"), str(tarball)], check=True, timeout=900)
    repository, tag = BASE_IMAGE.split(":")
    client.import_image_from_file(
        str(tarball), repository=repository, tag=tag, changes=["ENV LANG=C.UTF-8", 'CMD ["python3"]']
    )
    assert client.images(name=BASE_IMAGE), f"docker import of {tarball} did not create {BASE_IMAGE}"
    return BASE_IMAGE


@pytest.fixture(scope="session")
def docker_base_image(docker_engine: DockerEngine) -> str:
    """The debootstrapped Python base image, imported once into the engine."""
    return ensure_base_image(docker_engine)


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args], check=True, timeout=600)


def runtime_pins(distribution: str = "prefect-storage") -> list[str]:
    """``name==version`` for every package ``distribution`` needs at run time (no extras),
    transitively, at the versions installed here: new dependencies are picked up from
    setup.py without editing this list, and pickles match between host and image."""
    from importlib.metadata import requires, version

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    pending = [distribution]
    while pending:
        for spec in requires(pending.pop()) or []:
            requirement = Requirement(spec)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            key = canonicalize_name(requirement.name)
            if key not in pins:
                pins[key] = version(requirement.name)
                pending.append(requirement.name)
    return sorted(f"{name}=={pinned}" for name, pinned in pins.items())


def make_wheelhouse(house: Path, scratch: Path) -> Path:
    """Fill ``house`` with a wheel of this checkout of prefect-storage and of its
    dependencies (the versions installed here, so pickles match)."""
    import hashlib

    pins = runtime_pins()
    deps = tools_dir() / "docker" / ("wheels-" + hashlib.sha256(" ".join(pins).encode()).hexdigest()[:16])
    if not deps.is_dir():
        staging = Path(tempfile.mkdtemp(prefix="wheels-", dir=deps.parent if deps.parent.exists() else None))
        _pip("download", "--only-binary=:all:", "--no-deps", "--dest", str(staging), *pins)
        with contextlib.suppress(OSError):
            staging.rename(deps)
    house.mkdir(parents=True, exist_ok=True)
    for wheel in deps.glob("*.whl"):
        shutil.copy2(wheel, house)
    source = scratch / "wheel-source"  # a copy, so the build leaves nothing in the checkout
    source.mkdir(parents=True)
    for name in ("setup.py", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    shutil.copytree(REPO_ROOT / "prefect_storage", source / "prefect_storage", ignore=shutil.ignore_patterns("__pycache__"))
    _pip("wheel", "--no-deps", "--wheel-dir", str(house), str(source))
    assert any(house.glob("prefect_storage-*.whl")), "no prefect_storage wheel was built"
    return house


@pytest.fixture(scope="session")
def docker_wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wheels of prefect-storage and its dependencies, for offline image builds."""
    return make_wheelhouse(tmp_path_factory.mktemp("wheelhouse"), tmp_path_factory.mktemp("wheel-scratch"))


@dataclass
class Registry:
    host: str  # "127.0.0.1:PORT", usable as registry_url
    auth: bool

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def tags(self, repository: str) -> list[str]:
        import requests

        auth = (REGISTRY_USER, REGISTRY_PASSWORD) if self.auth else None
        response = requests.get(f"{self.url}/v2/{repository}/tags/list", auth=auth, timeout=10)
        if response.status_code == 404:
            return []
        response.raise_for_status()
        return list(response.json().get("tags") or [])


def _start_registry(tmp: Path, htpasswd: Path | None) -> tuple[ServiceProcess, Registry]:
    port = free_port()
    storage = tmp / "data"
    storage.mkdir()
    auth = f"auth: {{htpasswd: {{realm: flows, path: {htpasswd}}}}}\n" if htpasswd else ""
    config = tmp / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: warn, accesslog: {disabled: true}}\n"
        f"storage: {{filesystem: {{rootdirectory: {storage}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}, secret: test-secret-{port}}}\n" + auth
    )
    service = ServiceProcess("docker-registry", ["docker-registry", "serve", str(config)], tmp / "registry.log").start()

    def ready() -> bool:
        import requests

        return requests.get(f"http://127.0.0.1:{port}/v2/", timeout=1).status_code in (200, 401)

    service.wait_until(ready, timeout=30)
    return service, Registry(f"127.0.0.1:{port}", auth=htpasswd is not None)


@pytest.fixture(scope="session")
def docker_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """Debian's docker-registry on loopback, no auth."""
    require_service(shutil.which("docker-registry") is not None, "docker-registry is not installed (apt docker-registry)")
    service, registry = _start_registry(tmp_path_factory.mktemp("registry"), None)
    try:
        yield registry
    finally:
        service.stop()


@pytest.fixture(scope="session")
def docker_registry_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """Debian's docker-registry on loopback with htpasswd auth (REGISTRY_USER / REGISTRY_PASSWORD)."""
    require_service(shutil.which("docker-registry") is not None, "docker-registry is not installed (apt docker-registry)")
    require_service(shutil.which("htpasswd") is not None, "htpasswd is not installed (apt apache2-utils)")
    tmp = tmp_path_factory.mktemp("registry-auth")
    htpasswd = tmp / "htpasswd"
    line = subprocess.run(["htpasswd", "-Bbn", REGISTRY_USER, REGISTRY_PASSWORD], check=True, capture_output=True, text=True)
    htpasswd.write_text(line.stdout)
    service, registry = _start_registry(tmp, htpasswd)
    try:
        yield registry
    finally:
        service.stop()

