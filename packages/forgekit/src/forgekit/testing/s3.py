"""moto's standalone S3 server for tests of the S3 storage backend (over real HTTP)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import httpx
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


@contextmanager
def moto_server_process(timeout_s: float = 60.0) -> Iterator[str]:
    """moto's standalone S3 server in a process of its own; yields its endpoint.

    For memory measurements: moto keeps objects in memory, so a server in a thread of the
    measured process would count every stored byte as the API's.
    """
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter running moto
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                httpx.get(f"{endpoint}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.1)  # polling the server's port until it answers
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def moto_process_endpoint() -> Iterator[str]:
    """moto's S3 server in its own process, for the whole module (see
    :func:`moto_server_process`)."""
    with moto_server_process() as endpoint:
        yield endpoint


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
