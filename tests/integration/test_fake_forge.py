"""The test forge itself, checked against the real client libraries and against git."""

from __future__ import annotations

import base64
import os
import uuid

import pytest

from tests.conftest import import_or_skip
from tests.services.forge import ForgeService
from tests.services.git import RepoWriter, git

BIG = os.urandom(1_200_000)  # over GitHub's 1 MiB inline limit


@pytest.fixture(scope="module")
def seeded(forge_service: ForgeService) -> tuple[ForgeService, RepoWriter, dict[str, str]]:
    writer = forge_service.repo(f"acme/lib-{uuid.uuid4().hex[:8]}")
    first = writer.commit({"flows/a.py": "print('v1')\n", "big.bin": BIG})
    writer.tag("v1", annotated=True)
    writer.tag("light")
    writer.commit({"flows/a.py": "print('dev')\n"}, branch="dev")
    writer.switch("main")
    head = writer.commit({"flows/a.py": "print('v2')\n"})
    return forge_service, writer, {"first": first, "head": head}


def show(writer: RepoWriter, spec: str) -> bytes:
    return git("--git-dir", str(writer.bare), "show", spec).encode() + b"\n"


def test_pygithub(seeded: tuple[ForgeService, RepoWriter, dict[str, str]]) -> None:
    github = import_or_skip("github")
    forge, writer, commits = seeded
    for base in (forge.base + "/api/v3", forge.base):
        client = github.Github(base_url=base, auth=github.Auth.Token(forge.token), retry=None)
        repo = client.get_repo(writer.name)
        assert repo.default_branch == "main"
        assert repo.get_commit("v1").sha == commits["first"]
        assert repo.get_commit(commits["first"][:10]).sha == commits["first"]
        assert repo.get_branch("main").commit.sha == commits["head"]
        assert repo.get_contents("flows/a.py", ref="dev").decoded_content == show(writer, "dev:flows/a.py")
        assert repo.get_contents("flows/a.py").decoded_content == b"print('v2')\n"
        big = repo.get_contents("big.bin", ref="light")
        assert big.encoding == "none" and big.content == ""
        assert base64.b64decode(repo.get_git_blob(big.sha).content) == BIG
        assert {c.path for c in repo.get_contents("flows", ref="main")} == {"flows/a.py"}
        with pytest.raises(github.UnknownObjectException):
            repo.get_contents("missing.py", ref="main")
    bad = github.Github(base_url=forge.base, auth=github.Auth.Token("wrong"), retry=None)
    with pytest.raises(github.BadCredentialsException):
        bad.get_repo(writer.name)


def test_python_gitlab(seeded: tuple[ForgeService, RepoWriter, dict[str, str]]) -> None:
    gitlab = import_or_skip("gitlab")
    forge, writer, commits = seeded
    client = gitlab.Gitlab(forge.base, private_token=forge.token)
    client.auth()
    project = client.projects.get(writer.name)
    assert project.default_branch == "main"
    assert project.commits.get("v1").id == commits["first"]
    assert project.files.get(file_path="flows/a.py", ref="dev").decode() == b"print('dev')\n"
    assert project.files.raw(file_path="big.bin", ref="main") == BIG
    by_id = client.projects.get(project.id)
    assert by_id.path_with_namespace == writer.name
    with pytest.raises(gitlab.GitlabGetError):
        project.files.get(file_path="missing.py", ref="main")
    with pytest.raises(gitlab.GitlabAuthenticationError):
        gitlab.Gitlab(forge.base, private_token="wrong").projects.get(writer.name)


def test_bitbucket_with_requests(seeded: tuple[ForgeService, RepoWriter, dict[str, str]]) -> None:
    requests = import_or_skip("requests")
    forge, writer, commits = seeded
    owner, slug = writer.name.split("/")
    cloud = f"{forge.base}/2.0/repositories/{owner}/{slug}"
    auth = ("someone", forge.token)
    assert requests.get(cloud, auth=auth).json()["mainbranch"]["name"] == "main"
    assert requests.get(f"{cloud}/refs/tags/v1", auth=auth).json()["target"]["hash"] == commits["first"]
    assert requests.get(f"{cloud}/src/{commits['first']}/flows/a.py", auth=auth).content == b"print('v1')\n"
    assert requests.get(f"{cloud}/src/main/flows", auth=auth).json()["values"][0]["path"] == "flows/a.py"
    assert requests.get(cloud, auth=("someone", "wrong")).status_code == 401
    server = f"{forge.base}/rest/api/1.0/projects/{owner.upper()}/repos/{slug}"
    headers = {"Authorization": f"Bearer {forge.token}"}
    assert requests.get(f"{server}/commits", params={"until": "dev", "limit": 1}, headers=headers).json()["values"][0]["id"] \
        == git("--git-dir", str(writer.bare), "rev-parse", "dev")
    assert requests.get(f"{server}/raw/flows/a.py", params={"at": "refs/tags/light"}, headers=headers).content == b"print('v1')\n"
    missing = requests.get(f"{server}/raw/nope.py", params={"at": "main"}, headers=headers)
    assert missing.status_code == 404 and "NoSuchPathException" in missing.json()["errors"][0]["exceptionName"]


def test_boto3_codecommit_with_sigv4(seeded: tuple[ForgeService, RepoWriter, dict[str, str]]) -> None:
    boto3 = import_or_skip("boto3")
    from botocore.exceptions import ClientError

    forge, writer, commits = seeded
    name = writer.name.split("/")[1]

    def client(secret: str):
        return boto3.session.Session().client(
            "codecommit", endpoint_url=forge.base, region_name="us-east-1",
            aws_access_key_id=forge.aws_key, aws_secret_access_key=secret)

    cc = client(forge.aws_secret)
    assert cc.get_repository(repositoryName=name)["repositoryMetadata"]["defaultBranch"] == "main"
    assert cc.get_branch(repositoryName=name, branchName="main")["branch"]["commitId"] == commits["head"]
    answer = cc.get_file(repositoryName=name, filePath="/flows/a.py")
    assert answer["fileContent"] == b"print('v2')\n" and answer["commitId"] == commits["head"]
    assert cc.get_file(repositoryName=name, commitSpecifier="v1", filePath="flows/a.py")["fileContent"] == b"print('v1')\n"
    with pytest.raises(ClientError) as missing:
        cc.get_file(repositoryName=name, filePath="nope.py")
    assert missing.value.response["Error"]["Code"] == "FileDoesNotExistException"
    with pytest.raises(ClientError) as bad:
        client("wrong-secret").get_repository(repositoryName=name)
    assert bad.value.response["Error"]["Code"] == "InvalidSignatureException"
