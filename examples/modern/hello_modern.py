"""A modern (Prefect 2/3 style) flow that calls a classic task: deployed from
``prefect.yaml`` and run by the same agent as the classic flows."""

from prefect_storage import flow, task


@task
def greet(name: str) -> str:
    return f"hello, {name}"


@flow(log_prints=True)
def modern_hello(name: str = "world") -> str:
    message = greet(name)  # a classic task runs at once inside a modern flow
    print(message)
    return message


if __name__ == "__main__":
    modern_hello()
