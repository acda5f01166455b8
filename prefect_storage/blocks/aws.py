"""The blocks of ``prefect_aws`` under one roof: ``from prefect_aws import X`` becomes ``from prefect_storage.blocks.aws import X``."""

from prefect_storage.blocks.credentials import AwsCredentials
from prefect_storage.blocks.storage import S3Bucket

AWSCredentials = AwsCredentials  # the docs' spelling

__all__ = ['AWSCredentials', 'AwsCredentials', 'S3Bucket']
