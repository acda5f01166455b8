"""Bitbucket transport over plain ``requests``: Cloud (API 2.0) and Server / Data Center (REST 1.0)."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from prefect_storage.backends.forge import WORDING, Failure, forge_call, status_kind
from prefect_storage.backends.http import session
from prefect_storage.backends.optional import require
from prefect_storage.exceptions import FlowNotFoundError
from prefect_storage.secrets import find, render, resolve

CLOUD_API = "https://api.bitbucket.org"
SERVER_DEFAULT_HOST = "https://bitbucket.org"
FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
TIMEOUT = 30

ERRORS = WORDING["bitbucket"]


def _classify(exc: Exception) -> Failure | None:
    requests = require("requests", extra="bitbucket")
    return ("offline", {"detail": exc}) if isinstance(exc, requests.RequestException) else None


def _quote(path: str) -> str:
    return urllib.parse.quote(path.strip("/"), safe="/")


class _Api:
    """A requests session plus the error wording shared by both flavours."""

    def __init__(self, base: str, auth: Any, headers: dict[str, str], where: str) -> None:
        self.base = base.rstrip("/")
        self.where = where
        self.http = session(extra="bitbucket")
        self.http.auth = auth
        self.http.headers.update(headers)

    def get(self, path: str, missing: str, params: dict[str, Any] | None = None) -> Any:
        """One GET; an error answer becomes a typed error (see :mod:`.forge`)."""
        response = forge_call(
            lambda: self.http.get(f"{self.base}{path}", params=params, timeout=TIMEOUT), _classify, ERRORS, missing,
            base=self.base,
        )
        status = response.status_code
        if status >= 400:
            raise ERRORS.error(status_kind(status), missing, where=self.where, status=status, detail=response.text[:300])
        return response


class BitbucketCloudRepo:
    """``workspace/repo`` on Bitbucket Cloud; Basic auth with a user name and app password."""

    def __init__(self, workspace: str, repo: str, host: str | None, username_secret: str | None,
                 app_password_secret: str | None) -> None:
        self.workspace, self.repo = render(workspace), render(repo)
        user = resolve(render(username_secret)) if username_secret else find("BITBUCKET_CLOUD_USERNAME")
        password = resolve(render(app_password_secret)) if app_password_secret else find("BITBUCKET_CLOUD_APP_PASSWORD")
        auth = (user or "", password) if password else None
        where = f"'{self.workspace}/{self.repo}'"
        self.api = _Api(render(host) or CLOUD_API, auth, {}, where)
        self.prefix = f"/2.0/repositories/{_quote(self.workspace)}/{_quote(self.repo)}"

    def commit_for(self, ref: str | None) -> str:
        if ref and FULL_SHA.match(ref):
            return ref
        missing = f"ref {ref!r} not found in '{self.workspace}/{self.repo}'"
        if not ref:
            info = self.api.get(self.prefix, f"Repository '{self.workspace}/{self.repo}' not found.").json()
            ref = info["mainbranch"]["name"]
        for kind in ("branches", "tags"):
            try:
                return str(self.api.get(f"{self.prefix}/refs/{kind}/{_quote(ref)}", missing).json()["target"]["hash"])
            except FlowNotFoundError:
                continue
        return str(self.api.get(f"{self.prefix}/commit/{_quote(ref)}", missing).json()["hash"])

    def read(self, path: str, commit: str) -> bytes:
        missing = f"File {path!r} not found in '{self.workspace}/{self.repo}' at {commit}."
        response = self.api.get(f"{self.prefix}/src/{commit}/{_quote(path)}", missing)
        if response.headers.get("Content-Type", "").startswith("application/json") and '"values"' in response.text[:200]:
            raise FlowNotFoundError(f"{path!r} in '{self.workspace}/{self.repo}' is a directory, not a flow script.")
        return bytes(response.content)


class BitbucketServerRepo:
    """``PROJECT/repo`` on Bitbucket Server / Data Center; a bearer (HTTP access) token."""

    def __init__(self, project: str, repo: str, host: str | None, access_token_secret: str | None) -> None:
        self.project, self.repo = render(project), render(repo)
        token = resolve(render(access_token_secret)) if access_token_secret else find("BITBUCKET_ACCESS_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.api = _Api(render(host) or SERVER_DEFAULT_HOST, None, headers, f"{self.project}/{self.repo}")
        self.prefix = f"/rest/api/1.0/projects/{_quote(self.project)}/repos/{_quote(self.repo)}"

    def commit_for(self, ref: str | None) -> str:
        if ref and FULL_SHA.match(ref):
            return ref
        missing = f"ref {ref or 'default branch'!r} not found in '{self.project}/{self.repo}'"
        params = {"limit": 1, **({"until": ref} if ref else {})}
        values = self.api.get(f"{self.prefix}/commits", missing, params=params).json().get("values") or []
        if not values:
            raise FlowNotFoundError(missing)
        return str(values[0]["id"])

    def read(self, path: str, commit: str) -> bytes:
        missing = f"File {path!r} not found in '{self.project}/{self.repo}' at {commit}."
        return bytes(self.api.get(f"{self.prefix}/raw/{_quote(path)}", missing, params={"at": commit}).content)
