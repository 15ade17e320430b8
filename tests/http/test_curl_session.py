"""docs/api.md's county officer's day runs as written: a real server, curl, jq, and the
offline verifier on the receipt (bash with -e and pipefail: any failing step fails the test)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.http.server import free_port

DOC = Path(__file__).parents[2] / "docs" / "api.md"
SESSION_TIMEOUT_S = 120
BLOCK = re.compile(r"<!-- curl-session -->\n```sh\n(.*?)```\n<!-- /curl-session -->", re.S)


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")) and
                    os.environ.get("CI") != "true", reason="curl and jq are not installed")
def test_the_documented_curl_session_runs(tmp_path: Path) -> None:
    match = BLOCK.search(DOC.read_text("utf-8"))
    assert match, "docs/api.md has no curl-session block"
    bin_dir = str(Path(sys.executable).parent)
    root = str(DOC.parents[1])  # this checkout's code, whichever the console scripts name
    env = {**os.environ, "PORT": str(free_port()), "PYTHONPATH": root,
           "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    env.pop("LEDGER_DB", None)
    proc = subprocess.Popen(["bash", "-euo", "pipefail", "-c", match.group(1)], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=SESSION_TIMEOUT_S)
    finally:  # the session's server too, whatever happened
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate()
    log = (tmp_path / "serve.log").read_text() if (tmp_path / "serve.log").exists() else ""
    assert proc.returncode == 0, stdout + stderr + log
    lines = stdout.splitlines()
    assert re.fullmatch(r"[0-9a-f]{64}", lines[0])  # the project's event hash
    assert lines[1].startswith("D1 at log position ") and "/v1/audit/receipts/D1" in lines[1]
    assert lines[2] == "R1"  # the retry answered with the original entry
    assert lines[3] == "409 DISBURSEMENT_EXCEEDS_BUDGET R4"
    assert lines[4] == "disbursed 99500.00, expended 80000.00, cash 4900500.00"
    assert "VERIFIED" in stdout
