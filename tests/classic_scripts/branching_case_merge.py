"""Choose a branch at run time with case/merge, then report which one ran."""
from prefect_storage import Flow, Parameter, case, task
from prefect_storage.tasks.control_flow import merge


@task
def check_mode(mode):
    return mode == "full"


@task
def full_refresh():
    return "full refresh done"


@task
def incremental():
    return "incremental done"


@task
def report(result):
    print(result)
    return result.upper()


with Flow("branching") as flow:
    mode = Parameter("mode", default="incremental")
    is_full = check_mode(mode)
    with case(is_full, True):
        a = full_refresh()
    with case(is_full, False):
        b = incremental()
    outcome = report(merge(a, b))
