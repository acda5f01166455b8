"""The healthcheck a Docker-storage image runs while it is built.

``RUN python3 -m prefect_storage.storage.docker_healthcheck '<json list of flow
locations>' '(3, 11)'`` loads every flow baked into the image, the way an agent
will, and exits non-zero (failing ``docker build``) with a message saying what to
fix when:

* the image's Python minor version differs from the one the flows were pickled
  with (a pickled flow would not load; a script only gets a warning);
* a flow needs a module the image does not have (the module is named);
* a flow cannot be loaded for any other reason.

It also warns, without failing, about retried tasks whose keyed upstream tasks
have no result to restore their inputs from (the classic result check).
"""

from __future__ import annotations

import ast
import json
import sys
import warnings

FAILED = "Docker storage healthcheck FAILED"


def _fail(message: str) -> int:
    print(f"{FAILED}: {message}", flush=True)
    return 1


def _missing_module(exc: BaseException) -> str | None:
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ModuleNotFoundError) and current.name:
            return current.name
        current = current.__cause__ or current.__context__
    return None


def check_python_version(built: tuple[int, int], locations: list[str]) -> int:
    here = sys.version_info[:2]
    if tuple(built[:2]) == here:
        print("System Version check: OK")
        return 0
    message = (
        f"Your Docker container is using python version {here[0]}.{here[1]}, but your Flow was serialized using "
        f"{built[0]}.{built[1]}"
    )
    if any(not location.endswith(".py") for location in locations):
        return _fail(
            message + "; pickled flows only load on the same Python minor version. Use a base image with Python "
            f"{built[0]}.{built[1]}, build from that Python version, or store the flows as scripts."
        )
    warnings.warn(message + "; this could lead to unexpected errors in deployment.", stacklevel=1)
    return 0


def check_flow(location: str) -> int:
    from prefect_storage.context import loading

    try:
        with loading():
            if location.endswith(".py"):
                from prefect_storage.serialization.extract import extract_flow_from_file

                flow = extract_flow_from_file(file_path=location)
            else:
                from prefect_storage.serialization.flow_pickle import flow_from_bytes_pickle

                with open(location, "rb") as fh:
                    flow = flow_from_bytes_pickle(fh.read(), source=location)
    except FileNotFoundError:
        return _fail(f"the flow file {location} is not in the image; add it with `files` or fix `path`.")
    except Exception as exc:
        module = _missing_module(exc)
        if module:
            return _fail(
                f"the flow at {location} needs the module {module!r}, which is not installed in the image. "
                f"Add it to python_dependencies (pip package), copy it in with `files`, or use a base image that has it."
            )
        return _fail(f"the flow at {location} cannot be loaded: {exc}")
    result_check(flow)
    print(f"Flow {flow.name!r} from {location}: OK")
    return 0


def result_check(flow: object) -> None:
    """Warn (classic wording) about retried tasks whose keyed inputs are never persisted."""
    if getattr(flow, "result", None) is not None:
        return
    for edge in sorted(getattr(flow, "edges", ()), key=lambda e: (e.downstream_task.name, e.upstream_task.name)):
        task = edge.downstream_task
        if edge.key is not None and task.max_retries > 0 and edge.upstream_task.result is None:
            warnings.warn(
                f"Task {task} has retry settings but some upstream dependencies do not have result types. "
                "See https://docs.prefect.io/core/concepts/results.html for more details.",
                stacklevel=1,
            )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m prefect_storage.storage.docker_healthcheck '<json locations>' '(major, minor)'")
        return 2
    locations = [str(item) for item in json.loads(args[0])]
    built = tuple(ast.literal_eval(args[1]))
    print("Beginning health checks...")
    status = check_python_version(built, locations)
    for location in locations:
        if status:
            break
        status = check_flow(location)
    if status == 0:
        print("All health checks passed.")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
