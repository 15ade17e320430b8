"""Settings of the command-line edge, read from the environment in this one place."""

from __future__ import annotations

import os

from ledger.stores import DEFAULT_URL

ENV_DB = "LEDGER_DB"
ENV_ACTOR_ID = "LEDGER_ACTOR_ID"
ENV_ROLE = "LEDGER_ROLE"
ENV_SCOPE = "LEDGER_SCOPE"
# A file of 32 random bytes, mode 0600, that the application reads and the database role
# cannot (`fundledger keys snapshot-init`); unset: no snapshots are written or read.
ENV_SNAPSHOT_KEY_FILE = "LEDGER_SNAPSHOT_KEY_FILE"


def default_db_url() -> str:
    return os.environ.get(ENV_DB) or DEFAULT_URL


# Every variable the command line reads (api.cli refuses values that are not UTF-8).
ENV_NAMES = (ENV_DB, ENV_ACTOR_ID, ENV_ROLE, ENV_SCOPE, "LEDGER_LOG_KEY",
             ENV_SNAPSHOT_KEY_FILE)


def snapshot_key_file() -> str | None:
    return os.environ.get(ENV_SNAPSHOT_KEY_FILE) or None
