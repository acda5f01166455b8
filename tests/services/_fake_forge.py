"""A local "forge" for the tests: the GitHub, GitLab, Bitbucket (Cloud and Server) and
CodeCommit endpoints the storage classes' client libraries call, served from real bare
git repositories.

Run as ``python -m tests.services._fake_forge --root DIR --port 0 --token T --aws-key K
--aws-secret S``; it prints ``LISTENING <port>``. Every answer comes from git itself:
refs are resolved with ``git rev-parse`` (branch, tag, annotated tag, full or short id),
files are read with ``git ls-tree`` / ``git cat-file``. Tokens are checked on every
request (``Authorization: token|Bearer``, Basic with the token as password,
``PRIVATE-TOKEN``), and CodeCommit requests must carry a valid AWS SigV4 signature.

Repository ``owner/name`` is ``DIR/owner/name.git`` (owner matched case-insensitively,
for Bitbucket Server project keys), or ``DIR/name.git``. Like real GitHub, the contents
API returns files over 1 MiB with ``encoding: "none"`` and no content, so clients must
use the git blob API for them.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.server
import json
import re
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

GITHUB_INLINE_LIMIT = 1024 * 1024


class ApiError(Exception):
    def __init__(self, status: int, body: Any, code: str = "") -> None:
        super().__init__(status)
        self.status, self.body, self.code = status, body, code


class Repos:
    """Read-only access to the bare repositories under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def find(self, owner: str | None, name: str) -> Path | None:
        name = name.removesuffix(".git")
        candidates = []
        if owner:
            candidates.append(self.root / owner / f"{name}.git")
            if self.root.is_dir():
                candidates += [d / f"{name}.git" for d in self.root.iterdir() if d.name.lower() == owner.lower()]
        else:
            candidates += sorted(self.root.glob(f"*/{name}.git"))
        candidates.append(self.root / f"{name}.git")
        return next((c for c in candidates if (c / "HEAD").exists()), None)

    def all(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*.git") if (p / "HEAD").exists())

    @staticmethod
    def git(repo: Path, *args: str, binary: bool = False) -> Any:
        proc = subprocess.run(["git", "--git-dir", str(repo), *args], capture_output=True)
        if proc.returncode != 0:
            return None
        return proc.stdout if binary else proc.stdout.decode().strip()

    def resolve(self, repo: Path, ref: str | None) -> str | None:
        ref = ref or "HEAD"
        if ref.startswith("-"):
            return None
        return self.git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") or None

    def default_branch(self, repo: Path) -> str:
        return self.git(repo, "symbolic-ref", "--short", "HEAD") or "main"

    def entry(self, repo: Path, commit: str, path: str) -> tuple[str, str, str, int] | None:
        """``(mode, type, oid, size)`` of ``path`` at ``commit``, or ``None``."""
        path = path.strip("/")
        if not path:
            tree = self.git(repo, "rev-parse", f"{commit}^{{tree}}")
            return ("040000", "tree", tree, 0) if tree else None
        out = self.git(repo, "ls-tree", "--long", commit, "--", path)
        if not out:
            return None
        meta, _, name = out.splitlines()[0].partition("\t")
        if name != path:
            return None
        mode, kind, oid, size = meta.split()
        return mode, kind, oid, 0 if size == "-" else int(size)

    def listing(self, repo: Path, commit: str, path: str) -> list[tuple[str, str, str, int, str]]:
        target = f"{commit}:{path.strip('/')}" if path.strip("/") else commit
        out = self.git(repo, "ls-tree", "--long", target) or ""
        rows = []
        for line in out.splitlines():
            meta, _, name = line.partition("\t")
            mode, kind, oid, size = meta.split()
            rows.append((mode, kind, oid, 0 if size == "-" else int(size), name))
        return rows

    def blob(self, repo: Path, oid: str) -> bytes | None:
        return self.git(repo, "cat-file", "blob", oid, binary=True)


# --------------------------------------------------------------------------- SigV4


def sigv4_valid(method: str, path: str, query: str, headers: Any, body: bytes, key: str, secret: str) -> str | None:
    """``None`` if the request carries a valid SigV4 signature for (key, secret), else the error code."""
    auth = headers.get("Authorization", "")
    match = re.match(r"AWS4-HMAC-SHA256 Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]+)", auth)
    if not match:
        return "MissingAuthenticationTokenException"
    credential, signed_headers, signature = match.groups()
    access_key, date, region, service, terminal = credential.split("/")
    if access_key != key:
        return "UnrecognizedClientException"
    canonical_headers = "".join(
        f"{name}:{' '.join((headers.get(name) or '').split())}\n" for name in signed_headers.split(";")
    )
    canonical_query = "&".join(sorted(query.split("&"))) if query else ""
    canonical = "\n".join([
        method, urllib.parse.quote(path or "/", safe="/~"), canonical_query, canonical_headers, signed_headers,
        hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{date}/{region}/{service}/{terminal}"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", headers.get("X-Amz-Date", ""), scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signing_key = ("AWS4" + secret).encode()
    for part in (date, region, service, terminal):
        signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, signature) else "InvalidSignatureException"


# --------------------------------------------------------------------------- handler


class ForgeHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def repos(self) -> Repos:
        return self.server.repos  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:
        pass

    # -- plumbing

    def _send(self, status: int, body: Any, content_type: str = "application/json", extra: dict | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _token_ok(self) -> bool:
        token = self.server.token  # type: ignore[attr-defined]
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("token", "bearer") and value == token:
            return True
        if scheme.lower() == "basic":
            try:
                return base64.b64decode(value).decode().partition(":")[2] == token
            except ValueError:
                return False
        return token in (self.headers.get("PRIVATE-TOKEN"), self.headers.get("JOB-TOKEN"))

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        raw_path, _, query = self.path.partition("?")
        params = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
        try:
            if self.command == "POST" and self.headers.get("X-Amz-Target", "").startswith("CodeCommit_20150413."):
                self._codecommit(raw_path, query, body)
                return
            if not self._token_ok():
                raise ApiError(401, self._auth_error(raw_path))
            for prefix, handler in (
                ("/api/v4/", self._gitlab), ("/2.0/", self._bitbucket_cloud), ("/rest/api/1.0/", self._bitbucket_server),
                ("/api/v3/", self._github), ("/", self._github),
            ):
                if raw_path.startswith(prefix):
                    handler(raw_path[len(prefix):], params)
                    return
        except ApiError as exc:
            self._send(exc.status, exc.body)

    @staticmethod
    def _auth_error(path: str) -> Any:
        if path.startswith("/api/v4/"):
            return {"message": "401 Unauthorized"}
        if path.startswith("/2.0/"):
            return {"type": "error", "error": {"message": "Invalid credentials"}}
        if path.startswith("/rest/api/1.0/"):
            return {"errors": [{"message": "Authentication failed. Please check your credentials and try again.",
                                "exceptionName": "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"}]}
        return {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}

    def _base(self) -> str:
        return f"http://{self.headers.get('Host')}"

    # -- GitHub

    def _github(self, path: str, params: dict[str, str]) -> None:
        prefix = self._base() + ("/api/v3" if self.path.startswith("/api/v3/") else "")
        not_found = ApiError(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        if path == "user":
            self._send(200, {"login": "tester", "id": 1, "type": "User"})
            return
        parts = path.split("/")
        if len(parts) < 3 or parts[0] != "repos":
            raise not_found
        owner, name, rest = parts[1], parts[2], parts[3:]
        repo = self.repos.find(owner, name)
        if repo is None:
            raise not_found
        url = f"{prefix}/repos/{owner}/{name}"
        if not rest:
            self._send(200, {
                "id": abs(hash(str(repo))) % 10**8, "node_id": "R_1", "name": name, "full_name": f"{owner}/{name}",
                "owner": {"login": owner, "id": 1, "type": "User"}, "private": True, "visibility": "private",
                "url": url, "html_url": f"{self._base()}/{owner}/{name}",
                "default_branch": self.repos.default_branch(repo), "clone_url": f"{self._base()}/{owner}/{name}.git",
            })
            return
        kind, tail = rest[0], urllib.parse.unquote("/".join(rest[1:]))
        if kind == "commits" and tail:
            sha = self.repos.resolve(repo, tail)
            if sha is None:
                raise ApiError(422, {"message": f"No commit found for SHA: {tail}"})
            self._send(200, {"sha": sha, "node_id": "C_1", "url": f"{url}/commits/{sha}",
                             "commit": {"message": self.repos.git(repo, "log", "-1", "--format=%s", sha)}})
            return
        if kind == "branches" and tail:
            sha = self.repos.resolve(repo, f"refs/heads/{tail}")
            if sha is None:
                raise ApiError(404, {"message": "Branch not found"})
            self._send(200, {"name": tail, "commit": {"sha": sha, "url": f"{url}/commits/{sha}"}, "protected": False})
            return
        if kind == "git" and len(rest) == 3 and rest[1] == "blobs":
            data = self.repos.blob(repo, rest[2])
            if data is None:
                raise not_found
            self._send(200, {"sha": rest[2], "size": len(data), "url": f"{url}/git/blobs/{rest[2]}",
                             "content": base64.encodebytes(data).decode(), "encoding": "base64"})
            return
        if kind == "contents":
            ref = params.get("ref") or self.repos.default_branch(repo)
            sha = self.repos.resolve(repo, ref)
            entry = self.repos.entry(repo, sha, tail) if sha else None
            if entry is None:
                raise not_found
            if entry[1] == "tree":
                self._send(200, [self._github_item(url, prefix, owner, name, sha, row[4] if not tail else f"{tail}/{row[4]}", row)
                                 for row in self.repos.listing(repo, sha, tail)])
                return
            if "raw" in self.headers.get("Accept", ""):
                self._send(200, self.repos.blob(repo, entry[2]) or b"", "application/octet-stream")
                return
            self._send(200, self._github_item(url, prefix, owner, name, sha, tail, (*entry, tail.rsplit("/", 1)[-1]), True, repo))
            return
        raise not_found

    def _github_item(self, url: str, prefix: str, owner: str, name: str, sha: str, path: str, row: tuple,
                     with_content: bool = False, repo: Path | None = None) -> dict[str, Any]:
        _mode, kind, oid, size, base = row
        item: dict[str, Any] = {
            "type": "dir" if kind == "tree" else "file", "name": base, "path": path, "sha": oid, "size": size,
            "url": f"{url}/contents/{urllib.parse.quote(path)}?ref={sha}", "git_url": f"{url}/git/blobs/{oid}",
            "html_url": f"{self._base()}/{owner}/{name}/blob/{sha}/{path}",
            "download_url": f"{self._base()}/_raw/{owner}/{name}/{sha}/{path}",
            "_links": {"self": f"{url}/contents/{path}", "git": f"{url}/git/blobs/{oid}", "html": ""},
        }
        if with_content and repo is not None:
            if size > GITHUB_INLINE_LIMIT:
                item.update(content="", encoding="none")
            else:
                item.update(content=base64.encodebytes(self.repos.blob(repo, oid) or b"").decode(), encoding="base64")
        return item

    # -- GitLab

    def _gitlab_project(self, ident: str) -> tuple[Path, str]:
        ident = urllib.parse.unquote(ident)
        if ident.isdigit():
            repos = self.repos.all()
            index = int(ident) - 1
            if 0 <= index < len(repos):
                repo = repos[index]
                return repo, str(repo.relative_to(self.repos.root)).removesuffix(".git")
        else:
            owner, _, name = ident.rpartition("/")
            repo = self.repos.find(owner or None, name)
            if repo is not None:
                return repo, ident
        raise ApiError(404, {"message": "404 Project Not Found"})

    def _gitlab(self, path: str, params: dict[str, str]) -> None:
        if path == "user":
            self._send(200, {"id": 1, "username": "tester"})
            return
        parts = path.split("/")  # split before unquoting: project ids hold %2F
        if len(parts) < 2 or parts[0] != "projects":
            raise ApiError(404, {"message": "404 Not Found"})
        repo, full = self._gitlab_project(parts[1])
        rest = parts[2:]
        if not rest:
            number = self.repos.all().index(repo) + 1
            self._send(200, {
                "id": number, "name": full.rsplit("/", 1)[-1], "path": full.rsplit("/", 1)[-1],
                "path_with_namespace": full, "default_branch": self.repos.default_branch(repo),
                "web_url": f"{self._base()}/{full}", "http_url_to_repo": f"{self._base()}/{full}.git",
                "namespace": {"full_path": full.rpartition("/")[0]},
            })
            return
        if rest[:2] == ["repository", "commits"] and len(rest) >= 3:
            ref = urllib.parse.unquote("/".join(rest[2:]))
            sha = self.repos.resolve(repo, ref)
            if sha is None:
                raise ApiError(404, {"message": "404 Commit Not Found"})
            self._send(200, {"id": sha, "short_id": sha[:8], "title": self.repos.git(repo, "log", "-1", "--format=%s", sha)})
            return
        if rest[:2] == ["repository", "files"] and len(rest) >= 3:
            raw = rest[-1] == "raw" and len(rest) >= 4
            file_path = urllib.parse.unquote("/".join(rest[2:-1] if raw else rest[2:]))
            ref = params.get("ref")
            if not ref:
                raise ApiError(400, {"error": "ref is missing"})
            sha = self.repos.resolve(repo, ref)
            entry = self.repos.entry(repo, sha, file_path) if sha else None
            if entry is None or entry[1] != "blob":
                raise ApiError(404, {"message": "404 File Not Found"})
            data = self.repos.blob(repo, entry[2]) or b""
            headers = {"X-Gitlab-Blob-Id": entry[2], "X-Gitlab-Commit-Id": sha, "X-Gitlab-Size": str(len(data)),
                       "X-Gitlab-File-Path": file_path, "X-Gitlab-Ref": ref}
            if raw:
                self._send(200, data, "text/plain", headers)
                return
            self._send(200, {
                "file_name": file_path.rsplit("/", 1)[-1], "file_path": file_path, "size": len(data), "encoding": "base64",
                "content": base64.b64encode(data).decode(), "content_sha256": hashlib.sha256(data).hexdigest(),
                "ref": ref, "blob_id": entry[2], "commit_id": sha, "last_commit_id": sha, "execute_filemode": entry[0] == "100755",
            }, extra=headers)
            return
        raise ApiError(404, {"message": "404 Not Found"})

    # -- Bitbucket Cloud

    def _bitbucket_cloud(self, path: str, params: dict[str, str]) -> None:
        parts = path.split("/")
        not_found = ApiError(404, {"type": "error", "error": {"message": "Resource not found"}})
        if len(parts) < 3 or parts[0] != "repositories":
            raise not_found
        workspace, slug, rest = parts[1], parts[2], parts[3:]
        repo = self.repos.find(workspace, slug)
        if repo is None:
            raise ApiError(404, {"type": "error", "error": {"message": f"Repository {workspace}/{slug} not found"}})
        if not rest:
            self._send(200, {"type": "repository", "full_name": f"{workspace}/{slug}", "slug": slug, "is_private": True,
                             "mainbranch": {"type": "branch", "name": self.repos.default_branch(repo)}})
            return
        if rest[0] == "commit" and len(rest) == 2:
            sha = self.repos.resolve(repo, urllib.parse.unquote(rest[1]))
            if sha is None:
                raise ApiError(404, {"type": "error", "error": {"message": f"Commit not found: {rest[1]}"}})
            self._send(200, {"type": "commit", "hash": sha})
            return
        if rest[0] == "refs" and len(rest) >= 3 and rest[1] in ("branches", "tags"):
            name = urllib.parse.unquote("/".join(rest[2:]))
            sha = self.repos.resolve(repo, f"refs/{'heads' if rest[1] == 'branches' else 'tags'}/{name}")
            if sha is None:
                raise not_found
            self._send(200, {"name": name, "type": "branch" if rest[1] == "branches" else "tag",
                             "target": {"type": "commit", "hash": sha}})
            return
        if rest[0] == "src" and len(rest) >= 2:
            sha = self.repos.resolve(repo, urllib.parse.unquote(rest[1]))
            file_path = urllib.parse.unquote("/".join(rest[2:]))
            entry = self.repos.entry(repo, sha, file_path) if sha else None
            if entry is None:
                raise ApiError(404, {"type": "error", "error": {"message": "No such file or directory: " + file_path}})
            if entry[1] == "tree" or params.get("format") == "meta":
                rows = self.repos.listing(repo, sha, file_path) if entry[1] == "tree" else [(*entry, file_path)]
                self._send(200, {"values": [
                    {"type": "commit_directory" if r[1] == "tree" else "commit_file",
                     "path": f"{file_path}/{r[4]}".strip("/") if entry[1] == "tree" else file_path,
                     "size": r[3], "commit": {"hash": sha}} for r in rows]})
                return
            self._send(200, self.repos.blob(repo, entry[2]) or b"", "application/octet-stream")
            return
        raise not_found

    # -- Bitbucket Server / Data Center

    def _bitbucket_server(self, path: str, params: dict[str, str]) -> None:
        parts = path.split("/")

        def error(status: int, message: str, exception: str) -> ApiError:
            return ApiError(status, {"errors": [{"context": None, "message": message,
                                                 "exceptionName": f"com.atlassian.bitbucket.{exception}"}]})

        if len(parts) < 4 or parts[0] != "projects" or parts[2] != "repos":
            raise error(404, "Not found", "NotFoundException")
        key, slug, rest = parts[1], parts[3], parts[4:]
        repo = self.repos.find(key, slug)
        if repo is None:
            raise error(404, f"Repository {key}/{slug} does not exist.", "repository.NoSuchRepositoryException")
        if not rest:
            self._send(200, {"slug": slug, "name": slug, "project": {"key": key.upper()}})
            return
        if rest == ["commits"]:
            ref = params.get("until")
            sha = self.repos.resolve(repo, ref)
            if sha is None:
                raise error(404, f"Commit '{ref}' does not exist in repository '{slug}'.", "commit.NoSuchCommitException")
            self._send(200, {"size": 1, "limit": 1, "isLastPage": False, "start": 0, "values": [{"id": sha, "displayId": sha[:11]}]})
            return
        if rest[0] == "commits" and len(rest) == 2:
            sha = self.repos.resolve(repo, urllib.parse.unquote(rest[1]))
            if sha is None:
                raise error(404, f"Commit '{rest[1]}' does not exist.", "commit.NoSuchCommitException")
            self._send(200, {"id": sha, "displayId": sha[:11]})
            return
        if rest[0] == "raw" and len(rest) >= 2:
            file_path = urllib.parse.unquote("/".join(rest[1:]))
            ref = params.get("at")
            sha = self.repos.resolve(repo, ref)
            if sha is None:
                raise error(404, f"Commit '{ref}' does not exist in repository '{slug}'.", "commit.NoSuchCommitException")
            entry = self.repos.entry(repo, sha, file_path)
            if entry is None or entry[1] != "blob":
                raise error(404, f"The path \"{file_path}\" does not exist at revision \"{ref}\"",
                            "content.NoSuchPathException")
            self._send(200, self.repos.blob(repo, entry[2]) or b"", "application/octet-stream")
            return
        raise error(404, "Not found", "NotFoundException")

    # -- CodeCommit

    def _codecommit(self, path: str, query: str, body: bytes) -> None:
        problem = sigv4_valid("POST", path, query, self.headers, body,
                              self.server.aws_key, self.server.aws_secret)  # type: ignore[attr-defined]
        if problem:
            raise ApiError(403 if problem != "UnrecognizedClientException" else 400,
                           {"__type": problem, "message": "The request signature we calculated does not match."})
        op = self.headers["X-Amz-Target"].split(".", 1)[1]
        args = json.loads(body or b"{}")

        def fail(code: str, message: str) -> ApiError:
            return ApiError(400, {"__type": code, "message": message})

        name = args.get("repositoryName", "")
        repo = self.repos.find(None, name)
        if repo is None:
            raise fail("RepositoryDoesNotExistException", f"{name} does not exist")
        if op == "GetRepository":
            self._send(200, {"repositoryMetadata": {
                "repositoryName": name, "repositoryId": hashlib.md5(name.encode()).hexdigest(),
                "defaultBranch": self.repos.default_branch(repo),
                "Arn": f"arn:aws:codecommit:us-east-1:123456789012:{name}"}}, "application/x-amz-json-1.1")
            return
        if op == "GetBranch":
            branch = args.get("branchName", "")
            sha = self.repos.resolve(repo, f"refs/heads/{branch}")
            if sha is None:
                raise fail("BranchDoesNotExistException", f"Branch {branch} does not exist")
            self._send(200, {"branch": {"branchName": branch, "commitId": sha}}, "application/x-amz-json-1.1")
            return
        if op == "GetCommit":
            sha = self.repos.resolve(repo, args.get("commitId", ""))
            if sha is None:
                raise fail("CommitIdDoesNotExistException", "Commit does not exist")
            tree = self.repos.git(repo, "rev-parse", f"{sha}^{{tree}}")
            self._send(200, {"commit": {"commitId": sha, "treeId": tree, "message": ""}}, "application/x-amz-json-1.1")
            return
        if op == "GetFile":
            spec = args.get("commitSpecifier") or self.repos.default_branch(repo)
            sha = self.repos.resolve(repo, spec)
            if sha is None:
                raise fail("CommitDoesNotExistException", f"{spec} does not exist")
            file_path = args.get("filePath", "").lstrip("/")
            entry = self.repos.entry(repo, sha, file_path)
            if entry is None or entry[1] != "blob":
                raise fail("FileDoesNotExistException", f"{file_path} does not exist")
            data = self.repos.blob(repo, entry[2]) or b""
            mode = {"100755": "EXECUTABLE", "120000": "SYMLINK"}.get(entry[0], "NORMAL")
            self._send(200, {"commitId": sha, "blobId": entry[2], "filePath": file_path, "fileMode": mode,
                             "fileSize": len(data), "fileContent": base64.b64encode(data).decode()},
                       "application/x-amz-json-1.1")
            return
        if op == "GetBlob":
            data = self.repos.blob(repo, args.get("blobId", ""))
            if data is None:
                raise fail("BlobIdDoesNotExistException", "Blob does not exist")
            self._send(200, {"content": base64.b64encode(data).decode()}, "application/x-amz-json-1.1")
            return
        raise fail("InvalidActionException", f"{op} is not served by the test forge")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", required=True)
    parser.add_argument("--aws-key", required=True)
    parser.add_argument("--aws-secret", required=True)
    args = parser.parse_args(argv)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), ForgeHandler)
    server.repos = Repos(Path(args.root))  # type: ignore[attr-defined]
    server.token, server.aws_key, server.aws_secret = args.token, args.aws_key, args.aws_secret  # type: ignore[attr-defined]
    print(f"LISTENING {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
