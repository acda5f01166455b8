"""A classic flow using map + case + triggers + state handlers + caching: shared by the
flow.run() test and the register -> agent test (which stores this file as a script)."""

import datetime

from prefect_storage import Flow, Parameter, case, task, unmapped
from prefect_storage.core import triggers
from prefect_storage.tasks.control_flow import merge

TRANSITIONS = []


def remember(task_obj, old, new):
    TRANSITIONS.append((task_obj.name, type(new).__name__))


@task(cache_for=datetime.timedelta(minutes=5))
def base(n):
    return n * 100


@task
def numbers(n):
    return list(range(n))


@task(state_handlers=[remember])
def scale(x, factor):
    if x == 3:
        raise ValueError("three is unlucky")
    return x * factor


@task(trigger=triggers.all_finished)
def summarize(values):
    return sum(v for v in values if isinstance(v, int))


@task
def is_big(total):
    return total > 500


@task
def label(text, total):
    return f"{text}:{total}"


@task(trigger=triggers.any_failed)
def alert(values):
    return "some children failed"


with Flow("combined") as flow:
    n = Parameter("n", default=5)
    factor = base(1)
    scaled = scale.map(numbers(n), unmapped(factor))
    total = summarize(scaled)
    big = is_big(total)
    with case(big, True):
        yes = label("big", total)
    with case(big, False):
        no = label("small", total)
    result = merge(yes, no)
    alarm = alert(scaled)

flow.set_reference_tasks([result, alarm])
