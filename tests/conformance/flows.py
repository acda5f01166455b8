"""Flows the conformance suite stores: defined inside functions, so cloudpickle
pickles them by value and a fresh process needs only prefect_storage to load them."""

from __future__ import annotations

from prefect_storage import Flow, task

FLOW_NAME = "conformance flow"


def make_flow(name: str = FLOW_NAME, value: int = 21) -> Flow:
    """A two-task flow whose final result is ``value * 2``."""

    @task
    def produce() -> int:
        return value

    @task
    def double(x: int) -> int:
        return x * 2

    with Flow(name) as flow:
        double(produce())
    return flow


SCRIPT_TEMPLATE = '''\
from prefect_storage import Flow, task

VALUE = {value}


@task
def produce():
    return VALUE


@task
def double(x):
    return x * 2


with Flow({name!r}) as flow:
    double(produce())

flow.run()  # a script that runs itself must still load: this is skipped while loading
'''


def flow_script(name: str = FLOW_NAME, value: int = 21) -> str:
    """The text of a flow script equivalent to :func:`make_flow`."""
    return SCRIPT_TEMPLATE.format(name=name, value=value)


def final_value(flow: Flow) -> object:
    """Run ``flow`` and return the result of its terminal task."""
    state = flow.run()
    assert state is not None and state.is_successful(), state
    (terminal,) = flow.terminal_tasks()
    return state.result[terminal].result
