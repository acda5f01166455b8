"""Modern deployments: where a flow's code is (pull steps) and what to call (an entrypoint).

* :mod:`~prefect_storage.deployments.steps` — pull, push, build and utility steps,
  under their Prefect names too;
* :mod:`~prefect_storage.deployments.deploy` — ``flow.deploy()``;
* :mod:`~prefect_storage.deployments.project` — ``prefect.yaml`` (``prefect-storage
  deploy`` / ``init``);
* :mod:`~prefect_storage.deployments.runtime` — what an agent runs for a deployment run;
* :mod:`~prefect_storage.deployments.migrate` — classic registered flows -> deployments.

Importing this package imports nothing heavy.
"""
