"""Transports to external services, shared by storages, results and runner storage.

One module per service. SDKs are imported inside functions, on first use, through
:func:`prefect_storage.backends.optional.require`, so ``import prefect_storage`` never
imports them and a missing one names the pip extra to install.
"""
