"""The offline verifier needs nothing of the application: only the standard library,
`cryptography`, the canonical-JSON libraries and `ledger.chain` (checked in a fresh process,
after a full run over a bundle and a receipt, so lazy imports are counted too)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from audit.bundle import Scope, export
from audit.db import LogDB
from audit.receipts import receipt
from tests.audit.conftest import LogKey
from tests.conftest import COUNTY, PROGRAMME

# `_openssl` and `_cffi_backend` are cryptography's compiled parts; `__mp_main__` is the alias
# of `__main__` that the standard library's multiprocessing makes when it is imported (the
# verifier checks a large bundle in two processes).
ALLOWED_TOP_LEVEL = {"audit", "ledger", "cryptography", "orjson", "rfc8785", "_cffi_backend",
                     "_openssl", "__mp_main__"}
ALLOWED_OWN = {"ledger", "ledger.chain", "audit", "audit.merkle", "audit.note",
               "audit.checkpoint", "audit.compact", "audit.cpcheck", "audit.checks",
               "audit.formats", "audit.keyhistory", "audit.statements", "audit.offline",
               "audit.offline.cli", "audit.offline.bundle", "audit.offline.events",
               "audit.offline.receipt", "audit.offline.scope", "audit.offline.report",
               "audit.offline.parallel", "audit.ruleaudit",
               "audit.rulecounty", "audit.ruledated", "audit.ruleentries"}
PROBE = """
import sys
from audit.offline import main
for args in ({bundle!r}, {receipt!r}):
    try:
        main([args, "--key", {vkey!r}, "--json"])
    except SystemExit as e:
        assert e.code == 0, (args, e.code)
print(sorted(sys.modules))
"""


def test_the_offline_verifier_imports_only_what_it_may(sealed: LogDB, log_key: LogKey,
                                                       tmp_path: Path) -> None:
    """No eventsourcing, psycopg, click, rich, api, projections or other ledger modules."""
    bundle = tmp_path / "bundle"
    export(sealed, bundle, Scope())
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt(sealed, PROGRAMME, COUNTY, "D3")), "utf-8")
    probe = PROBE.format(bundle=str(bundle), receipt=str(path), vkey=log_key.vkey)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    modules = json.loads(out.stdout.strip().splitlines()[-1].replace("'", '"'))
    bare = subprocess.run([sys.executable, "-c", "import sys; print(sorted(sys.modules))"],
                          capture_output=True, text=True, check=True, timeout=60)
    baseline = set(json.loads(bare.stdout.strip().replace("'", '"')))  # site hooks etc.
    foreign = ({m.split(".")[0] for m in set(modules) - baseline}
               - set(sys.stdlib_module_names))
    assert foreign <= ALLOWED_TOP_LEVEL, foreign - ALLOWED_TOP_LEVEL
    own = {m for m in modules if m.split(".")[0] in ("audit", "ledger")}
    assert own <= ALLOWED_OWN, own - ALLOWED_OWN
