"""Schema fuzzing of a product's API: schemathesis against ``<product> serve``, authenticated.

The product runs as its own process on the embedded defaults (a scratch data directory), so
requests cross a real socket and every check sees exactly what a client would. A user
registered through the API authenticates every request; a product whose self-registered
users may do little (a marketplace's consumers, a shop's customers) gives it a role
(``user_values``) and seeds resources for it (``prepare``: an API key with the right scopes,
an owner's model and version, and the path parameters naming them), so that most operations
reach their handlers rather than 401/403/404. The operations that would end that session are
left out. Each run also counts, from schemathesis' HAR report, the responses per operation
by status class (``FuzzRun.shares``), to show how far the requests got.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from forgekit.identity.testing import DEFAULT_PASSWORD
from forgekit.testing.servers import serve_product

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
class FuzzUser:
    """The account the fuzzer authenticates as (registered through the API)."""

    base: str
    username: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """Its login session's credential."""
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class FuzzSetup:
    """What a product's ``prepare`` hands the run: the credential sent with every request
    (an API key, say) and extra schemathesis TOML (``[parameters]`` naming seeded resources,
    ``[[operations]]`` overrides)."""

    headers: dict[str, str]
    config: str = ""


#: Seeds a product's resources as the fuzzing user; returns how to authenticate and where.
Prepare = Callable[[httpx.Client, FuzzUser], FuzzSetup]


@dataclass(frozen=True)
class FuzzRun:
    """The outcome of one schemathesis run."""

    returncode: int
    output: str
    operations: int
    #: ``"METHOD /template"`` → status class (``2xx``, ``401``, ``403``, ``404``, ``4xx``,
    #: ``5xx``) → responses, from schemathesis' HAR report.
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def failures(self) -> str:
        """The failures section of the report (each failure with how to reproduce it)."""
        start = self.output.find("= FAILURES =")
        return self.output[max(start, 0) :][:30000]

    @property
    def summary(self) -> str:
        """The closing lines of schemathesis' report (its summary)."""
        return "\n".join(self.output.rstrip().splitlines()[-25:])

    def shares(self) -> dict[str, object]:
        """How far the requests got: operations answered 2xx at least once, operations
        answered only 401/403, and each status class's share of all responses."""
        total: Counter[str] = Counter()
        for counts in self.statuses.values():
            total.update(counts)
        n = sum(total.values()) or 1
        only_auth = [op for op, c in self.statuses.items() if set(c) <= {"401", "403"}]
        return {
            "operations_seen": len(self.statuses),
            "operations_with_2xx": sum(1 for c in self.statuses.values() if c.get("2xx")),
            "operations_only_401_403": len(only_auth),
            "responses": sum(total.values()),
            "response_share": {k: round(v / n, 3) for k, v in sorted(total.items())},
        }

    def table(self) -> str:
        """One line per operation: its responses by status class."""
        return "\n".join(f"{op}: " + ", ".join(f"{k}={v}" for k, v in sorted(c.items()))
                         for op, c in sorted(self.statuses.items()))  # fmt: skip


def _status_class(status: int) -> str:
    if status in (401, 403, 404):
        return str(status)
    return f"{status // 100}xx"


