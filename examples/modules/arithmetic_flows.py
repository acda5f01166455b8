"""Flows that live in an importable module: `prefect-storage register --module arithmetic_flows`
gives them Module storage, so agents import this module instead of reading a stored file.
(`make demo` puts examples/modules on PYTHONPATH; in a real project the module is installed.)"""

from prefect_storage import Flow, Parameter, task
from prefect_storage.results import LocalResult


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def double(value: int) -> int:
    return 2 * value


# Module storage has no paired result, so the flow names one for its task outputs.
with Flow("arithmetic (module)", result=LocalResult()) as flow:
    double(add(Parameter("x", default=20), Parameter("y", default=1)))
