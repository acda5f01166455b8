"""Docker storage: image build time with 1 and 20 flows, rebuild time when nothing
changed, and image size over the base image.

Runs against the same engine and debootstrapped base image as the tests (the
machine's engine, else a private dockerd), installing offline from a wheelhouse.

* ``docker_build_cold_{1,20}_flows``: ``build_kwargs={"nocache": True}``: every
  layer, including the pip install, is rebuilt;
* ``docker_build_{1,20}_flows``: new flows, dependency layers cached (the usual
  re-registration);
* ``docker_rebuild_unchanged_timestamp_tag``: the same flows again with the classic
  timestamp tag: Docker's layer cache makes it fast, but it is a new tag;
* ``docker_rebuild_unchanged_content_tag``: ``content_tag=True``: the image is
  found and nothing is built;
* ``docker_image_size_over_base_{1,20}_flows``: bytes added to the base image.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._harness import measure


def _flows(count: int, tag: str) -> list[Any]:
    from tests.conformance.flows import make_flow

    return [make_flow(name=f"bench flow {tag} {i}", value=i) for i in range(count)]


def main(emit: Callable[..., Any]) -> None:
    from prefect_storage.storage.docker import Docker
    from tests.services.docker import engine, ensure_base_image, make_wheelhouse

    with tempfile.TemporaryDirectory(prefix="bench-docker-") as scratch, engine() as found:
        client = found.client()
        base = ensure_base_image(found)
        wheels = make_wheelhouse(Path(scratch) / "wheels", Path(scratch))
        base_size = client.inspect_image(base)["Size"]
        made: list[str] = []

        def storage(count: int, **kwargs: Any) -> Docker:
            s = Docker(base_image=base, local_image=True, wheelhouse=str(wheels), image_name="bench-flows", **kwargs)
            for flow in _flows(count, uuid.uuid4().hex[:8]):
                s.add_flow(flow)
            return s

        def build(s: Docker, **kwargs: Any) -> None:
            s.build(push=False)
            made.append(s.name)

        try:
            for count in (1, 20):
                cold = measure(lambda c=count: build(storage(c, build_kwargs={"nocache": True})), n=3, warmup=0)
                emit(f"docker_build_cold_{count}_flows", cold, flows=count)
                warm = measure(lambda c=count: build(storage(c)), n=5, warmup=1)
                emit(f"docker_build_{count}_flows", warm, flows=count)
                size = client.inspect_image(made[-1])["Size"] - base_size
                row = {"name": f"docker_image_size_over_base_{count}_flows", "flows": count, "bytes": size}
                print(json.dumps({**row, "mib": round(size / 2**20, 2), "base_mib": round(base_size / 2**20, 1)}), flush=True)

            same = storage(20)
            build(same)

            def rebuild_timestamp() -> None:
                time.sleep(0.001)
                same.image_tag = None  # a fresh timestamp tag, like a re-registration
                build(same)

            emit("docker_rebuild_unchanged_timestamp_tag", measure(rebuild_timestamp, n=5, warmup=1), flows=20)
            tagged = storage(20, content_tag=True)
            build(tagged)
            emit("docker_rebuild_unchanged_content_tag", measure(lambda: build(tagged), n=5, warmup=1), flows=20)
        finally:
            for image in set(made):
                if client.images(name=image):
                    client.remove_image(image, force=True)
