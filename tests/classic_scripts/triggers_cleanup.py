"""A flaky step, a cleanup that always runs, and an alert only when something failed."""
from prefect_storage import Flow, task
from prefect_storage.engine.signals import FAIL
from prefect_storage.triggers import all_finished, all_successful, any_failed


@task
def create_tmp_table():
    return "tmp_orders"


@task
def load_orders(table):
    raise FAIL(f"could not load into {table}")


@task(trigger=all_finished)
def drop_tmp_table(table):
    return f"dropped {table}"


@task(trigger=any_failed)
def alert():
    return "alert sent"


@task(trigger=all_successful)
def publish():
    return "published"


with Flow("triggers-cleanup") as flow:
    table = create_tmp_table()
    loaded = load_orders(table)
    dropped = drop_tmp_table(table, upstream_tasks=[loaded])
    alerted = alert(upstream_tasks=[loaded])
    published = publish(upstream_tasks=[loaded])

# the flow is judged on its cleanup, like the production version of this script
flow.set_reference_tasks([dropped])
