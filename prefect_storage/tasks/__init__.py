"""The classic task library (``prefect.tasks``)."""
