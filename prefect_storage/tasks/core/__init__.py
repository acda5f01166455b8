"""Core tasks (classic ``prefect.tasks.core``): constants, functions, collections,
operators and resource managers."""

from prefect_storage.tasks.core import collections, constants, function, operators
from prefect_storage.tasks.core.constants import Constant
from prefect_storage.tasks.core.function import FunctionTask

__all__ = ["Constant", "FunctionTask", "collections", "constants", "function", "operators"]
