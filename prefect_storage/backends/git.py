"""The git engine: fetch one commit of a remote repository, fast, cached, without leaking tokens.

Everything runs the ``git`` command line through :mod:`subprocess`. The design:

* **One object store per repository** under ``<cache root>/git/<hash of the URL>/``,
  keyed by the URL with any credentials stripped. It is a bare, *partial*
  (``--filter=blob:none``) and, by default, *shallow* (``--depth``) repository: a fetch
  brings commits and trees, never file contents.
* **One immutable snapshot per (commit, folder)**: the flow's folder (sparse: nothing
  else) is checked out of the store into a staging folder with a private index, and
  published with an atomic rename. Checkout fetches the few blobs it needs in one
  batched request. A snapshot is never modified, so a running flow can keep reading
  files beside it while another load publishes a newer commit.
* **Ask before fetching**: a branch, tag or the default branch is resolved with
  ``git ls-remote`` (a few hundred bytes). When that commit's snapshot exists,
  nothing else is transferred; a pinned full commit id needs no network at all. When
  the ref moved, ``git fetch`` negotiates with what the store has and receives only
  the new objects.
* **Concurrency**: a file lock per store (:mod:`filelock`) serialises fetches and
  checkouts of one repository, across threads and processes; readers of published
  snapshots need no lock.
* **Credentials** never appear in a URL, an argument or a config file: a token becomes
  an ``Authorization`` header passed in ``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n``/
  ``GIT_CONFIG_VALUE_n`` environment variables, scoped to the repository's origin.
  Prompts are disabled (``GIT_TERMINAL_PROMPT=0``), and every error message is
  redacted and classified with a hint (see :data:`HINTS`).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from prefect_storage import config
from prefect_storage.backends.cache import cache_root
from prefect_storage.exceptions import (
    BackendUnavailableError,
    FlowNotFoundError,
    GitCommandError,  # re-exported: defined in prefect_storage.exceptions
    StorageAuthError,
    StorageConfigError,
    StorageError,
)
from prefect_storage.secrets import get_logger, redact, remember_secret

if TYPE_CHECKING:
    pass

__all__ = [
    "HINTS",
    "Checkout",
    "GitAuth",
    "GitRef",
    "GitRemote",
    "checkout",
    "strip_credentials",
]

logger = get_logger("backends.git")

FULL_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
SHORT_SHA = re.compile(r"^[0-9a-f]{4,39}$")
GIT_TIMEOUT = config.git_timeout()
#: snapshots kept per repository; older ones go once unused for a day (a running flow may still read one)
KEEP_SNAPSHOTS = config.git_keep_snapshots()
SNAPSHOT_GRACE_S = 24 * 3600

# (pattern in git's stderr, error class, hint). First match wins.
HINTS: tuple[tuple[re.Pattern[str], type[StorageError], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), error, hint)
    for pattern, error, hint in (
        (
            r"host key verification failed|no \S+ host key is known|remote host identification has changed",
            StorageAuthError,
            "The server's SSH host key is unknown or changed: add it to known_hosts "
            "(ssh-keyscan -p PORT HOST >> ~/.ssh/known_hosts) or set GIT_SSH_COMMAND with UserKnownHostsFile.",
        ),
        (
            r"permission denied \(publickey|authentication failed|could not read (username|password)"
            r"|terminal prompts disabled|http[^\n]*\b(401|403)\b|invalid username or password|access denied",
            StorageAuthError,
            "The server refused the credentials: check the token secret (and the user name) or, for SSH, "
            "the key in GIT_SSH_COMMAND / ssh-agent, and that it may read this repository.",
        ),
        (
            r"repository '[^']*' not found|repository not found|does not appear to be a git repository"
            r"|not a git repository|http[^\n]*\b404\b|no such repository|not exported",
            FlowNotFoundError,
            "The repository was not found: check the repository name / URL (and that the credentials may see it).",
        ),
        (
            r"couldn't find remote ref|not our ref|unknown revision|bad revision|invalid refspec"
            r"|no such ref|did not match any|is not a valid|reference is not a tree",
            FlowNotFoundError,
            "The ref was not found: check the branch, tag or commit, and that it was pushed.",
        ),
        (
            r"could not resolve host|connection refused|connection timed out|timed out|network is unreachable"
            r"|failed to connect|connection reset|early eof|the remote end hung up",
            BackendUnavailableError,
            "The git server could not be reached: check the host, port and network, then retry.",
        ),
    )
)


def strip_credentials(url: str) -> str:
    """``url`` without a user name or password (``https://tok@host/r.git`` -> ``https://host/r.git``).

    scp-like SSH addresses (``git@host:org/repo.git``) keep their user: it is not a secret.
    """
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    if parts.scheme in ("ssh", "git+ssh"):
        user, _, host = parts.netloc.rpartition("@")
        return urllib.parse.urlunsplit(parts._replace(netloc=f"{user.partition(':')[0]}@{host}"))
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=host))


def url_credentials(url: str) -> tuple[str, str] | None:
    """The ``(user, password)`` embedded in an http(s) URL, decoded, or ``None``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or "@" not in parts.netloc:
        return None
    userinfo = parts.netloc.rpartition("@")[0]
    user, _, password = userinfo.partition(":")
    return urllib.parse.unquote(user), urllib.parse.unquote(password)


@dataclasses.dataclass(frozen=True, repr=False)
class GitAuth:
    """HTTP credentials for one remote; ``repr`` never shows them."""

    username: str
    password: str

    def __repr__(self) -> str:
        return "<GitAuth ***>"

    def header(self) -> str:
        raw = f"{self.username}:{self.password}"
        encoded = base64.b64encode(raw.encode()).decode()
        for value in (self.password, raw, encoded, urllib.parse.quote(self.password, safe="")):
            remember_secret(value)
        return f"Authorization: Basic {encoded}"


@dataclasses.dataclass(frozen=True)
class GitRemote:
    """Where to fetch from: a URL without credentials, plus optional HTTP credentials.

    A URL with ``user:token@`` in it is accepted and split: the credentials move to
    :attr:`auth`, so they never reach git's argv or a config file.
    """

    url: str
    auth: GitAuth | None = dataclasses.field(default=None, repr=False)
    #: the ssh command for this remote (e.g. with ``-i <deploy key file>``); default: the environment's
    ssh_command: str | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str, auth: GitAuth | None = None) -> GitRemote:
        embedded = url_credentials(url)
        if embedded is not None and auth is None and (embedded[0] or embedded[1]):
            auth = GitAuth(*embedded)
        return cls(url=strip_credentials(url), auth=auth)

    @property
    def scope(self) -> str:
        """The origin (``scheme://host[:port]``) the credentials are sent to, and nowhere else."""
        parts = urllib.parse.urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def env(self) -> dict[str, str]:
        """The environment for a git command talking to this remote."""
        env = {
            **os.environ,
            "GIT_TERMINAL_PROMPT": "0",
            "GCM_INTERACTIVE": "never",
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            "LC_ALL": "C",
            "LANGUAGE": "C",
        }
        for key in [k for k in env if k.startswith("GIT_CONFIG_KEY_") or k.startswith("GIT_CONFIG_VALUE_")]:
            del env[key]
        config = [("protocol.version", "2"), ("core.askPass", "")]
        if self.url.startswith(("http://", "https://")) and self.auth is not None:
            key = f"http.{self.scope}/.extraHeader"
            # Our header only: the empty values reset inherited headers and credential helpers.
            config += [("credential.helper", ""), (key, ""), (key, self.auth.header())]
        if self.ssh_command:
            env["GIT_SSH_COMMAND"] = self.ssh_command
        elif "GIT_SSH_COMMAND" not in env and "GIT_SSH" not in env:
            env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"
        env["GIT_CONFIG_COUNT"] = str(len(config))
        for index, (key, value) in enumerate(config):
            env[f"GIT_CONFIG_KEY_{index}"] = key
            env[f"GIT_CONFIG_VALUE_{index}"] = value
        return env


