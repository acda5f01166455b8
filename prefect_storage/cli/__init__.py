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


def main() -> None:
    """Entry point of the ``prefect-storage`` console script."""
    from prefect_storage.cli.app import cli

    cli(prog_name="prefect-storage")


__all__ = ["main"]
