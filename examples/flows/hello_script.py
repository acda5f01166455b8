"""A flow stored as a script: agents execute this file, so edits apply without re-registering."""

from pathlib import Path

from prefect_storage import Flow, Parameter, task
from prefect_storage.storage import Local


@task
def greet(name: str) -> str:
    return f"hello, {name}"


with Flow(
    "hello (script)",
    storage=Local(path=str(Path(__file__).resolve()), stored_as_script=True, add_default_labels=False),
) as flow:
    greet(Parameter("name", default="world"))