@dataclasses.dataclass(frozen=True)
class GitRef:
    """What to check out: at most one of a branch, a tag or a commit (full or short); none = the remote HEAD."""

    branch: str | None = None
    tag: str | None = None
    commit: str | None = None

    def __post_init__(self) -> None:
        if sum(bool(v) for v in (self.branch, self.tag, self.commit)) > 1:
            raise StorageConfigError(
                "Please provide only one of the following parameters: `branch_name`, `tag`, `commit`"
            )
        if self.commit and not (FULL_SHA.match(self.commit.lower()) or SHORT_SHA.match(self.commit.lower())):
            raise StorageConfigError(f"commit {self.commit!r} is not a commit id (4 to 40 hexadecimal digits).")

    def describe(self) -> str:
        if self.branch:
            return f"branch {self.branch!r}"
        if self.tag:
            return f"tag {self.tag!r}"
        if self.commit:
            return f"commit {self.commit!r}"
        return "the default branch (HEAD)"

    @property
    def remote_name(self) -> str | None:
        """The full ref name to ask the remote about; ``None`` for a commit."""
        if self.branch:
            return self.branch if self.branch.startswith("refs/") else f"refs/heads/{self.branch}"
        if self.tag:
            return self.tag if self.tag.startswith("refs/") else f"refs/tags/{self.tag}"
        if self.commit:
            return None
        return "HEAD"


