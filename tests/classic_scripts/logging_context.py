"""Print-based tasks (log_stdout), the context logger and context values, task_run_name."""
import prefect_storage
from prefect_storage import Flow, Parameter, task
from prefect_storage.utilities.logging import get_logger

module_logger = get_logger("logging-context")


@task(log_stdout=True, task_run_name="greet-{name}")
def greet(name):
    print(f"Hello, {name}!")
    return prefect_storage.context.get("task_name")


@task
def describe():
    logger = prefect_storage.context.get("logger")
    logger.info("flow %s", prefect_storage.context.flow_name)
    return {
        "flow_name": prefect_storage.context["flow_name"],
        "has_date": "date" in prefect_storage.context,
        "parameters": dict(prefect_storage.context.get("parameters", {})),
    }


with Flow("logging-context") as flow:
    name = Parameter("name", default="world")
    greeting = greet(name)
    info = describe(upstream_tasks=[greeting])
