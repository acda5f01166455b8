"""Classic ``prefect.tasks.files``: ``Copy``, ``Move``, ``Remove``, ``Glob``, ``Zip``, ``Unzip``."""

from prefect_storage.tasks.files.compression import Unzip, Zip
from prefect_storage.tasks.files.operations import Copy, Glob, Move, Remove

__all__ = ["Copy", "Glob", "Move", "Remove", "Unzip", "Zip"]
