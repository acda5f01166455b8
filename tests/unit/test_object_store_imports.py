"""Object-store classes import no SDK until they are used, and classify errors without a server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_and_constructing_object_stores_imports_no_sdk() -> None:
    code = (
        "import sys\n"
        "from prefect_storage.storage import S3, GCS, Azure, Storage\n"
        "from prefect_storage.results import S3Result, GCSResult, AzureResult\n"
        "s = [S3('b'), GCS('b'), Azure('c')]\n"
        "Storage.deserialize(s[0].serialize())\n"
        "sdks = ['boto3', 'botocore', 'google.cloud.storage', 'azure.storage.blob', 'azure.identity']\n"
        "print(','.join(m for m in sdks if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_gcs_and_azure_transient_errors() -> None:
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError
    from google.api_core import exceptions as gex

    from prefect_storage.backends import azure, gcs

    assert gcs.is_transient(gex.ServiceUnavailable("busy"))
    assert gcs.is_transient(gex.TooManyRequests("slow down"))
    assert not gcs.is_transient(gex.Forbidden("no"))
    assert not gcs.is_transient(gex.NotFound("gone"))

    busy = HttpResponseError("busy")
    busy.status_code = 503
    assert azure.is_transient(busy)
    assert azure.is_transient(ServiceRequestError("connection reset"))
    assert not azure.is_transient(ResourceNotFoundError("gone"))
