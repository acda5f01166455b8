"""Flows of a given size for benchmarks, pickled by value like user scripts are."""

from __future__ import annotations

from prefect_storage import Flow, Parameter, task


def chain_flow(n_tasks: int, name: str | None = None) -> Flow:
    """A flow of ``n_tasks`` tasks: a parameter feeding a chain of small function tasks."""

    @task
    def step(x: int, k: int) -> int:
        return x + k

    with Flow(name or f"bench-{n_tasks}") as flow:
        value = Parameter("start", default=0)
        for k in range(n_tasks - 1):
            value = step(value, k)
    return flow
