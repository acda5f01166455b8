"""Square numbers in parallel on a local Dask executor (threads), old import path too."""
from prefect_storage import Flow, Parameter, task
from prefect_storage.executors import LocalDaskExecutor


@task
def numbers(n):
    return list(range(n))


@task
def square(x):
    return x * x


@task
def total(values):
    return sum(values)


with Flow("dask-parallel", executor=LocalDaskExecutor(scheduler="threads", num_workers=2)) as flow:
    n = Parameter("n", default=10)
    result = total(square.map(numbers(n)))