@dataclasses.dataclass(frozen=True)
class Checkout:
    """A published snapshot: ``root`` holds the sparse folder of ``commit``."""

    root: Path
    commit: str
    fetched: bool  # whether this load transferred objects (False: served from the cache)


def _run(args: list[str], remote: GitRemote, cwd: Path | None = None, what: str = "git", ref: GitRef | None = None) -> str:
    """Run ``git args``; return stdout, or raise a classified, redacted error."""
    started = time.monotonic()
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, env=remote.env(), capture_output=True, text=True,
            timeout=GIT_TIMEOUT, stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise StorageConfigError("The git command line is needed but `git` is not on PATH. Install git.") from None
    except subprocess.TimeoutExpired:
        raise BackendUnavailableError(
            f"{what} on {remote.url} took longer than {GIT_TIMEOUT:.0f}s (PREFECT_STORAGE_GIT_TIMEOUT)."
        ) from None
    logger.debug("git %s: %.3fs, exit %d", args[0] if args[0] != "-C" else args[2], time.monotonic() - started, proc.returncode)
    if proc.returncode != 0:
        raise classify(proc.stderr or proc.stdout, remote, what, ref)
    return proc.stdout


def classify(stderr: str, remote: GitRemote, what: str, ref: GitRef | None = None) -> StorageError:
    """The typed, hinted error for a failed git command (message redacted)."""
    text = redact(stderr.strip())
    detail = " | ".join(line for line in text.splitlines()[-6:] if line.strip())
    for pattern, error, hint in HINTS:
        if pattern.search(text):
            subject = f" ({ref.describe()})" if ref is not None and error is FlowNotFoundError and "ref" in hint else ""
            return error(f"{what} failed for {remote.url}{subject}: {detail}. Hint: {hint}")
    return GitCommandError(f"{what} failed for {remote.url}: {detail}")


def _store_dir(remote: GitRemote) -> Path:
    digest = hashlib.sha256(remote.url.encode()).hexdigest()[:20]
    return cache_root() / "git" / digest


def _lock(store: Path) -> contextlib.AbstractContextManager[object]:
    from filelock import FileLock

    store.mkdir(parents=True, exist_ok=True)
    return FileLock(str(store / "lock"), timeout=GIT_TIMEOUT)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _pkt_lines(body: bytes) -> list[bytes] | None:
    """The payloads of a pkt-line stream (flush/delim packets skipped); ``None`` if malformed."""
    lines: list[bytes] = []
    position = 0
    while position + 4 <= len(body):
        try:
            length = int(body[position:position + 4], 16)
        except ValueError:
            return None
        if length < 4:  # flush (0000), delim (0001), response-end (0002)
            position += 4
            continue
        lines.append(body[position + 4:position + length].rstrip(b"\n"))
        position += length
    return lines


def _pkt(text: str) -> bytes:
    data = text.encode()
    return b"%04x" % (len(data) + 4) + data


def _http_open(remote: GitRemote, request: urllib.request.Request) -> tuple[int, str, bytes] | None:
    if remote.auth is not None:
        name, _, value = remote.auth.header().partition(": ")
        request.add_header(name, value)
    # No redirects: urllib would forward the Authorization header to wherever they point.
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except Exception:  # any failure (401, TLS, proxy...): let git do it and word the error
        return None


