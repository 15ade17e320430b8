"""Choosing the event store by one URL: `sqlite:///path` (the embedded default) or
`postgresql://user[:password]@host[:port]/dbname[?create_tables=no]` (`no` for a role that
may not create tables: the owner creates them once). It maps a URL to the settings the
event-store library reads; it does not read the environment. A new SQLite file is created
private to its owner (mode 0600) before the library opens it; SQLite gives its `-wal` and
`-shm` files the database file's mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from eventsourcing.sqlite import SQLiteFactory

from ledger.errors import StoreUrlInvalid
from ledger.sql import POSTGRES_CONNECT_TIMEOUT_S, SQLITE_LOCK_TIMEOUT_S

DEFAULT_URL = "sqlite:///ledger.db"
POSTGRES_POOL_SIZE = 8
SQLITE_FILE_MODE = 0o600  # the ledger, its read models and its Merkle log: owner only
# PostgreSQL: refuse UPDATE, DELETE and TRUNCATE on the events table, for every role that does
# not own the database's triggers. Installed when the ledger starts.
APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION fundledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'fundledger: % on % is refused: the event log is append-only',
    TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'fundledger_events_append_only') THEN
    CREATE TRIGGER fundledger_events_append_only BEFORE UPDATE OR DELETE ON {table}
      FOR EACH ROW EXECUTE FUNCTION fundledger_refuse_change();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'fundledger_events_no_truncate') THEN
    CREATE TRIGGER fundledger_events_no_truncate BEFORE TRUNCATE ON {table}
      FOR EACH STATEMENT EXECUTE FUNCTION fundledger_refuse_change();
  END IF;
END $$;
"""


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def store_env(url: str) -> dict[str, str]:
    """The event-store settings for a store URL; StoreUrlInvalid for anything else."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path[1:] if parsed.path.startswith("/") else parsed.path)
        if parsed.netloc or not path:
            raise StoreUrlInvalid.of("db", url=url, why_zh="应为 sqlite:///路径",
                                     why_en="expected sqlite:///path")
        return {
            "PERSISTENCE_MODULE": "ledger.stores:PrivateSQLiteFactory",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": str(SQLITE_LOCK_TIMEOUT_S),
        }
    if parsed.scheme in ("postgresql", "postgres"):
        dbname = parsed.path.lstrip("/")
        if not dbname:
            raise StoreUrlInvalid.of("db", url=url, why_zh="PostgreSQL 地址缺少数据库名",
                                     why_en="a PostgreSQL URL names no database")
        options = parse_qs(parsed.query)
        create = options.get("create_tables", ["yes"])[-1]
        if create not in ("yes", "no") or set(options) - {"create_tables"}:
            raise StoreUrlInvalid.of("db", url=url,
                                     why_zh=f"PostgreSQL 地址的参数无效：{parsed.query}"
                                            "（只可 create_tables=yes|no）",
                                     why_en=f"unsupported PostgreSQL URL options: "
                                            f"{parsed.query} (only create_tables=yes|no)")
        return {
            "CREATE_TABLE": "y" if create == "yes" else "n",
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(dbname),
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_POOL_SIZE": str(POSTGRES_POOL_SIZE),
            "POSTGRES_MAX_OVERFLOW": str(POSTGRES_POOL_SIZE),
            "POSTGRES_CONNECT_TIMEOUT": str(POSTGRES_CONNECT_TIMEOUT_S),
            "APPLICATION_RECORDER_TOPIC": "ledger.pgstore:LedgerPostgresRecorder",
        }
    raise StoreUrlInvalid.of("db", url=url, why_zh="应为 sqlite:///… 或 postgresql://…",
                             why_en="expected sqlite:///... or postgresql://...")


def create_private_file(path: str) -> None:
    """Create `path` empty with mode 0600 unless it exists (an existing file keeps its mode).

    Exclusive creation (O_EXCL): of two processes creating the store at once, one creates it,
    the other opens it. The mode is created at most 0600 under any umask, and set to exactly
    0600 after. (pathlib, not `os`: the domain package imports no `os`, so it reads no
    environment.)
    """
    if not path or path == ":memory:" or path.startswith("file:"):
        return  # in-memory, or a URI the library interprets: nothing to create here
    file = Path(path)
    try:
        file.touch(mode=SQLITE_FILE_MODE, exist_ok=False)
    except FileExistsError:
        return
    file.chmod(SQLITE_FILE_MODE)


class PrivateSQLiteFactory(SQLiteFactory):
    """eventsourcing's SQLite store, with a new database file created private (mode 0600)
    before any connection opens it: SQLite would create it 0644 under the usual umask."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)  # builds the connection pool; connects on first use only
        create_private_file(self.datastore.pool.db_name)
