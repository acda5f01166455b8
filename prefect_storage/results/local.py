"""``LocalResult``: task outputs as files on the local disk."""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from typing import Any

from prefect_storage import config
from prefect_storage.backends.local import atomic_write
from prefect_storage.exceptions import StorageConfigError
from prefect_storage.results.base import Result


def _slug_timestamp() -> str:
    from slugify import slugify

    return slugify(datetime.datetime.now(datetime.timezone.utc).isoformat())


class LocalResult(Result):
    """Results stored as files under ``dir``.

    ``dir`` defaults to ``<home>/results``; a ``dir`` inside the home folder (as
    ``Local`` storage's default flows folder is) is also mapped to
    ``<home>/results``, like the classic class, so results and pickled flows stay
    apart. Writes are atomic; ``write`` returns a result whose ``location`` is the
    absolute path.
    """

    _serialized_fields = ("dir",)

    def __init__(self, dir: str | os.PathLike[str] | None = None, validate_dir: bool = True, **kwargs: Any) -> None:
        home = os.path.abspath(config.home_path())
        if dir is not None and "$" in os.fspath(dir):
            # A template is rendered at each use (like Local storage's directory), so
            # its value never lands in serialize() or a pickle; folders appear on write.
            full, validate_dir = os.fspath(dir), False
        elif dir is None or os.path.commonpath([home, os.path.abspath(os.path.expanduser(dir))]) == home:
            full = os.path.join(home, "results")
        else:
            full = os.fspath(dir)
        if validate_dir:
            full = os.path.abspath(os.path.expanduser(full))
            if os.path.commonpath([home, full]) == home:
                config.ensure_home_dir()
            os.makedirs(full, exist_ok=True)
        self.dir = full
        super().__init__(**kwargs)

    @property
    def default_location(self) -> str:
        return "prefect-result-" + _slug_timestamp()

    def _path(self, location: str) -> str:
        from prefect_storage.secrets import render

        return os.path.join(os.path.expanduser(render(self.dir)), location)

    def _check_inside(self, path: str, rendered: str) -> None:
        """A location rendered from a template (``{flow_name}.out``) stays inside ``dir``:
        a flow or task name such as ``../../x`` must not steer a write elsewhere. An
        absolute location template is the user's choice; only its ``..`` parts are refused."""
        from prefect_storage.secrets import render

        template = self.location if isinstance(self.location, str) else ""
        if os.path.isabs(template):
            if ".." in rendered.replace(os.sep, "/").split("/") and ".." not in template.replace(os.sep, "/").split("/"):
                raise StorageConfigError(
                    f"Result location {rendered!r} (from the template {template!r}) climbs out of its folder with "
                    "'..'; the values filled into the template must not contain path parts."
                )
            return
        root = os.path.abspath(os.path.expanduser(render(self.dir)))
        if os.path.commonpath([root, os.path.abspath(path)]) != root:
            raise StorageConfigError(
                f"Result location {rendered!r} (from the template {template!r}) points outside the result folder "
                f"{self.dir}; the values filled into the template (flow or task names...) must not contain path parts "
                "such as '..' or '/'."
            )

    def read(self, location: str) -> Result:
        new = self.copy()
        new.location = location
        with open(self._path(location), "rb") as fh:
            new.value = self.serializer.deserialize(fh.read())
        return new

    def write(self, value_: Any, **kwargs: Any) -> Result:
        new = self.format(**kwargs)
        new.value = value_
        path = self._path(new.location or "")
        self._check_inside(path, new.location or "")
        atomic_write(path, self.serializer.serialize(value_))
        new.location = os.path.abspath(path)
        return new

    def exists(self, location: str, **kwargs: Any) -> bool:
        return os.path.exists(self._path(location.format(**kwargs)))

    @classmethod
    def _from_serialized(cls, data: Mapping[str, Any]) -> Result:
        obj = cls(dir=data.get("dir"), validate_dir=False)
        obj.location = data.get("location")
        return obj
