"""Map, case, triggers, state handlers and caching in one flow (an order pipeline)."""
import datetime

import prefect_storage
from prefect_storage import Flow, Parameter, case, task, unmapped
from prefect_storage.engine.cache_validators import all_parameters
from prefect_storage.tasks.control_flow import merge
from prefect_storage.triggers import always_run, any_failed


def audit(obj, old_state, new_state):
    if new_state.is_finished():
        prefect_storage.context.get("logger").info("audit: %s -> %s", obj.name, type(new_state).__name__)
    return new_state


@task(cache_for=datetime.timedelta(minutes=10), cache_validator=all_parameters)
def load_prices(region):
    return {"apple": 2, "pear": 3, "plum": 5}


@task(max_retries=1, retry_delay=datetime.timedelta(seconds=0), state_handlers=[audit])
def price_order(order, prices):
    item, qty = order
    return prices[item] * qty


@task
def total(amounts):
    return sum(amounts)


@task
def is_big(value, threshold):
    return value >= threshold


@task
def manual_review(value):
    return f"review {value}"


@task
def auto_approve(value):
    return f"approved {value}"


@task(trigger=any_failed)
def page_on_call():
    return "paged"


@task(trigger=always_run, state_handlers=[audit])
def close_batch(decision):
    return f"closed ({decision})"


with Flow("combined-pipeline", state_handlers=[audit]) as flow:
    region = Parameter("region", default="eu")
    threshold = Parameter("threshold", default=20)
    orders = Parameter("orders", default=[["apple", 3], ["pear", 2], ["plum", 1]])
    prices = load_prices(region)
    amounts = price_order.map(orders, unmapped(prices))
    value = total(amounts)
    big = is_big(value, threshold)
    with case(big, True):
        reviewed = manual_review(value)
    with case(big, False):
        approved = auto_approve(value)
    decision = merge(reviewed, approved)
    paged = page_on_call(upstream_tasks=[amounts])
    closed = close_batch(decision)

flow.set_reference_tasks([closed])
