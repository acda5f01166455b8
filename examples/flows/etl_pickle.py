"""An ETL flow stored pickled with Local storage."""

from prefect_storage import Flow, Parameter, task
from prefect_storage.storage import Local


@task
def extract(n: int) -> list[int]:
    return list(range(1, n + 1))


@task
def transform(values: list[int]) -> list[int]:
    return [v * v for v in values]


@task
def load(values: list[int]) -> int:
    return sum(values)


with Flow("etl (pickled)", storage=Local(add_default_labels=False)) as flow:
    n = Parameter("n", default=10)
    load(transform(extract(n)))
