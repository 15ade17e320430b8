"""The composition root (`api.wiring`) and its settings (`api.config`): each store opened once,
when first asked for, closed together; the only place in `api/` and `scripts/` that
constructs the ledger, the views or the log."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest

from api.config import ENV_DB, ENV_LOG_KEY, ENV_SNAPSHOT_KEY_FILE, Settings
from api.snapshotkey import SnapshotKeyError, create_snapshot_key
from api.wiring import Wiring
from ledger.stores import DEFAULT_URL
from tests.conftest import PROGRAMME, TODAY

ROOT = Path(__file__).resolve().parent.parent
CONSTRUCTED = re.compile(r"\b(FundLedger|Views|LogDB)\(")


def test_settings_come_from_the_environment_given() -> None:
    """Each variable read in one place; empty means unset; --db overrides the URL only."""
    env = {ENV_DB: "sqlite:///x.db", ENV_SNAPSHOT_KEY_FILE: "", ENV_LOG_KEY: "log.key"}
    settings = Settings.from_env(env)
    assert settings == Settings("sqlite:///x.db", None, "log.key")
    assert Settings.from_env({}).db_url == DEFAULT_URL
    assert settings.with_db("sqlite:///y.db").db_url == "sqlite:///y.db"
    assert settings.with_db(None) is settings


def test_each_store_is_opened_once_lazily_and_closed_together(store_url: str) -> None:
    """Nothing opens before it is asked for; asking again gives the same object; the views
    read the same ledger; close closes all and a later ask opens afresh."""
    wiring = Wiring(Settings(store_url), clock=lambda: TODAY)
    assert not wiring.opened
    log = wiring.log()
    assert wiring.log() is log and wiring._ledger is None  # the log needs no ledger
    ledger = wiring.ledger()
    assert wiring.ledger() is ledger and ledger.today() == TODAY
    views = wiring.views()
    assert wiring.views() is views and views.app is ledger
    wiring.close()
    wiring.close()  # idempotent
    assert not wiring.opened
    with wiring as again:
        assert again.ledger() is not ledger
    assert not wiring.opened


def test_the_snapshot_key_file_is_read_when_the_ledger_opens(store_url: str,
                                                             tmp_path: Path) -> None:
    """A good key file gives a keyed ledger; one readable by others is refused, in both
    languages, before the store is touched."""
    key = tmp_path / "snap.key"
    create_snapshot_key(key)
    with Wiring(Settings(store_url, snapshot_key_file=str(key))) as wiring:
        assert wiring.ledger()._snapshot_key is not None
    os.chmod(key, 0o640)
    with Wiring(Settings(store_url, snapshot_key_file=str(key))) as wiring:
        with pytest.raises(SnapshotKeyError, match="chmod 600"):
            wiring.ledger()
        assert not wiring.opened


def test_history_through_the_root_reads_what_the_ledger_wrote(store_url: str) -> None:
    """One process's ledger and views share the root: a write is in the next history page."""
    from ledger.rules import packaged_rules
    from projections.history import HistoryQuery
    from tests.conftest import PROVINCE

    with Wiring(Settings(store_url), clock=lambda: TODAY) as wiring:
        wiring.ledger().open_programme(packaged_rules(PROGRAMME), 100_000_000_00, PROVINCE,
                                       dt.date(2020, 3, 1))
        page = wiring.views().history(HistoryQuery(PROGRAMME))
        assert [e.type for e in page.events] == ["Opened"]
        assert page.events[0].actor_id == PROVINCE.id


def test_nothing_else_in_the_edges_constructs_the_stores() -> None:
    """Only api/wiring.py constructs a FundLedger, Views or LogDB in api/ and scripts/."""
    found = [f"{path.relative_to(ROOT)}:{n}"
             for folder in ("api", "scripts") for path in sorted((ROOT / folder).rglob("*.py"))
             for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
             if CONSTRUCTED.search(line) and not line.lstrip().startswith("#")]
    assert found and all(f.startswith("api/wiring.py:") for f in found), found
