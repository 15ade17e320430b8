"""Schemathesis (v4, its command line) against the served OpenAPI, with a province token:
no 5xx for anything it sends, and every answer as the schema says (status, content type,
headers, body)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

from api.tokens import TokenStore
from ledger.application import FundLedger
from ledger.rules import packaged_rules
from ledger.stores import store_env
from tests.conftest import COUNTY, PROGRAMME, PROVINCE, TODAY
from tests.http.server import serving

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance")
MAX_TIME_S = 60


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    """On the embedded store (one fuzzing run is enough: the API's own tests cover both)."""
    store_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = FundLedger(store_env(store_url), clock=lambda: TODAY)
    ledger.open_programme(packaged_rules(PROGRAMME), 100_000_000_00, PROVINCE,
                          dt.date(2020, 3, 1))
    ledger.admit_county(PROGRAMME, COUNTY, "丰顺县", 10_000_000_00, "粤商务建字〔2020〕1号",
                        PROVINCE, dt.date(2020, 3, 2))
    ledger.close()
    token, _ = TokenStore(store_url).issue("province", "fuzzer", "440000", None,
                                           dt.datetime.now(dt.UTC))
    exe = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert exe, "schemathesis is a dev dependency: make install"
    with serving(store_url, env={"LEDGER_ATTACHMENTS_DIR": str(tmp_path / "files")}) as base:
        out = subprocess.run(
            [exe, "run", f"{base}/openapi.json", "-H", f"Authorization: Bearer {token}",
             "--checks", CHECKS, "--phases", "examples,coverage,fuzzing", "--seed", "1",
             "--max-examples", "20", "--max-time", str(MAX_TIME_S), "--workers", "2",
             "--report-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=MAX_TIME_S * 4, check=False,
            cwd=tmp_path)  # its cache (.schemathesis/) stays out of the checkout
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]
