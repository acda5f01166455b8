"""AWS CodeCommit transport (boto3): resolve a commit specifier, read one file at a commit."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from prefect_storage.backends import aws
from prefect_storage.backends.forge import WORDING, Failure, forge_call
from prefect_storage.exceptions import FlowNotFoundError
from prefect_storage.secrets import render

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
AUTH_CODES = {
    "UnrecognizedClientException", "InvalidSignatureException", "AccessDeniedException",
    "ExpiredTokenException", "InvalidClientTokenId", "MissingAuthenticationTokenException",
}
MISSING_CODES = {
    "FileDoesNotExistException", "RepositoryDoesNotExistException", "CommitDoesNotExistException",
    "BranchDoesNotExistException", "CommitIdDoesNotExistException", "BlobIdDoesNotExistException",
    "InvalidCommitException", "InvalidCommitIdException",
}

ERRORS = WORDING["codecommit"]


class CodeCommitRepo:
    def __init__(self, repo: str, client_options: Mapping[str, Any] | None = None) -> None:
        self.name = render(repo)
        self.client_options = client_options
        self.client = aws.client("codecommit", client_options)

    def _classify(self, exc: Exception) -> Failure | None:
        import botocore.exceptions

        if isinstance(exc, botocore.exceptions.ClientError):
            code = exc.response.get("Error", {}).get("Code", "")
            if code in AUTH_CODES:
                return "auth", {"status": code, "source": aws.credential_source(self.client_options)}
            return ("missing" if code in MISSING_CODES else "failed"), {"status": code, "detail": exc}
        if isinstance(exc, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError)):
            return "offline", {"detail": exc}
        return None

    def _call(self, what: str, missing: str, op: str, **kwargs: Any) -> dict[str, Any]:
        """Run one API call; a failure becomes a typed error (see :mod:`.forge`)."""
        result: dict[str, Any] = forge_call(lambda: getattr(self.client, op)(**kwargs), self._classify, ERRORS, missing, what=what)
        return result

    def commit_for(self, spec: str | None) -> str | None:
        """The commit id for ``spec`` (full id, branch name, or none = default branch).

        ``None`` when ``spec`` is something else CodeCommit accepts (a tag, a short id):
        then the file read itself resolves it."""
        if spec and FULL_SHA.match(spec):
            return spec
        branch = spec
        if not branch:
            meta = self._call("opening the repository", f"Repository {self.name!r} not found.", "get_repository",
                              repositoryName=self.name)["repositoryMetadata"]
            branch = meta.get("defaultBranch")
            if not branch:
                raise FlowNotFoundError(f"Repository {self.name!r} has no default branch (is it empty?).")
        try:
            return str(self._call(f"resolving {branch!r}", f"Branch {branch!r} not found in {self.name!r}.", "get_branch",
                                  repositoryName=self.name, branchName=branch)["branch"]["commitId"])
        except FlowNotFoundError:
            if spec:
                return None
            raise

    def read(self, path: str, spec: str) -> tuple[str, bytes]:
        """``(commit id, bytes)`` of ``path`` at ``spec``."""
        answer = self._call(
            f"reading {path!r}", f"Error retrieving file contents from {path} on repo {self.name} at {spec!r}. "
            "Ensure the file exists (and the commit, branch or tag).",
            "get_file", repositoryName=self.name, commitSpecifier=spec, filePath=path,
        )
        return answer["commitId"], answer["fileContent"]
