"""The ``prefect-storage`` command line: register flows, run them, run agents.

Exit codes (stable; scripts may rely on them):

=====  ==========================================================================
0      success
1      the operation failed: a registration errored, a run ended Failed (``run
       --wait``), a storage check failed, a path or module could not be loaded
2      usage error: unknown option, bad ``--param``, unknown parameter name
3      not found: no such flow or flow run in the registry
4      the registry is unreachable or was written by a newer prefect_storage
=====  ==========================================================================
"""

from __future__ import annotations

from prefect_storage.backends.optional import require

for _needed in ("click", "rich", "sqlalchemy"):
    require(_needed, extra="cli", purpose="the prefect-storage command")

from prefect_storage.cli import agent, build, flows, kv, migrate, register, runs, scheduler, storage_check  # noqa: E402
from prefect_storage.cli.app import cli  # noqa: E402

cli.add_command(register.register)
cli.add_command(build.build)
cli.add_command(flows.flows)
cli.add_command(runs.run)
cli.add_command(runs.runs)
cli.add_command(agent.agent)
cli.add_command(scheduler.scheduler)
flows.flows.add_command(scheduler.schedule)
cli.add_command(storage_check.storage)
cli.add_command(migrate.migrate)
cli.add_command(kv.kv)


def main() -> None:
    """Entry point of the ``prefect-storage`` console script."""
    cli(prog_name="prefect-storage")


__all__ = ["cli", "main"]
