"""Classic ``prefect.utilities``: the helper modules flow code imports.

``edges``, ``tasks``, ``notifications``, ``logging``, ``context``, ``configuration``,
``debug``, ``collections`` and ``exceptions`` re-export the one implementation that
lives in prefect_storage's own layers. Backend-only helpers (``aws``, ``gcp``,
``graphql``, ``kubernetes``, ...) are not provided.
"""
