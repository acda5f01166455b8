"""Copy CSV files found with Glob, process each with apply_map, and try to draw the flow."""
import os

from prefect_storage import Flow, Parameter, apply_map, case, task
from prefect_storage.engine.executors import LocalExecutor
from prefect_storage.tasks.files import Copy, Glob

DATA_DIR = os.environ.get("DATA_DIR", "/tmp/data")


@task
def is_big(path):
    return os.path.getsize(path) > 10


@task
def size_of(path):
    return os.path.getsize(path)


@task
def mark_small(path):
    return 0


def process(path):
    big = is_big(path)
    with case(big, True):
        size_of(path)
    with case(big, False):
        mark_small(path)


@task
def as_strings(paths):
    return sorted(str(p) for p in paths)


with Flow("files-apply-map", executor=LocalExecutor()) as flow:
    pattern = Parameter("pattern", default="*.csv")
    found = Glob(path=DATA_DIR)(pattern=pattern)
    copied = Copy()(source_path=os.path.join(DATA_DIR, "a.csv"), target_path=os.path.join(DATA_DIR, "copy.bak"))
    paths = as_strings(found, upstream_tasks=[copied])
    apply_map(process, paths)

if __name__ == "__main__":
    try:
        flow.visualize(filename=os.path.join(DATA_DIR, "flow-graph"), format="svg")
    except ImportError:
        pass
    flow.run()
