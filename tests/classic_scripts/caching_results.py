"""Expensive steps cached in time and by inputs; a checkpointed result with a target."""
import datetime
import os

from prefect_storage import Flow, Parameter, task
from prefect_storage.engine.cache_validators import all_inputs
from prefect_storage.engine.results import LocalResult

CALLS = []
RESULTS_DIR = os.environ.get("RESULTS_DIR", "/tmp/prefect-results")


@task(cache_for=datetime.timedelta(hours=1), cache_validator=all_inputs)
def fetch_rates(currency):
    CALLS.append(currency)
    return {"EUR": 1.1, "GBP": 1.3}[currency]


@task(result=LocalResult(dir=RESULTS_DIR), target="{task_name}-{parameters[currency]}.txt", checkpoint=True)
def convert(rate, amount):
    return round(rate * amount, 2)


with Flow("caching-results") as flow:
    currency = Parameter("currency", default="EUR")
    amount = Parameter("amount", default=100)
    converted = convert(fetch_rates(currency), amount)
