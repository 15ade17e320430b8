"""The log's tables, created in the events' own database, append-only on both stores.

UPDATE, DELETE (and on PostgreSQL TRUNCATE) are refused by triggers: a mistake cannot rewrite
the log, and someone who drops the triggers to do so is caught by the verifiers.
"""

from __future__ import annotations

LEAVES = "fundledger_log_leaves"
NODES = "fundledger_log_nodes"
CHECKPOINTS = "fundledger_log_checkpoints"
COSIGNATURES = "fundledger_log_cosignatures"
KEYS = "fundledger_log_keys"
LOG_TABLES = (LEAVES, NODES, CHECKPOINTS, COSIGNATURES, KEYS)

_SCHEMA = {
    LEAVES: "leaf_index {int} PRIMARY KEY, notification_id {int} NOT NULL UNIQUE, "
            "stream_id TEXT NOT NULL, version {int} NOT NULL, event_hash {blob} NOT NULL, "
            "UNIQUE (stream_id, version)",
    NODES: "level INTEGER NOT NULL, idx {int} NOT NULL, hash {blob} NOT NULL, "
           "PRIMARY KEY (level, idx)",
    CHECKPOINTS: "seq {int} PRIMARY KEY, size {int} NOT NULL, root {blob} NOT NULL, "
                 "key_id TEXT NOT NULL, note TEXT NOT NULL, created TEXT NOT NULL, "
                 "UNIQUE (size, key_id)",
    COSIGNATURES: "seq {int} PRIMARY KEY, checkpoint_seq {int} NOT NULL, witness TEXT NOT NULL, "
                  "vkey TEXT NOT NULL, timestamp {int} NOT NULL, line TEXT NOT NULL, "
                  "created TEXT NOT NULL, UNIQUE (checkpoint_seq, vkey)",
    KEYS: "seq {int} PRIMARY KEY, origin TEXT NOT NULL, vkey TEXT NOT NULL UNIQUE, "
          "from_size {int} NOT NULL, statement TEXT NOT NULL, created TEXT NOT NULL",
}
_PG_REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION fundledger_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'fundledger: % on % is refused: the audit log is append-only',
    TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$
"""
_PG_TRIGGERS = """
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '{t}_append_only'
                 AND tgrelid = '{t}'::regclass) THEN
    CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t}
      FOR EACH ROW EXECUTE FUNCTION fundledger_log_refuse_change();
    CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t}
      FOR EACH STATEMENT EXECUTE FUNCTION fundledger_log_refuse_change();
  END IF;
END $$
"""
_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS {{t}}_no_{op.lower()} BEFORE {op} ON {{t}} "
    "BEGIN SELECT RAISE(ABORT, 'fundledger: the audit log is append-only'); END"
    for op in ("UPDATE", "DELETE")
]


def schema_statements(postgres: bool) -> list[str]:
    """The statements that create the tables and their triggers (idempotent)."""
    types = {"int": "BIGINT", "blob": "BYTEA"} if postgres else {"int": "INTEGER", "blob": "BLOB"}
    out = []
    for table, columns in _SCHEMA.items():
        suffix = " WITHOUT ROWID" if table == NODES and not postgres else ""
        out.append(f"CREATE TABLE IF NOT EXISTS {table} ({columns.format(**types)}){suffix}")
    if postgres:
        out.append(_PG_REFUSE_FUNCTION)
        out += [_PG_TRIGGERS.replace("{t}", table) for table in LOG_TABLES]
    else:
        out += [s.replace("{t}", table) for table in LOG_TABLES for s in _SQLITE_TRIGGERS]
    return out