def tally_statuses(har: Path, paths: dict[str, dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Responses per operation of the schema (``paths``) and status class, from a HAR file;
    probes with methods the schema does not name (the ``unsupported_method`` check) are left
    out."""
    # Literal segments first: ``/models/popular`` before ``/models/{owner}``.
    templates = sorted(paths, key=lambda p: (p.count("{"), -len(p)))
    patterns = [(t, re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(t)) + "$"))
                for t in templates]  # fmt: skip
    counts: dict[str, Counter[str]] = {}
    for entry in json.loads(har.read_text())["log"]["entries"]:
        path = urlsplit(entry["request"]["url"]).path
        template = next((t for t, rx in patterns if rx.match(path)), path)
        method = entry["request"]["method"]
        if method.lower() not in paths.get(template, {}):
            continue
        op = f"{method} {template}"
        counts.setdefault(op, Counter())[_status_class(int(entry["response"]["status"]))] += 1
    return {op: dict(c) for op, c in counts.items()}


def register_user(base: str) -> FuzzUser:
    """Register a fresh account through the API and log it in."""
    name = f"fuzz{uuid.uuid4().hex[:8]}"
    password = DEFAULT_PASSWORD
    with httpx.Client(base_url=base, timeout=120) as client:
        client.post("/auth/register", json={"email": f"{name}@example.com", "username": name,
                                            "password": password}).raise_for_status()  # fmt: skip
        token = client.post("/auth/login", data={"username": name, "password": password})
        token.raise_for_status()
        return FuzzUser(base, name, password, str(token.json()["access_token"]))


def set_user_row(workdir: Path, username: str, **values: object) -> None:
    """Change the account's row in the served product's embedded database (``role``,
    ``is_verified``): what an administrator or a clicked e-mail link would do."""
    (db,) = (workdir / "data").glob("*.db")
    columns = ", ".join(f"{name} = ?" for name in values)  # our own keyword names, not input
    with closing(sqlite3.connect(db)) as conn, conn:
        done = conn.execute(f"UPDATE users SET {columns} WHERE username = ?",  # noqa: S608
                            [*values.values(), username])  # fmt: skip
        if done.rowcount != 1:
            raise AssertionError(f"no user {username!r} in {db}")


def fuzz_product(
    cli_module: str,
    env_prefix: str,
    workdir: Path,
    *,
    max_examples: int = 2,
    max_time_s: int | None = None,
    phases: str = "examples,coverage,fuzzing",
    seed: int = 1,
    user_values: dict[str, object] | None = None,
    prepare: Prepare | None = None,
    env: dict[str, str] | None = None,
) -> FuzzRun:
    """Serve the product from ``workdir`` (``env``: extra settings, a payment provider's
    address, say) and run schemathesis over its OpenAPI schema.

    The fuzzing user is registered through the API; ``user_values`` then changes its row
    (a role, a verified address) and ``prepare`` seeds resources and names the credential
    and path parameters the run uses (without it, the user's login session authenticates).

    Without ``max_time_s`` every phase runs once (``max_examples`` per operation), so the run
    covers every operation and ends when done; with it, schemathesis repeats fuzzing and
    stateful testing until the budget is spent (``make reliability``'s long run).
    """
    with serve_product(cli_module, env_prefix, workdir, **(env or {})) as served:
        base = served.base
        schema = httpx.get(f"{base}/openapi.json", timeout=60).json()
        operations = sum(len(v) for v in schema["paths"].values())
        user = register_user(base)
        if user_values:
            set_user_row(workdir, user.username, **user_values)
        setup = FuzzSetup(user.headers)
        if prepare is not None:
            with httpx.Client(base_url=base, timeout=120) as client:
                setup = prepare(client, user)
        python = sys.executable
        cli = shutil.which("schemathesis", path=str(Path(python).parent)) or "schemathesis"
        # One worker: hypothesis parses lambdas' source with ``ast`` to describe them, and on
        # CPython 3.11 two threads doing so can fail with "AST constructor recursion depth
        # mismatch" (seen as a schemathesis runtime error, not a failure of the API).
        config = workdir / "schemathesis.toml"
        config.write_text(CONFIG + setup.config)
        headers = [arg for k, v in setup.headers.items() for arg in ("-H", f"{k}: {v}")]
        har = workdir / "fuzz.har"
        done = subprocess.run(  # noqa: S603
            [cli, "--config-file", str(config), "run", f"{base}/openapi.json", *headers,
             "--checks", "all", "--exclude-checks", EXCLUDED_CHECKS,
             "--exclude-path-regex", EXCLUDED_PATHS, "--max-examples", str(max_examples),
             *(["--max-time", str(max_time_s)] if max_time_s else []),
             "--phases", phases, "--seed", str(seed),
             "--workers", "1", "--request-timeout", "30", "--no-color",
             "--generation-deterministic", "--report", "har", "--report-har-path", str(har)],
            capture_output=True, text=True, check=False, timeout=(max_time_s or 900) + 120,
            cwd=workdir,
        )  # fmt: skip
    statuses = tally_statuses(har, schema["paths"]) if har.exists() else {}
    return FuzzRun(done.returncode, done.stdout + done.stderr, operations, statuses)


def assert_schema_holds(
    cli_module: str,
    env_prefix: str,
    workdir: Path,
    scenario: str,
    *,
    user_values: dict[str, object] | None = None,
    prepare: Prepare | None = None,
    env: dict[str, str] | None = None,
) -> FuzzRun:
    """A product's schemathesis test: run it, record what it counted, fail on any failure.

    ``FORGE_FUZZ_PHASES`` chooses the phases (``make reliability`` adds ``stateful``) and
    ``FORGE_FUZZ_MAX_TIME`` a time budget to keep fuzzing for (none in ``make test``).
    """
    from forgekit.testing.faults import record

    phases = os.environ.get("FORGE_FUZZ_PHASES", "examples,coverage,fuzzing")
    budget = int(os.environ.get("FORGE_FUZZ_MAX_TIME", "0")) or None
    run = fuzz_product(cli_module, env_prefix, workdir, phases=phases, max_time_s=budget,
                       user_values=user_values, prepare=prepare, env=env)  # fmt: skip
    record(scenario, operations=run.operations, returncode=run.returncode, **run.shares(),
           summary=run.summary)  # fmt: skip
    assert run.returncode == 0, run.failures
    return run
