"""moto's standalone S3 server for tests of the S3 storage backend (over real HTTP)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from forgekit.testing.servers import free_port


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto S3 server on a free loopback port, for the whole module."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def new_bucket(endpoint: str) -> str:
    """Create an empty bucket on the server at ``endpoint``; returns its name."""
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (moto accepts any credentials)
    ).create_bucket(Bucket=bucket)
    return bucket


def storage_url(endpoint: str, bucket: str) -> str:
    """The ``FORGE_STORAGE_URL`` of ``bucket`` on the moto server."""
    return f"s3://testing:testing@{bucket}?endpoint_url={endpoint}&region=us-east-1"