def _advertised_refs_http(remote: GitRemote, wanted: list[str] | None = None) -> dict[str, str] | None:
    """The refs of an http(s) remote, asked in process (no git subprocess).

    Protocol v2 when the server speaks it: the capability advertisement, then one
    ``ls-refs`` limited to ``wanted`` (a few hundred bytes, however many branches and
    tags the repository has); else the v0 advertisement of every ref. ``None`` on
    anything unexpected, and the caller asks git instead (which also words the
    errors): this is only a fast path.
    """
    base = remote.url.rstrip("/")
    answer = _http_open(remote, urllib.request.Request(
        base + "/info/refs?service=git-upload-pack",
        headers={"User-Agent": "git/prefect-storage", "Accept": "*/*", "Git-Protocol": "version=2"},
    ))
    if answer is None or answer[0] != 200 or "x-git-upload-pack-advertisement" not in answer[1]:
        return None
    lines = _pkt_lines(answer[2])
    if lines is None:
        return None
    if b"version 2" in lines[:3]:
        if b"ls-refs" not in {line.split(b"=")[0] for line in lines}:
            return None
        body = _pkt("command=ls-refs\n") + _pkt("agent=git/prefect-storage\n") + b"0001" + _pkt("peel\n")
        for name in wanted or []:
            body += _pkt(f"ref-prefix {name}\n")
        body += b"0000"
        answer = _http_open(remote, urllib.request.Request(
            base + "/git-upload-pack", data=body, method="POST",
            headers={"User-Agent": "git/prefect-storage", "Git-Protocol": "version=2",
                     "Content-Type": "application/x-git-upload-pack-request",
                     "Accept": "application/x-git-upload-pack-result"},
        ))
        if answer is None or answer[0] != 200:
            return None
        lines = _pkt_lines(answer[2])
        if lines is None:
            return None
        refs: dict[str, str] = {}
        for raw_line in lines:
            oid, _, rest = raw_line.decode(errors="replace").partition(" ")
            name, *attributes = rest.split(" ")
            if not FULL_SHA.match(oid) or not name:
                return None
            refs[name] = oid
            for attribute in attributes:
                if attribute.startswith("peeled:"):
                    refs[f"{name}^{{}}"] = attribute[7:]
        return refs
    advertised: dict[str, str] = {}
    for raw in lines:
        text = raw.split(b"\0")[0].decode(errors="replace")
        oid, _, refname = text.partition(" ")
        if refname and FULL_SHA.match(oid):
            advertised[refname] = oid
    return advertised


def ls_remote(remote: GitRemote, ref: GitRef) -> str:
    """The commit the remote's ``ref`` points to now (annotated tags peeled)."""
    name = ref.remote_name
    assert name is not None
    found = _advertised_refs_http(remote, [name]) if remote.url.startswith(("http://", "https://")) else None
    if found is None:
        patterns = [name] if name == "HEAD" else [name, f"{name}^{{}}"]
        out = _run(["ls-remote", "--", remote.url, *patterns], remote, what="git ls-remote", ref=ref)
        found = {}
        for line in out.splitlines():
            oid, _, refname = line.partition("\t")
            found[refname] = oid
    peeled = found.get(f"{name}^{{}}") or found.get(name)
    if not peeled:
        raise FlowNotFoundError(
            f"{ref.describe().capitalize()} was not found in {remote.url}. "
            "Hint: check the name and that it was pushed (`git ls-remote` lists what the server has)."
        )
    return peeled


def _init_store(store: Path, remote: GitRemote) -> Path:
    git_dir = store / "objects.git"
    if (git_dir / "HEAD").exists():
        return git_dir
    staging = Path(tempfile.mkdtemp(prefix="init-", dir=store))
    _run(["init", "--quiet", "--bare", str(staging)], remote, what="git init")
    for key, value in (
        ("remote.origin.url", remote.url),  # credentials were stripped by GitRemote
        ("remote.origin.promisor", "true"),
        ("remote.origin.partialclonefilter", "blob:none"),
        ("core.repositoryformatversion", "1"),
        ("extensions.partialClone", "origin"),
        ("gc.auto", "0"),
        ("maintenance.auto", "false"),
    ):
        _run(["--git-dir", str(staging), "config", key, value], remote, what="git config")
    os.replace(staging, git_dir)
    return git_dir


