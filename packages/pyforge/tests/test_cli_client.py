"""The client commands (`login`, `projects`, `push`, `findings`) against a running server.

A real `pyforge serve` (embedded mode, its own data directory) runs in a subprocess for the
module, and every CLI call is a fresh `python -m pyforge.cli` process with its own config
directory: exactly what a user runs, exit codes and stderr included.
"""

import io
import json
import os
import stat
import subprocess
import sys
import tarfile
import time
import uuid
from pathlib import Path

import httpx
import pytest

from forgekit.testing.servers import free_port
from pyforge.commands.client import collect_files, pack

PYFORGE = [sys.executable, "-m", "pyforge.cli"]
PASSWORD = "correct horse battery"




def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORGE_", "PYFORGE_"))}
    env.update(
        FORGE_PASSWORD_HASH_TIME_COST="1",
        FORGE_PASSWORD_HASH_MEMORY_KIB="1024",
        FORGE_PASSWORD_HASH_PARALLELISM="1",
        FORGE_LOG_LEVEL="WARNING",
        # Keeps rich from wrapping table cells mid-id in the captured output.
        COLUMNS="250",
    )
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """A running embedded PyForge server: yields its base URL."""
    data = tmp_path_factory.mktemp("server")
    port = free_port()
    env = _base_env()
    env.update(PYFORGE_HOST="127.0.0.1", PYFORGE_PORT=str(port), PYFORGE_DATA_DIR=str(data))
    subprocess.run([*PYFORGE, "migrate"], env=env, cwd=data, check=True, capture_output=True)
    log = (data / "server.log").open("w")
    proc = subprocess.Popen([*PYFORGE, "serve"], env=env, cwd=data, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (data / "server.log").read_text()
            try:
                if httpx.get(f"{url}/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not become live"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def user(server: str) -> dict[str, str]:
    """A registered account on the server."""
    name = f"cli{uuid.uuid4().hex[:8]}"
    reg = httpx.post(
        f"{server}/auth/register",
        json={"email": f"{name}@example.com", "username": name, "password": PASSWORD},
        timeout=60,
    )
    assert reg.status_code == 201, reg.text
    return {"username": name, "password": PASSWORD}


def cli(config: Path, *args: str, input: str | None = None, env: dict[str, str] | None = None):
    """Run `pyforge ARGS` with its own config directory; returns the CompletedProcess."""
    full_env = _base_env()
    full_env["PYFORGE_CONFIG_DIR"] = str(config)
    full_env.update(env or {})
    return subprocess.run(
        # Generous: a push waits for its analysis, and a busy machine is slow to start Python.
        [*PYFORGE, *args], env=full_env, input=input, capture_output=True, text=True,
        timeout=180, cwd=config.parent,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, *fragments: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "config"


@pytest.fixture
def logged_in(server: str, user: dict[str, str], config: Path) -> Path:
    """A config directory holding a login session for ``user``."""
    result = cli(config, "login", "--server", server, "-u", user["username"],
                 "--password", user["password"])
    assert result.returncode == 0, result.stderr
    return config


def _creds(config: Path) -> dict[str, str]:
    return json.loads((config / "credentials.json").read_text())


def _token(server: str, user: dict[str, str]) -> str:
    r = httpx.post(f"{server}/auth/login", data=user, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


# --- login / logout ---------------------------------------------------------------------------


def test_login_prompts_and_stores_credentials_readable_only_by_owner(server, user, config):
    result = cli(config, "login", "--server", server + "/",
                 input=f"{user['username']}\n{user['password']}\n")
    assert result.returncode == 0, result.stderr
    assert f"logged in to {server} as {user['username']}" in result.stderr
    path = config / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.stat().st_mode) == 0o700
    creds = _creds(config)
    assert creds["server"] == server
    assert creds["access_token"] and creds["refresh_token"]
    assert "password" not in creds and user["password"] not in path.read_text()
    # No temporary file is left next to it.
    assert sorted(p.name for p in config.iterdir() if not p.name.startswith(".credentials.lock")) == ["credentials.json"]

    me = httpx.get(f"{server}/auth/me", headers={"Authorization": f"Bearer {creds['access_token']}"},
                   timeout=60)
    assert me.json()["username"] == user["username"]

    out = cli(config, "logout")
    assert out.returncode == 0, out.stderr
    assert not path.exists()
    # The server ended the session too: the old access token no longer works.
    me = httpx.get(f"{server}/auth/me", headers={"Authorization": f"Bearer {creds['access_token']}"},
                   timeout=60)
    assert me.status_code == 401


def test_login_with_a_wrong_password_fails_in_one_line(server, user, config):
    result = cli(config, "login", "--server", server, "-u", user["username"], "--password", "wrong password")
    assert_one_line_error(result, 2, "login failed")
    assert not (config / "credentials.json").exists()


def test_login_to_an_unreachable_server(config):
    url = f"http://127.0.0.1:{free_port()}"
    result = cli(config, "login", "--server", url, "-u", "x", "--password", "y")
    assert_one_line_error(result, 2, f"cannot reach server {url}")


def test_login_rejects_a_url_without_scheme(config):
    result = cli(config, "login", "--server", "localhost:8000", "-u", "x", "--password", "y")
    assert_one_line_error(result, 2, "invalid server URL")


def test_commands_need_a_login(config):
    for args in (["projects", "list"], ["projects", "show", str(uuid.uuid4())],
                 ["findings", str(uuid.uuid4())]):
        assert_one_line_error(cli(config, *args), 2, "run pyforge login")


def test_stored_server_that_went_away(logged_in):
    creds = _creds(logged_in)
    dead = f"http://127.0.0.1:{free_port()}"
    creds["server"] = dead
    (logged_in / "credentials.json").write_text(json.dumps(creds))
    assert_one_line_error(cli(logged_in, "projects", "list"), 2, f"cannot reach server {dead}")


def test_expired_access_token_is_refreshed_transparently(server, logged_in):
    path = logged_in / "credentials.json"
    creds = _creds(logged_in)
    old_refresh = creds["refresh_token"]
    creds["access_token"] = "expired-or-garbage"
    path.write_text(json.dumps(creds))
    result = cli(logged_in, "projects", "list", "--json")
    assert result.returncode == 0, result.stderr
    assert "items" in json.loads(result.stdout)
    renewed = _creds(logged_in)
    assert renewed["access_token"] != "expired-or-garbage"
    assert renewed["refresh_token"] != old_refresh  # the server rotated it
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    # A refresh token the server no longer accepts ends in one clear line, not a traceback.
    renewed["access_token"], renewed["refresh_token"] = "garbage", old_refresh
    path.write_text(json.dumps(renewed))
    assert_one_line_error(cli(logged_in, "projects", "list"), 2, "run pyforge login")


def test_login_with_an_api_key(server, user, config):
    token = _token(server, user)
    created = httpx.post(f"{server}/auth/api-keys", json={"name": "ci", "scopes": ["project:read", "project:write", "analysis:run"]},
                         headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key.startswith("pfk_")

    result = cli(config, "login", "--server", server, env={"PYFORGE_API_KEY": key})
    assert result.returncode == 0, result.stderr
    creds = _creds(config)
    assert creds == {"server": server, "api_key": key, "username": user["username"]}
    assert stat.S_IMODE((config / "credentials.json").stat().st_mode) == 0o600
    assert cli(config, "projects", "list").returncode == 0

    # Without any file: the key and server from the environment (what CI does).
    bare = config.parent / "bare"
    result = cli(bare, "projects", "list", "--json",
                 env={"PYFORGE_API_KEY": key, "PYFORGE_SERVER": server})
    assert result.returncode == 0, result.stderr
    assert not bare.exists()

    bad = cli(config.parent / "bad", "login", "--server", server, "--api-key", "pfk_nope")
    assert_one_line_error(bad, 2, "API key was rejected")


# --- projects ---------------------------------------------------------------------------------


def test_projects_create_list_show(logged_in):
    name = f"demo-{uuid.uuid4().hex[:6]}"
    created = cli(logged_in, "projects", "create", name, "-d", "from the CLI", "--json")
    assert created.returncode == 0, created.stderr
    project = json.loads(created.stdout)
    assert project["name"] == name and project["description"] == "from the CLI"

    listed = cli(logged_in, "projects", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert project["id"] in [p["id"] for p in json.loads(listed.stdout)["items"]]

    table = cli(logged_in, "projects", "list")
    assert table.returncode == 0, table.stderr
    assert name in table.stdout and project["id"] in table.stdout

    shown = cli(logged_in, "projects", "show", project["id"])
    assert shown.returncode == 0, shown.stderr
    assert name in shown.stdout and "from the CLI" in shown.stdout and "private" in shown.stdout
    as_json = json.loads(cli(logged_in, "projects", "show", project["id"], "--json").stdout)
    assert as_json["id"] == project["id"]

    human = cli(logged_in, "projects", "create", f"{name}-2")
    assert human.returncode == 0 and "created project" in human.stdout


def test_projects_errors_are_one_line(logged_in):
    assert_one_line_error(cli(logged_in, "projects", "show", "nope"), 2, "invalid project id")
    # The server's problem+json detail is what the user reads.
    missing = cli(logged_in, "projects", "show", str(uuid.uuid4()))
    assert_one_line_error(missing, 2, "[HTTP 404]")
    blank = cli(logged_in, "projects", "create", "   ")
    assert_one_line_error(blank, 2, "HTTP 422", "name")


# --- push -------------------------------------------------------------------------------------


def _tree(root: Path) -> None:
    files = {
        ".gitignore": "*.log\n!keep.log\nbuild/\n/secret.env\n",
        "app/__init__.py": "",
        "app/main.py": "def add(a: int, b: int) -> int:\n    return a + b\n",
        "app/debug.log": "ignored by *.log\n",
        "app/keep.log": "re-included by !keep.log\n",
        "app/.gitignore": "generated_*.py\n",
        "app/generated_x.py": "x = 1\n",
        "docs/generated_y.py": "y = 1  # the app/.gitignore does not apply here\n",
        "build/out.py": "ignored directory\n",
        "secret.env": "TOKEN=1\n",
        "sub/secret.env": "anchored /secret.env only matches at the root\n",
        ".venv/lib/site.py": "never uploaded\n",
        "app/__pycache__/main.cpython-311.pyc": "never uploaded\n",
        ".git/config": "never uploaded\n",
        ".pyforge-cache/x": "never uploaded\n",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


EXPECTED = {
    ".gitignore", "app/.gitignore", "app/__init__.py", "app/main.py", "app/keep.log",
    "docs/generated_y.py", "sub/secret.env",
}


def test_collect_files_honours_gitignore(tmp_path):
    _tree(tmp_path)
    (tmp_path / "link.py").symlink_to(tmp_path / "app" / "main.py")
    assert {name for _, name in collect_files(tmp_path)} == EXPECTED
    archive = io.BytesIO()
    assert pack(tmp_path, archive) == len(EXPECTED)
    archive.seek(0)
    with tarfile.open(fileobj=archive, mode="r:gz") as tar:
        members = tar.getmembers()
    assert {m.name for m in members} == EXPECTED
    assert all(m.uid == 0 and m.mode == 0o644 and m.isfile() for m in members)


def _files_on_server(server: str, user: dict[str, str], project_id: str) -> set[str]:
    r = httpx.get(f"{server}/api/v1/projects/{project_id}/files", params={"limit": 500},
                  headers={"Authorization": f"Bearer {_token(server, user)}"}, timeout=60)
    assert r.status_code == 200, r.text
    return {f["path"] for f in r.json()["items"]}


def _new_project(config: Path) -> str:
    result = cli(config, "projects", "create", f"push-{uuid.uuid4().hex[:6]}", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["id"]


def test_push_uploads_the_tree_analyses_it_and_exits_by_the_gate(server, user, logged_in, tmp_path):
    tree = tmp_path / "tree"
    _tree(tree)
    project_id = _new_project(logged_in)

    result = cli(logged_in, "push", str(tree), "--project", project_id, "--poll-interval", "0.2")
    assert "Traceback" not in result.stderr
    assert f"uploading {len(EXPECTED)} file(s)" in result.stderr
    assert _files_on_server(server, user, project_id) == EXPECTED
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "quality gate: PASSED" in result.stdout
    assert "succeeded" in result.stdout

    # `replace=true`: a file deleted locally disappears from the project.
    (tree / "app" / "keep.log").unlink()
    again = cli(logged_in, "push", str(tree), "--project", project_id, "--json",
                "--poll-interval", "0.2")
    assert again.returncode == 0, again.stderr
    assert "1 deleted" in again.stderr
    analysis = json.loads(again.stdout)
    assert analysis["status"] == "succeeded"
    assert analysis["quality_gate"]["status"] == "passed"
    assert analysis["progress"]["files_done"] == analysis["progress"]["files_total"]
    assert _files_on_server(server, user, project_id) == EXPECTED - {"app/keep.log"}


def test_push_exits_1_when_the_gate_fails_and_findings_lists_them(server, user, logged_in, tmp_path):
    tree = tmp_path / "bad"
    (tree / "pkg").mkdir(parents=True)
    # eval on input and a bare except: findings of several severities.
    (tree / "pkg" / "risky.py").write_text(
        "import os\n\n\ndef run(cmd):\n    try:\n        return eval(cmd)\n    except:\n"
        "        os.system(cmd)\n"
    )
    # A gate that fails on any finding at all, so the outcome does not hinge on rule details.
    (tree / "pyproject.toml").write_text('[tool.pyforge.gate]\nmax_new_findings = 0\n')
    project_id = _new_project(logged_in)
    patched = httpx.patch(f"{server}/api/v1/projects/{project_id}",
                          json={"settings": {"analysis": {"gate": {"max_new_findings": 0}}}},
                          headers={"Authorization": f"Bearer {_token(server, user)}"}, timeout=60)
    assert patched.status_code == 200, patched.text

    result = cli(logged_in, "push", str(tree), "-p", project_id, "--poll-interval", "0.2")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "quality gate: FAILED" in result.stdout
    assert "Top findings" in result.stdout and "risky.py" in result.stdout

    pushed = json.loads(cli(logged_in, "push", str(tree), "-p", project_id, "--json",
                            "--poll-interval", "0.2").stdout)
    analysis_id = pushed["id"]
    assert pushed["quality_gate"]["status"] == "failed"

    listed = cli(logged_in, "findings", analysis_id, "--json")
    assert listed.returncode == 0, listed.stderr
    page = json.loads(listed.stdout)
    assert page["total"] >= 1 and all(f["path"] == "pkg/risky.py" for f in page["items"])
    severity = page["items"][0]["severity"]
    only = json.loads(cli(logged_in, "findings", analysis_id, "--severity", severity, "--json").stdout)
    assert only["items"] and {f["severity"] for f in only["items"]} == {severity}

    table = cli(logged_in, "findings", analysis_id)
    assert table.returncode == 0, table.stderr
    assert "risky.py" in table.stdout and f"of {page['total']} finding(s)" in table.stdout


def test_push_input_errors(logged_in, tmp_path):
    project_id = _new_project(logged_in)
    assert_one_line_error(cli(logged_in, "push", str(tmp_path / "missing"), "-p", project_id),
                          2, "is not a directory")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".gitignore").write_text("*\n")
    assert_one_line_error(cli(logged_in, "push", str(empty), "-p", project_id), 2, "nothing to upload")
    assert_one_line_error(cli(logged_in, "push", str(empty), "-p", "x"), 2, "invalid project id")
    code = tmp_path / "code"
    code.mkdir()
    (code / "a.py").write_text("a = 1\n")
    unknown = cli(logged_in, "push", str(code), "-p", str(uuid.uuid4()))
    assert_one_line_error(unknown, 2, "[HTTP 404]")
    assert_one_line_error(cli(logged_in, "findings", str(uuid.uuid4())), 2, "[HTTP 404]")


def test_push_a_branch_and_a_pull_request_gates_on_new_code(logged_in, tmp_path):
    tree = tmp_path / "main"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "old.py").write_text("def check(x: str) -> object:\n    return eval(x)\n")
    project_id = _new_project(logged_in)
    main = cli(logged_in, "push", str(tree), "-p", project_id, "--version", "1.0",
               "--poll-interval", "0.2")
    assert main.returncode == 1, (main.stdout, main.stderr)  # the old critical fails main's gate

    # A branch adding clean code passes: its gate is on new code only.
    (tree / "pkg" / "clean.py").write_text("def twice(a: int) -> int:\n    return 2 * a\n")
    clean = cli(logged_in, "push", str(tree), "-p", project_id, "--branch", "feature/clean",
                "--poll-interval", "0.2")
    assert clean.returncode == 0, (clean.stdout, clean.stderr)
    assert "quality gate: PASSED" in clean.stdout
    assert "new code: 0 new, 0 fixed, 1 inherited finding(s)" in clean.stdout

    # A pull request adding a bug fails, and lists only what it introduces.
    (tree / "pkg" / "bad.py").write_text(
        "def parse(x: str) -> int:\n    try:\n        return int(x)\n    except:\n        return 0\n"
    )
    pr = cli(logged_in, "push", str(tree), "-p", project_id, "--branch", "feature/x",
             "--target", "main", "--pr", "7", "--json", "--poll-interval", "0.2")
    assert pr.returncode == 1, (pr.stdout, pr.stderr)
    analysis = json.loads(pr.stdout)
    assert analysis["pull_request"] == "7" and analysis["target_branch"] == "main"
    assert analysis["new_code"]["findings"] == {"new": 1, "inherited": 1, "fixed": 0}
    listed = cli(logged_in, "push", str(tree), "-p", project_id, "-b", "feature/x", "--pr", "7",
                 "--poll-interval", "0.2")
    assert listed.returncode == 1 and "bad.py" in listed.stdout and "old.py" not in listed.stdout
    inherited = json.loads(cli(logged_in, "findings", analysis["id"], "--new-code", "inherited",
                               "--json").stdout)  # fmt: skip
    assert [f["path"] for f in inherited["items"]] == ["pkg/old.py"]
    assert_one_line_error(cli(logged_in, "push", str(tree), "-p", project_id, "--pr", "7"), 2,
                          "--target and --pr need --branch")
