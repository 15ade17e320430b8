"""Settings of every edge (command line, HTTP), read from the environment in this one place.

`Settings.from_env()` is the only reader of the environment; `api.wiring` opens the stores
from the settings it is given, so a test or another edge can hand it settings of its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ledger.stores import DEFAULT_URL

ENV_DB = "LEDGER_DB"
# The programme a command or request means when it names none: the first one.
DEFAULT_PROGRAMME = "gd-2020-ecrural"
ENV_ACTOR_ID = "LEDGER_ACTOR_ID"
ENV_ROLE = "LEDGER_ROLE"
ENV_SCOPE = "LEDGER_SCOPE"
ENV_LOG_KEY = "LEDGER_LOG_KEY"
# A file of 32 random bytes, mode 0600, that the application reads and the database role
# cannot (`fundledger keys snapshot-init`); unset: no snapshots are written or read.
ENV_SNAPSHOT_KEY_FILE = "LEDGER_SNAPSHOT_KEY_FILE"
# A directory the operator names for attachments (档案) sent to the HTTP API; unset: none are
# accepted, and an API write naming an attachment is refused.
ENV_ATTACHMENTS_DIR = "LEDGER_ATTACHMENTS_DIR"

# Every variable the command line reads (api.cli refuses values that are not UTF-8).
ENV_NAMES = (ENV_DB, ENV_ACTOR_ID, ENV_ROLE, ENV_SCOPE, ENV_LOG_KEY, ENV_SNAPSHOT_KEY_FILE,
             ENV_ATTACHMENTS_DIR)


@dataclass(frozen=True)
class Settings:
    """What an edge needs to open the ledger: one store URL (`ledger.stores`) and the key
    files held outside the database."""

    db_url: str = DEFAULT_URL
    snapshot_key_file: str | None = None
    log_key_file: str | None = None
    attachments_dir: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings in `env` (default: the process's environment); empty means unset."""
        e = os.environ if env is None else env
        return cls(e.get(ENV_DB) or DEFAULT_URL, e.get(ENV_SNAPSHOT_KEY_FILE) or None,
                   e.get(ENV_LOG_KEY) or None, e.get(ENV_ATTACHMENTS_DIR) or None)

    def with_db(self, db_url: str | None) -> Settings:
        """The same settings on another store (a `--db` option), or unchanged for None."""
        return self if db_url is None else replace(self, db_url=db_url)


def default_db_url() -> str:
    return Settings.from_env().db_url
