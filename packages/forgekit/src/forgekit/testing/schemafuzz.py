"""Schema fuzzing of a product's API: schemathesis against ``<product> serve``, authenticated.

The product runs as its own process on the embedded defaults (a scratch data directory), so
requests cross a real socket and every check sees exactly what a client would. The first user
registered (the instance owner, who may call every operation) authenticates every request;
the operations that would end that session are left out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from forgekit.identity.testing import DEFAULT_PASSWORD
from forgekit.testing.servers import free_port

#: Every check but two. ``positive_data_acceptance`` expects any schema-valid body to be
#: accepted, and rules the schema cannot state (a password policy read from settings, "send
#: `code` or `files`") reject some with 422 by design. ``allow_header_conformance`` compares
#: ``Allow`` with one path template, while the server names every method it serves at the
#: concrete path (``GET /ml/models/x/default`` is another template's route);
#: tests/test_hostile_requests.py checks 405 and ``Allow`` itself.
EXCLUDED_CHECKS = "positive_data_acceptance,allow_header_conformance"
#: A body over the app's size limit is refused with 413 before validation: a right answer to
#: schema-violating data too.
CONFIG = """\
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429, "5XX"]
"""
#: Operations that end the session the fuzzer authenticates with; signed storage URLs; and
#: ``/auth/verify-email``, whose GET (the link e-mailed) is a page outside the schema, so its
#: ``Allow`` header rightly names a method the schema does not.
EXCLUDED_PATHS = r"^/(storage/|auth/(logout|session|password|verify-email))"


@dataclass(frozen=True)
class FuzzRun:
    """The outcome of one schemathesis run."""

    returncode: int
    output: str
    operations: int

    @property
    def failures(self) -> str:
        """The failures section of the report (each failure with how to reproduce it)."""
        start = self.output.find("= FAILURES =")
        return self.output[max(start, 0) :][:30000]

    @property
    def summary(self) -> str:
        """The closing lines of schemathesis' report (its summary)."""
        return "\n".join(self.output.rstrip().splitlines()[-25:])


def _wait_live(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{base}/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"server did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def _access_token(base: str) -> str:
    name = f"fuzz{uuid.uuid4().hex[:8]}"
    password = DEFAULT_PASSWORD
    with httpx.Client(base_url=base, timeout=120) as client:
        client.post("/auth/register", json={"email": f"{name}@example.com", "username": name,
                                            "password": password}).raise_for_status()  # fmt: skip
        token = client.post("/auth/login", data={"username": name, "password": password})
        token.raise_for_status()
        return str(token.json()["access_token"])


def fuzz_product(
    cli_module: str,
    env_prefix: str,
    workdir: Path,
    *,
    max_examples: int = 2,
    max_time_s: int | None = None,
    phases: str = "examples,coverage,fuzzing",
    seed: int = 1,
) -> FuzzRun:
    """Serve the product from ``workdir`` and run schemathesis over its OpenAPI schema.

    Without ``max_time_s`` every phase runs once (``max_examples`` per operation), so the run
    covers every operation and ends when done; with it, schemathesis repeats fuzzing and
    stateful testing until the budget is spent (``make reliability``'s long run).
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, f"{env_prefix}_DATA_DIR": str(workdir / "data"),
           f"{env_prefix}_HOST": "127.0.0.1", f"{env_prefix}_PORT": str(port),
           "FORGE_PASSWORD_HASH_TIME_COST": "1", "FORGE_PASSWORD_HASH_MEMORY_KIB": "1024",
           "FORGE_PASSWORD_HASH_PARALLELISM": "1", "FORGE_RATE_LIMIT_ENABLED": "false"}  # fmt: skip
    log = workdir / "server.log"
    python = sys.executable
    subprocess.run([python, "-m", cli_module, "migrate"], env=env, check=True,  # noqa: S603
                   capture_output=True)  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen([python, "-m", cli_module, "serve"], env=env,  # noqa: S603
                                stdout=out, stderr=out)  # fmt: skip
    try:
        _wait_live(base, proc, log)
        schema = httpx.get(f"{base}/openapi.json", timeout=60).json()
        operations = sum(len(v) for v in schema["paths"].values())
        key = _access_token(base)
        cli = shutil.which("schemathesis", path=str(Path(python).parent)) or "schemathesis"
        # One worker: hypothesis parses lambdas' source with ``ast`` to describe them, and on
        # CPython 3.11 two threads doing so can fail with "AST constructor recursion depth
        # mismatch" (seen as a schemathesis runtime error, not a failure of the API).
        config = workdir / "schemathesis.toml"
        config.write_text(CONFIG)
        done = subprocess.run(  # noqa: S603
            [cli, "--config-file", str(config), "run", f"{base}/openapi.json",
             "-H", f"Authorization: Bearer {key}",
             "--checks", "all", "--exclude-checks", EXCLUDED_CHECKS,
             "--exclude-path-regex", EXCLUDED_PATHS, "--max-examples", str(max_examples),
             *(["--max-time", str(max_time_s)] if max_time_s else []),
             "--phases", phases, "--seed", str(seed),
             "--workers", "1", "--request-timeout", "30", "--no-color",
             "--generation-deterministic"],
            capture_output=True, text=True, check=False, timeout=(max_time_s or 900) + 120,
            cwd=workdir,
        )  # fmt: skip
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return FuzzRun(done.returncode, done.stdout + done.stderr, operations)


def assert_schema_holds(cli_module: str, env_prefix: str, workdir: Path, scenario: str) -> None:
    """A product's schemathesis test: run it, record what it counted, fail on any failure.

    ``FORGE_FUZZ_PHASES`` chooses the phases (``make reliability`` adds ``stateful``) and
    ``FORGE_FUZZ_MAX_TIME`` a time budget to keep fuzzing for (none in ``make test``).
    """
    from forgekit.testing.faults import record

    phases = os.environ.get("FORGE_FUZZ_PHASES", "examples,coverage,fuzzing")
    budget = int(os.environ.get("FORGE_FUZZ_MAX_TIME", "0")) or None
    run = fuzz_product(cli_module, env_prefix, workdir, phases=phases, max_time_s=budget)
    record(scenario, operations=run.operations, returncode=run.returncode, summary=run.summary)
    assert run.returncode == 0, run.failures
