"""Credentials blocks: git forges (GitHub, GitLab, Bitbucket) and clouds (AWS, GCP, Azure).

Field names follow the Prefect integrations (``prefect-github``, ``prefect-aws`` ...),
so ``GitHubCredentials(token="...")`` and ``AwsCredentials(aws_access_key_id=...,
aws_secret_access_key=...)`` work after the import swap. Cloud credentials also know
the fsspec settings they stand for (:meth:`fsspec_settings`), which the storage
blocks and ``RemoteStorage`` use.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from prefect_storage.blocks.core import Block, Field, SecretStr

__all__ = [
    "AwsCredentials",
    "AzureBlobStorageCredentials",
    "BitBucketCredentials",
    "GcpCredentials",
    "GitHubCredentials",
    "GitLabCredentials",
]


def _with_userinfo(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"))


class _GitCredentials(Block):
    token: SecretStr | None
    username: str | None

    def _token(self) -> str:
        if self.token is None:
            from prefect_storage.exceptions import BlockValidationError

            raise BlockValidationError(f"{type(self).__name__} has no token: set token= before cloning with it.")
        return str(self.token.get_secret_value())

    def format_git_credentials(self, url: str) -> str:
        """``url`` with this forge's user/token convention in it (Prefect's formatter protocol).

        ``GitRepository`` turns the result into an ``Authorization`` header; the URL
        itself is never used on a command line or written to disk."""
        user, password = self._git_user_password()
        return _with_userinfo(url, user, password)

    def _git_user_password(self) -> tuple[str, str]:
        return getattr(self, "username", None) or "x-access-token", self._token()


class GitHubCredentials(_GitCredentials):
    """A GitHub personal access token (``prefect_github.GitHubCredentials``)."""

    _block_type_slug = "github-credentials"
    _fields = {"token": Field(secret=True, description="A personal access token.")}


class GitLabCredentials(_GitCredentials):
    """A GitLab token (``prefect_gitlab.GitLabCredentials``): ``oauth2:<token>``, or a deploy token ``name:token``."""

    url: str | None

    _block_type_slug = "gitlab-credentials"
    _fields = {
        "token": Field(secret=True, description="A personal, project or deploy token."),
        "url": Field(description="The GitLab instance URL (for API use)."),
    }

    def _git_user_password(self) -> tuple[str, str]:
        token = self._token()
        if token.startswith("oauth2:"):
            return "oauth2", token[7:]
        user, sep, password = token.partition(":")
        return (user, password) if sep else ("oauth2", token)


class BitBucketCredentials(_GitCredentials):
    """A Bitbucket token (``prefect_bitbucket.BitBucketCredentials``): ``x-token-auth:<token>`` or ``username:token``."""

    url: str | None

    _block_type_slug = "bitbucket-credentials"
    _fields = {
        "token": Field(secret=True, description="An access token or app password."),
        "username": Field(description="The user name (Bitbucket Server, app passwords)."),
        "url": Field(default="https://api.bitbucket.org/", description="The API URL."),
    }

    def _git_user_password(self) -> tuple[str, str]:
        token = self._token()
        if self.username:
            return self.username, token
        if token.startswith("x-token-auth:"):
            return "x-token-auth", token[13:]
        user, sep, password = token.partition(":")
        return (user, password) if sep else ("x-token-auth", token)


class AwsCredentials(Block):
    """AWS credentials (``prefect_aws.AwsCredentials``); empty fields fall back to boto's default chain."""

    aws_access_key_id: str | None
    aws_secret_access_key: SecretStr | None
    aws_session_token: SecretStr | None
    profile_name: str | None
    region_name: str | None
    aws_client_parameters: dict[str, Any]

    _block_type_slug = "aws-credentials"
    _block_type_name = "AWS Credentials"
    _fields = {
        "aws_access_key_id": Field(description="The access key id."),
        "aws_secret_access_key": Field(secret=True, description="The secret access key."),
        "aws_session_token": Field(secret=True, description="A session token (temporary credentials)."),
        "profile_name": Field(description="A profile in ~/.aws/config."),
        "region_name": Field(description="The region."),
        "aws_client_parameters": Field(default={}, description="Client options, e.g. {'endpoint_url': ...}."),
    }

    def fsspec_settings(self) -> dict[str, Any]:
        """s3fs settings (``key``, ``secret``, ``token``, ``profile``, ``client_kwargs``)."""
        settings: dict[str, Any] = {}
        if self.aws_access_key_id:
            settings["key"] = self.aws_access_key_id
        if self.aws_secret_access_key is not None:
            settings["secret"] = self.aws_secret_access_key.get_secret_value()
        if self.aws_session_token is not None:
            settings["token"] = self.aws_session_token.get_secret_value()
        if self.profile_name:
            settings["profile"] = self.profile_name
        client_kwargs = {k: v for k, v in dict(self.aws_client_parameters or {}).items() if v is not None}
        if self.region_name:
            client_kwargs["region_name"] = self.region_name
        if client_kwargs:
            settings["client_kwargs"] = client_kwargs
        return settings


class GcpCredentials(Block):
    """GCP credentials (``prefect_gcp.GcpCredentials``): a service account (info or file), else the default chain."""

    service_account_file: str | None
    service_account_info: SecretStr | None
    project: str | None

    _block_type_slug = "gcp-credentials"
    _block_type_name = "GCP Credentials"
    _fields = {
        "service_account_file": Field(description="Path to a service account key file."),
        "service_account_info": Field(secret=True, description="The service account key (JSON)."),
        "project": Field(description="The project."),
    }

    def fsspec_settings(self) -> dict[str, Any]:
        """gcsfs settings (``token``, ``project``)."""
        settings: dict[str, Any] = {}
        if self.service_account_info is not None:
            info = self.service_account_info.get_secret_value()
            if isinstance(info, str):
                import json

                info = json.loads(info)
            settings["token"] = info
        elif self.service_account_file:
            settings["token"] = str(self.service_account_file)
        if self.project:
            settings["project"] = self.project
        return settings


class AzureBlobStorageCredentials(Block):
    """Azure Blob Storage credentials (``prefect_azure.AzureBlobStorageCredentials``)."""

    connection_string: SecretStr | None
    account_url: str | None

    _block_type_slug = "azure-blob-storage-credentials"
    _fields = {
        "connection_string": Field(secret=True, description="A storage account connection string."),
        "account_url": Field(description="https://<account>.blob.core.windows.net (with the default credential chain)."),
    }

    def fsspec_settings(self) -> dict[str, Any]:
        """adlfs settings (``connection_string``, or ``account_name`` for the default chain)."""
        if self.connection_string is not None:
            return {"connection_string": self.connection_string.get_secret_value()}
        if self.account_url:
            host = urlsplit(str(self.account_url)).hostname or str(self.account_url)
            return {"account_name": host.split(".")[0], "anon": False}
        return {}
