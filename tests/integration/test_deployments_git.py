"""The reference page's git examples, with only the import swap (and loopback URLs/names):
public repository URL, private repository with a credentials block, with a Secret block,
with an access token in prefect.yaml — deployed from Python and from prefect.yaml, run
through `agent local`; a repeat run of an unchanged repository pulls nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prefect_storage.registry import Registry
from tests.integration.deploy_helpers import MY_FLOW, cli, run_deployment, run_script, write
from tests.services.git import GitService

pytestmark = pytest.mark.integration

# The page's snippets, verbatim apart from the import swap (done by _swap) and the URLs.
GH_NO_BLOCK = '''
from prefect import flow

if __name__ == "__main__":
    flow.from_source(
        source="https://github.com/org/my-public-repo.git",
        entrypoint="gh_no_block.py:my_flow",
    ).deploy(
        name="my-github-deployment",
        work_pool_name="my_pool",
    )
'''

GH_CREDENTIALS_BLOCK = '''
from prefect import flow
from prefect.runner.storage import GitRepository
from prefect_github import GitHubCredentials


if __name__ == "__main__":

    github_repo = GitRepository(
        url="https://github.com/org/my-private-repo.git",
        credentials=GitHubCredentials.load("my-github-credentials-block"),
    )

    flow.from_source(
        source=github_repo,
        entrypoint="gh_credentials_block.py:my_flow",
    ).deploy(
        name="private-github-deploy",
        work_pool_name="my_pool",
    )
'''

GH_SECRET_BLOCK = '''
from prefect import flow
from prefect.runner.storage import GitRepository
from prefect.blocks.system import Secret


if __name__ == "__main__":

    github_repo = GitRepository(
        url="https://github.com/org/my-private-repo.git",
        credentials={
            "access_token": Secret.load("my-secret-block-with-my-gh-credentials")
        },
    )

    flow.from_source(
        source=github_repo,
        entrypoint="gh_secret_block.py:my_flow",
    ).deploy(
        name="private-github-deploy",
        work_pool_name="my_pool",
    )
'''

GL_NO_BLOCK = '''
from prefect import flow

if __name__ == "__main__":
    gitlab_repo = "https://gitlab.com/org/my-public-repo.git"
    flow.from_source(
        source=gitlab_repo,
        entrypoint="gl_no_block.py:my_flow"
    ).deploy(
        name="my-gitlab-deployment",
        work_pool_name="my_pool",
    )
'''

# The reference page's GitLab and Bitbucket private-repository scripts (the page's
# bb_credentials_block.py passes an undefined `source`; its repository object is meant).
FORGE_CREDENTIALS_BLOCK = '''
from prefect import flow
from prefect.runner.storage import GitRepository
from {module} import {block}

if __name__ == "__main__":
    repo = GitRepository(
        url="{url}",
        credentials={block}.load("{block_name}")
    )
    flow.from_source(
        source=repo,
        entrypoint="{script}:my_flow",
    ).deploy(
        name="{deployment}",
        work_pool_name="my_pool",
    )
'''

FORGE_SECRET_BLOCK = '''
from prefect import flow
from prefect.runner.storage import GitRepository
from prefect.blocks.system import Secret

if __name__ == "__main__":
    repo = GitRepository(
        url="{url}",
        credentials={{
            "access_token": Secret.load("{secret_name}")
        }},
    )
    flow.from_source(
        source=repo,
        entrypoint="{script}:my_flow",
    ).deploy(
        name="{deployment}",
        work_pool_name="my_pool",
    )
'''

GIT_YAML = '''
# relevant section of the file:
pull:
  - prefect.deployments.steps.git_clone:
      repository: {url}
      # Uncomment the following line if using a credentials block
      {credentials}
      # Uncomment the following line if using a Secret block
      {access_token}
deployments:
- name: {name}
  entrypoint: gh_no_block.py:my_flow
  work_pool:
    name: my_pool
'''


def _swap(source: str, **urls: str) -> str:
    """The import swap of the page (prefect -> prefect_storage) and loopback URLs."""
    source = (
        source.replace("from prefect import flow", "from prefect_storage import flow")
        .replace("from prefect.runner.storage import", "from prefect_storage.runner.storage import")
        .replace("from prefect.blocks.system import", "from prefect_storage.blocks.system import")
        .replace("from prefect_github import", "from prefect_storage.blocks.github import")
        .replace("from prefect_gitlab import", "from prefect_storage.blocks.gitlab import")
        .replace("from prefect_bitbucket import", "from prefect_storage.blocks.bitbucket import")
    )
    for old, new in urls.items():
        source = source.replace(old, new)
    return source


@pytest.fixture
def registry_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    monkeypatch.setenv("PREFECT_STORAGE_REGISTRY_URL", url)  # blocks are saved in the same registry
    return url


def _publish(service: GitService, name: str, files: dict[str, str]) -> str:
    repo = service.repo(name)
    repo.commit(files, "flows")
    return service.url(name)


def _upload_packs(service: GitService) -> int:
    return len(_upload_pack_sizes(service))


def _upload_pack_sizes(service: GitService) -> list[int]:
    """Bytes sent back by each POST to git-upload-pack (protocol v2: ``ls-refs`` or ``fetch``)."""
    if service.stats is None:
        return []
    return [int(line.split()[-1]) for line in service.stats_lines()
            if line.startswith("POST") and "upload-pack" in line]


def test_public_repository_url_from_python_and_yaml(registry_url: str, tmp_path: Path, git_daemon_service: GitService) -> None:
    url = _publish(git_daemon_service, "my-public-repo", {"gh_no_block.py": MY_FLOW, "gl_no_block.py": MY_FLOW})
    project = write(tmp_path / "deploy", {
        "gh_no_block.py": _swap(GH_NO_BLOCK, **{"https://github.com/org/my-public-repo.git": url}),
        "gl_no_block.py": _swap(GL_NO_BLOCK, **{"https://gitlab.com/org/my-public-repo.git": url}),
    })
    run_script(project / "gh_no_block.py", registry_url)
    run_script(project / "gl_no_block.py", registry_url)
    run, logs = run_deployment(registry_url, "my-flow/my-github-deployment", "my_pool", {"name": "Public"})
    assert run.state == "Success", (run.message, logs)
    assert "Hello Public! from my-public-repo" in logs
    gitlab = json.loads(cli(registry_url, "deployments", "inspect", "my-flow/my-gitlab-deployment").stdout)
    assert gitlab["spec"]["pull_steps"] == [
        {"prefect.deployments.steps.git_clone": {"repository": url, "branch": None}}
    ] and gitlab["entrypoint"] == "gl_no_block.py:my_flow"
    yaml_project = write(tmp_path / "yaml", {
        "gh_no_block.py": MY_FLOW,
        "prefect.yaml": GIT_YAML.format(url=url, credentials="", access_token="", name="from-yaml"),
    })
    cli(registry_url, "deploy", cwd=yaml_project)
    run, logs = run_deployment(registry_url, "my-flow/from-yaml", "my_pool")
    assert run.state == "Success" and "Hello World! from my-public-repo" in logs


def test_private_repository_with_credentials_and_secret_blocks(
    registry_url: str, tmp_path: Path, git_http_service: GitService
) -> None:
    from prefect_storage.blocks.github import GitHubCredentials
    from prefect_storage.blocks.system import Secret

    token = git_http_service.token
    url = _publish(git_http_service, "my-private-repo", {
        "gh_credentials_block.py": MY_FLOW, "gh_secret_block.py": MY_FLOW, "gh_no_block.py": MY_FLOW,
    })
    GitHubCredentials(token=token).save("my-github-credentials-block")
    Secret(value=token).save("my-secret-block-with-my-gh-credentials")
    project = write(tmp_path / "deploy", {
        "gh_credentials_block.py": _swap(GH_CREDENTIALS_BLOCK, **{"https://github.com/org/my-private-repo.git": url}),
        "gh_secret_block.py": _swap(GH_SECRET_BLOCK, **{"https://github.com/org/my-private-repo.git": url}),
    })
    run_script(project / "gh_credentials_block.py", registry_url)
    with Registry(registry_url) as registry:
        from prefect_storage.registry.deployments import get_deployment

        stored = json.dumps(get_deployment(registry, "my-flow/private-github-deploy").spec)
    assert token not in stored and "{{ prefect.blocks.github-credentials.my-github-credentials-block }}" in stored
    before = _upload_packs(git_http_service)
    run, logs = run_deployment(registry_url, "my-flow/private-github-deploy", "my_pool", {"name": "Creds"})
    assert run.state == "Success", (run.message, logs)
    assert "Hello Creds! from my-private-repo" in logs and token not in logs
    first = _upload_pack_sizes(git_http_service)[before:]
    assert len(first) >= 2  # the first run checked the ref and fetched the repository (a pack)
    # a repeat run of the unchanged repository reuses the workspace: one ref check
    # (protocol v2 `ls-refs`), no pack
    before = _upload_packs(git_http_service)
    run, logs = run_deployment(registry_url, "my-flow/private-github-deploy", "my_pool", {"name": "Again"})
    assert run.state == "Success" and "Hello Again!" in logs
    repeat = _upload_pack_sizes(git_http_service)[before:]
    assert len(repeat) <= 1 and sum(repeat) < max(first)

    run_script(project / "gh_secret_block.py", registry_url)  # the same deployment, now with a Secret block
    with Registry(registry_url) as registry:
        stored = json.dumps(get_deployment(registry, "my-flow/private-github-deploy").spec)
    assert token not in stored and "{{ prefect.blocks.secret.my-secret-block-with-my-gh-credentials }}" in stored
    run, logs = run_deployment(registry_url, "my-flow/private-github-deploy", "my_pool", {"name": "Secret"})
    assert run.state == "Success" and "Hello Secret!" in logs and token not in logs

    # prefect.yaml: the page's commented lines, uncommented one at a time
    for name, credentials, access_token in (
        ("yaml-credentials", 'credentials: "{{ prefect.blocks.github-credentials.my-github-credentials-block }}"', ""),
        ("yaml-secret", "", 'access_token: "{{ prefect.blocks.secret.my-secret-block-with-my-gh-credentials }}"'),
    ):
        yaml_project = write(tmp_path / name, {
            "gh_no_block.py": MY_FLOW,
            "prefect.yaml": GIT_YAML.format(url=url, credentials=credentials, access_token=access_token, name=name),
        })
        cli(registry_url, "deploy", cwd=yaml_project)
        run, logs = run_deployment(registry_url, f"my-flow/{name}", "my_pool")
        assert run.state == "Success", (name, run.message, logs)


def test_wrong_token_fails_once_with_the_step_named_and_no_secret(
    registry_url: str, tmp_path: Path, git_http_service: GitService
) -> None:
    from prefect_storage.blocks.system import Secret

    url = _publish(git_http_service, "locked-repo", {"gh_no_block.py": MY_FLOW})
    wrong = "ghp-wrong-" + "x" * 20
    Secret(value=wrong).save("wrong-token")
    project = write(tmp_path / "wrong", {
        "gh_no_block.py": MY_FLOW,
        "prefect.yaml": GIT_YAML.format(url=url, credentials="", access_token='access_token: "{{ prefect.blocks.secret.wrong-token }}"', name="wrong"),
    })
    cli(registry_url, "deploy", cwd=project)
    denied = git_http_service.stats.read_text().count(" 401 ") if git_http_service.stats else 0
    run, logs = run_deployment(registry_url, "my-flow/wrong", "my_pool")
    assert run.state == "Failed" and "git_clone" in run.message and "pulling its code failed" in run.message
    assert wrong not in run.message and wrong not in logs
    assert "retry" not in logs.lower()  # an auth failure is not retried
    assert git_http_service.stats is None or git_http_service.stats.read_text().count(" 401 ") - denied <= 2


@pytest.mark.parametrize(
    "forge, module, block, slug",
    [
        ("gl", "prefect_gitlab", "GitLabCredentials", "gitlab-credentials"),
        ("bb", "prefect_bitbucket", "BitBucketCredentials", "bitbucket-credentials"),
    ],
)
def test_gitlab_and_bitbucket_private_repositories_with_credentials_and_secret_blocks(
    forge: str, module: str, block: str, slug: str, registry_url: str, tmp_path: Path, git_http_service: GitService
) -> None:
    import importlib

    from prefect_storage.blocks.system import Secret

    token = git_http_service.token
    url = _publish(git_http_service, f"{forge}-private-repo", {
        f"{forge}_credentials_block.py": MY_FLOW, f"{forge}_secret_block.py": MY_FLOW,
    })
    credentials_class = getattr(importlib.import_module(module.replace("prefect_", "prefect_storage.blocks.")), block)
    credentials_class(token=token).save(f"my-{forge}-credentials-block")
    Secret(value=token).save(f"my-secret-block-with-my-{forge}-credentials")
    deployment = f"private-{forge}-deploy"
    project = write(tmp_path / "deploy", {
        f"{forge}_credentials_block.py": _swap(FORGE_CREDENTIALS_BLOCK.format(
            module=module, block=block, url=url, block_name=f"my-{forge}-credentials-block",
            script=f"{forge}_credentials_block.py", deployment=deployment)),
        f"{forge}_secret_block.py": _swap(FORGE_SECRET_BLOCK.format(
            url=url, secret_name=f"my-secret-block-with-my-{forge}-credentials",
            script=f"{forge}_secret_block.py", deployment=deployment)),
    })
    for script, reference in (
        (f"{forge}_credentials_block.py", f"{{{{ prefect.blocks.{slug}.my-{forge}-credentials-block }}}}"),
        (f"{forge}_secret_block.py", f"{{{{ prefect.blocks.secret.my-secret-block-with-my-{forge}-credentials }}}}"),
    ):
        run_script(project / script, registry_url)
        with Registry(registry_url) as registry:
            from prefect_storage.registry.deployments import get_deployment

            stored = json.dumps(get_deployment(registry, f"my-flow/{deployment}").spec)
        assert token not in stored and reference in stored, stored
        run, logs = run_deployment(registry_url, f"my-flow/{deployment}", "my_pool", {"name": forge})
        assert run.state == "Success", (script, run.message, logs)
        assert f"Hello {forge}! from {forge}-private-repo" in logs and token not in logs
