"""Moving classic Prefect 1.x code to prefect_storage: :mod:`.imports` rewrites imports."""