def _has_commit(git_dir: Path, remote: GitRemote, commit: str) -> str | None:
    """The full id of ``commit`` if the store has that commit, else ``None``.

    A full id is looked up in the store's list of fetched commits, not with git: in a
    partial clone, asking git about a missing object makes it fetch that object.
    """
    if FULL_SHA.match(commit):
        known = git_dir / "prefect-storage-commits"
        with contextlib.suppress(FileNotFoundError):
            if commit in known.read_text().split():
                return commit
        return None
    try:
        return _run(
            ["--git-dir", str(git_dir), "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"], remote
        ).strip() or None
    except StorageError:
        return None


def _fetch(git_dir: Path, remote: GitRemote, ref: GitRef, what: str, depth: int | None) -> str:
    """Fetch ``what`` (a ref name or a commit id) into the store; return the commit it names."""
    args = ["--git-dir", str(git_dir), "fetch", "--quiet", "--no-tags", "--filter=blob:none", "origin", what]
    if depth:
        args.insert(3, f"--depth={depth}")
    _run(args, remote, what="git fetch", ref=ref)
    commit = _run(["--git-dir", str(git_dir), "rev-parse", "FETCH_HEAD^{commit}"], remote, ref=ref).strip()
    _remember_commits(git_dir, [commit])
    return commit


def _remember_commits(git_dir: Path, commits: list[str]) -> None:
    with open(git_dir / "prefect-storage-commits", "a") as fh:
        fh.write("".join(f"{c}\n" for c in commits))


def _resolve_short(git_dir: Path, remote: GitRemote, ref: GitRef) -> str:
    """A short commit id needs history to be resolved: fetch every branch and tag (no blobs)."""
    args = ["--git-dir", str(git_dir), "fetch", "--quiet", "--filter=blob:none", "origin",
            "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]
    if (git_dir / "shallow").exists():
        args.insert(3, "--unshallow")
    _run(args, remote, what="git fetch", ref=ref)
    try:
        full = _run(
            ["--git-dir", str(git_dir), "rev-parse", "--verify", "--quiet", f"{ref.commit}^{{commit}}"], remote
        ).strip() or None
    except StorageError:
        full = None
    if full is not None:
        _remember_commits(git_dir, [full])
    if full is None:
        raise FlowNotFoundError(
            f"{ref.describe().capitalize()} was not found in {remote.url}. Hint: check the commit id and that it was pushed."
        )
    return full


def _snapshot_dir(store: Path, commit: str, folder: str) -> Path:
    return store / "snapshots" / f"{commit}-{hashlib.sha256(folder.encode()).hexdigest()[:10]}"


def _publish_snapshot(git_dir: Path, remote: GitRemote, commit: str, folder: str, target: Path) -> None:
    """Check out ``folder`` of ``commit`` (or the top-level files when ``folder`` is empty) into ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    index = staging.with_name(staging.name + ".index")
    pathspec = f":(top,literal){folder}" if folder else ":(top,glob)*"
    try:
        env_index = {"GIT_INDEX_FILE": str(index)}
        _checkout_env = remote.env() | env_index
        proc = subprocess.run(
            ["git", "--git-dir", str(git_dir), "--work-tree", str(staging), "checkout", commit, "--", pathspec],
            env=_checkout_env, capture_output=True, text=True, timeout=GIT_TIMEOUT, stdin=subprocess.DEVNULL,
        )
        if proc.returncode != 0:
            raise classify(proc.stderr, remote, "git checkout")
        (staging / ".prefect-storage-commit").write_text(json.dumps({"commit": commit, "folder": folder}))
        try:
            os.replace(staging, target)
        except OSError:
            if not target.exists():
                raise
            # another process published the same snapshot first; theirs is identical
    finally:
        with contextlib.suppress(FileNotFoundError):
            index.unlink()
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _touch(snapshot: Path) -> Path:
    with contextlib.suppress(OSError):
        os.utime(snapshot)  # last use, for pruning
    return snapshot


def _prune(store: Path) -> None:
    """Drop the least recently used snapshots beyond :data:`KEEP_SNAPSHOTS` that were
    not used for a day. Called with the store's lock held."""
    try:
        snapshots = sorted((p.stat().st_mtime, p) for p in (store / "snapshots").iterdir() if not p.name.startswith("."))
    except FileNotFoundError:
        return
    cutoff = time.time() - SNAPSHOT_GRACE_S
    for mtime, path in snapshots[:-KEEP_SNAPSHOTS] if KEEP_SNAPSHOTS > 0 else snapshots:
        if mtime < cutoff:
            shutil.rmtree(path, ignore_errors=True)


def checkout(remote: GitRemote, ref: GitRef, folder: str = "", depth: int | None = 1) -> Checkout:
    """Make ``folder`` of ``ref`` in ``remote`` available locally and return where it is.

    ``folder`` is a path inside the repository (``""``: the top-level files only).
    ``depth`` limits the history fetched (``None`` or 0: full history, still without
    file contents). The result is cached; see the module docstring for when the
    remote is contacted and what is transferred.
    """
    folder = folder.strip("/")
    if ".." in Path(folder).parts:
        raise StorageConfigError(f"Folder {folder!r} must stay inside the repository (no '..').")
    store = _store_dir(remote)
    pinned = ref.commit.lower() if ref.commit and FULL_SHA.match(ref.commit.lower()) else None
    # Fast path without a lock: a pinned commit whose snapshot exists needs no network.
    if pinned:
        snap = _snapshot_dir(store, pinned, folder)
        if snap.is_dir():
            return Checkout(_touch(snap), pinned, fetched=False)
    advertised = ls_remote(remote, ref) if ref.remote_name else None
    if advertised:
        snap = _snapshot_dir(store, advertised, folder)
        if snap.is_dir():
            logger.debug("%s of %s is still %s: using the cached snapshot.", ref.describe(), remote.url, advertised)
            return Checkout(_touch(snap), advertised, fetched=False)
    with _lock(store):
        git_dir = _init_store(store, remote)
        fetched = False
        if pinned or advertised:
            commit = _has_commit(git_dir, remote, pinned or str(advertised))
            if commit is None:
                if pinned:
                    try:
                        commit = _fetch(git_dir, remote, ref, pinned, depth)
                    except FlowNotFoundError:
                        commit = _resolve_short(git_dir, remote, ref)  # server refuses wants by id
                else:
                    # Fetch by name, then use what arrived: the ref may have moved since ls-remote.
                    commit = _fetch(git_dir, remote, ref, str(ref.remote_name), depth)
                fetched = True
        else:
            commit = _has_commit(git_dir, remote, str(ref.commit))
            if commit is None:
                commit = _resolve_short(git_dir, remote, ref)
                fetched = True
        snap = _snapshot_dir(store, commit, folder)
        if not snap.is_dir():
            _publish_snapshot(git_dir, remote, commit, folder, snap)
            fetched = True
            _prune(store)
    logger.debug("Checked out %s of %s at %s into %s.", ref.describe(), remote.url, commit, snap)
    return Checkout(snap, commit, fetched=fetched)


# ---------------------------------------------------------------------------- work trees
#
# The snapshots above serve classic storages: one immutable folder per (commit, folder).
# A modern ``GitRepository`` wants something else: the whole tree, or several folders
# (a sparse cone), checked out at a *stable* path that later pulls update in place.
# That destination is a normal git repository (so users can run git in it) whose
# ``remote.origin.url`` holds no credentials; tokens still travel only in the
# environment (:meth:`GitRemote.env`).


@dataclasses.dataclass(frozen=True)
class WorkTree:
    """A destination brought to ``commit``; ``fetched`` tells whether objects were transferred."""

    root: Path
    commit: str
    fetched: bool


_STATE_FILE = "prefect-storage-worktree.json"


def _read_head(git_dir: Path) -> str | None:
    """The commit HEAD points to, read from files (no subprocess); ``None`` if unknown."""
    try:
        head = (git_dir / "HEAD").read_text().strip()
    except FileNotFoundError:
        return None
    if FULL_SHA.match(head):
        return head
    if not head.startswith("ref: "):
        return None
    name = head[5:]
    with contextlib.suppress(FileNotFoundError):
        value = (git_dir / name).read_text().strip()
        return value if FULL_SHA.match(value) else None
    with contextlib.suppress(FileNotFoundError):
        for line in (git_dir / "packed-refs").read_text().splitlines():
            oid, _, refname = line.partition(" ")
            if refname == name and FULL_SHA.match(oid):
                return oid
    return None


def _worktree_state(git_dir: Path) -> dict[str, object]:
    with contextlib.suppress(FileNotFoundError, ValueError):
        state = json.loads((git_dir / _STATE_FILE).read_text())
        if isinstance(state, dict):
            return state
    return {}


def _cone(directories: list[str] | None) -> list[str] | None:
    if not directories:
        return None
    cleaned = []
    for directory in directories:
        path = directory.strip().strip("/")
        if not path or ".." in Path(path).parts:
            raise StorageConfigError(f"Directory {directory!r} must be a folder inside the repository (no '..').")
        cleaned.append(path)
    return sorted(set(cleaned))


def _init_worktree(destination: Path, remote: GitRemote) -> Path:
    """A new, empty repository at ``destination`` with ``origin`` = the credential-free URL."""
    if destination.exists() and any(destination.iterdir()):
        raise StorageConfigError(
            f"{destination} exists and is not a git checkout of {remote.url}; remove it or choose another "
            "destination (name= / set_base_path())."
        )
    destination.mkdir(parents=True, exist_ok=True)
    _run(["init", "--quiet", str(destination)], remote, what="git init")
    git_dir = destination / ".git"
    # Always a promisor remote: later fetches are blobless (see sync_worktree).
    settings = [("remote.origin.url", remote.url), ("remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*"),
                ("gc.auto", "0"), ("maintenance.auto", "false"), ("advice.detachedHead", "false"),
                ("remote.origin.promisor", "true"), ("remote.origin.partialclonefilter", "blob:none")]
    for key, value in settings:
        _run(["--git-dir", str(git_dir), "config", key, value], remote, what="git config")
    return git_dir


def _check_origin(git_dir: Path, remote: GitRemote) -> None:
    try:
        origin = _run(["--git-dir", str(git_dir), "config", "--get", "remote.origin.url"], remote).strip()
    except StorageError:
        origin = ""
    if strip_credentials(origin) != remote.url:
        raise StorageConfigError(
            f"{git_dir.parent} is a checkout of {strip_credentials(origin) or 'an unknown remote'}, "
            f"not of {remote.url}; remove it or give this repository another name."
        )


def _set_sparse(worktree: Path, remote: GitRemote, cone: list[str] | None, state: dict[str, object]) -> bool:
    """Apply the sparse cone (or disable sparseness); whether anything changed."""
    if state.get("directories") == cone and (cone is None) == (not state.get("sparse")):
        return False
    if cone:
        _run(["-C", str(worktree), "sparse-checkout", "set", "--cone", "--", *cone], remote, what="git sparse-checkout")
    elif state.get("sparse"):
        _run(["-C", str(worktree), "sparse-checkout", "disable"], remote, what="git sparse-checkout")
    return True


def sync_worktree(
    remote: GitRemote,
    ref: GitRef,
    destination: Path,
    directories: list[str] | None = None,
    submodules: bool = False,
    depth: int | None = 1,
) -> WorkTree:
    """Bring the repository at ``destination`` to ``ref`` of ``remote``, in place.

    * first pull: ``git init`` + one fetch (shallow by default; blobless when only
      some ``directories`` are wanted, which become a sparse cone) + checkout;
    * later pulls: the ref is resolved with one request (``ls-remote``); when HEAD is
      already there nothing else happens, otherwise only the new commits and trees
      are fetched (a full negotiation, no depth) and checkout fetches only the changed
      files' contents; files deleted upstream are deleted here;
    * a full commit id already checked out needs no network at all;
    * ``submodules``: ``git submodule update --init --recursive`` with the same
      credentials (scoped to the origin, still never on argv or in a config file).

    Concurrent pulls into one destination are serialised by a file lock beside it.
    """
    from filelock import FileLock

    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    cone = _cone(directories)
    partial = bool(cone) or bool(ref.commit)
    with FileLock(str(destination) + ".lock", timeout=GIT_TIMEOUT):
        git_dir = destination / ".git"
        if (git_dir / "HEAD").exists():
            _check_origin(git_dir, remote)
        else:
            git_dir = _init_worktree(destination, remote)
        state = _worktree_state(git_dir)
        head = _read_head(git_dir) if state.get("commit") else None
        pinned = ref.commit.lower() if ref.commit and FULL_SHA.match(ref.commit.lower()) else None
        target = pinned or (ls_remote(remote, ref) if ref.remote_name else None)
        sparse_changed = _set_sparse(destination, remote, cone, state)
        if target is not None and head == target and not sparse_changed and state.get("submodules") == submodules:
            logger.debug("%s of %s is still %s: nothing to pull.", ref.describe(), remote.url, target)
            return WorkTree(destination, target, fetched=False)
        fetched = False
        commit = target
        if commit is None or not _has_object(git_dir, remote, commit):
            what = commit if (commit and pinned) else (ref.remote_name or "")
            if ref.commit and not pinned:
                commit = _resolve_short_in(git_dir, remote, ref, depth)
            elif head is not None:
                # An update: no depth, so the server negotiates with what we have and sends
                # only new commits and trees; blobless, so checkout then fetches just the
                # changed files (and a force-push costs history without contents).
                commit = _fetch_worktree(git_dir, remote, ref, what, None, True)
            else:
                commit = _fetch_worktree(git_dir, remote, ref, what, depth, partial)
            fetched = True
        args = ["-C", str(destination), "checkout", "--quiet", "--force"]
        args += ["-B", ref.branch, commit] if ref.branch else ["--detach", commit]
        _run(args, remote, what="git checkout", ref=ref)
        if submodules:
            _run(["-C", str(destination), "submodule", "update", "--init", "--recursive", "--depth", "1"],
                 remote, what="git submodule update", ref=ref)
        (git_dir / _STATE_FILE).write_text(
            json.dumps({"commit": commit, "directories": cone, "sparse": bool(cone), "submodules": submodules})
        )
    logger.debug("Pulled %s of %s at %s into %s.", ref.describe(), remote.url, commit, destination)
    return WorkTree(destination, commit, fetched=fetched)


def _has_object(git_dir: Path, remote: GitRemote, commit: str) -> bool:
    known = git_dir / "prefect-storage-commits"
    with contextlib.suppress(FileNotFoundError):
        return commit in known.read_text().split()
    return False


def _resolve_short_in(git_dir: Path, remote: GitRemote, ref: GitRef, depth: int | None) -> str:
    """A short commit id in a work tree: fetch the history of every branch (no blobs), then resolve it."""
    return _resolve_short(git_dir, remote, ref)


def _fetch_worktree(git_dir: Path, remote: GitRemote, ref: GitRef, what: str, depth: int | None, partial: bool) -> str:
    """Fetch ``what`` (a ref name or a full commit id); return the commit it names.

    Blobless only when a sparse cone or a pinned commit makes it worthwhile: for a
    whole tree, one pack with the blobs is cheaper than fetching them lazily."""
    args = ["--git-dir", str(git_dir), "fetch", "--quiet", "--no-tags"]
    if depth:
        args.append(f"--depth={depth}")
    if partial:
        args.append("--filter=blob:none")
    _run([*args, "origin", what], remote, what="git fetch", ref=ref)
    commit = _run(["--git-dir", str(git_dir), "rev-parse", "FETCH_HEAD^{commit}"], remote, ref=ref).strip()
    _remember_commits(git_dir, [commit])
    return commit
# -- credentials assembly for classic Git storage (kept in its own functions) ---------------

#: what makes ``Git(repo=...)`` a full clone URL rather than ``org/name``
URL_PREFIXES = ("http://", "https://", "ssh://", "git://", "file://", "git+ssh://")


def remote_for_repo(
    repo: str,
    repo_host: str,
    *,
    use_ssh: bool = False,
    token: str | None = None,
    token_username: str | None = None,
    format_access_token: bool = True,
) -> GitRemote:
    """The remote of a classic ``Git(repo=..., repo_host=...)``, values already rendered.

    ``repo`` is ``org/name`` on ``repo_host`` or a full clone URL. Over SSH no token is
    used. Over HTTPS a token goes in an ``Authorization`` header, never in the URL: with
    ``format_access_token`` as ``<user>:<token>`` (user: ``token_username``, else the repo
    owner, else ``x-access-token`` for a full URL), else the token is the whole
    ``user:password`` pair (or a bare user name).
    """
    is_url = repo.startswith(URL_PREFIXES)
    if use_ssh:
        return GitRemote.parse(repo if is_url else f"git@{repo_host}:{repo}.git")
    url = repo if is_url else f"https://{repo_host}/{repo}.git"
    auth = None
    if token is not None:
        if format_access_token:
            owner = "x-access-token" if is_url else repo.split("/")[0]
            auth = GitAuth(token_username or owner, token)
        else:
            user, sep, password = token.partition(":")
            auth = GitAuth(user, password) if sep else GitAuth(token, "")
    return GitRemote.parse(url, auth)
