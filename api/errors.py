"""The one table at the edge: for every error class, the CLI's exit code and the HTTP status.

The CLI (api.cli.kit) and, next, the HTTP API read their answer to an error here and nowhere
else; docs/commands.md's exit-code table says the same (tests/test_error_table.py holds them
equal, and holds that every `LedgerError` class is listed).

Exit codes: 0 success, 1 the ledger refused a command it could read or a verification failed,
2 the command could not be read or carried out (usage, I/O, a store that cannot be reached).
HTTP: 422 a field's value is refused whatever the ledger holds, 400 a body that cannot be
read, 403 not permitted, 404 an unknown reference, 409 a rule that the ledger's state refuses,
500 a store that contradicts itself, 503 a store that cannot be used now (try again). 401
(no credentials), 413 (a body over the size limit) and 429 (too many requests) are the HTTP
edge's own answers, before any command is read.

Lower-layer errors are mapped to LedgerErrors at the boundary (`ledger_error`): the store
drivers' errors to STORE_UNAVAILABLE, the offline verifier's plain errors by `audit.errors`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import psycopg
from eventsourcing.persistence import PersistenceError

from api.attachments import AttachmentNotHeld, AttachmentRefused, AttachmentsOff
from api.tokens import TokenRefused, TokenUnknown
from audit.db import StoreMissing
from audit.errors import (
    AuditError,
    AuditFileUnreadable,
    BundleNotReadable,
    NoCheckpoint,
    NoReceipt,
    NoteInvalid,
    ProofInvalid,
    SealerRunning,
    SealRefused,
    SigningRefused,
    WitnessRefused,
    lifted,
)
from audit.keyfile import KeyFileError
from audit.log import MissingNode
from audit.merkle import ProofError
from audit.note import NoteError
from audit.offline.bundle import BundleUnreadable
from ledger import errors as E

EXIT_OK, EXIT_RULE, EXIT_USAGE = 0, 1, 2
STORE_ERRORS = (sqlite3.Error, psycopg.Error, PersistenceError)
# The lower layers' errors that `ledger_error` maps to a LedgerError.
LOWER_ERRORS = (*STORE_ERRORS, NoteError, ProofError, BundleUnreadable)
CAUSE_SHOWN_MAX_CHARS = 200
# What a store error's text says, and how it is told (first match wins).
_STORE_CAUSES = (
    (("disk is full", "no space left"), "存储空间已满", "the disk is full"),
    (("disk i/o error",), "磁盘读写错误（磁盘可能已满或损坏）",
     "disk I/O error (the disk may be full or failing)"),
    (("readonly", "read-only"), "存储只读（文件或目录不可写）",
     "the store is read-only (its file or directory cannot be written)"),
    (("couldn't get a connection", "connection refused", "connection failed",
      "could not connect", "timeout expired"), "无法连接数据库服务器",
     "cannot connect to the database server"),
    (("unable to open database",), "无法打开数据库文件", "cannot open the database file"),
)


@dataclass(frozen=True)
class Outcome:
    """What an edge answers to one error class, and what that answer means (for the docs)."""

    exit_code: int
    http_status: int
    meaning: str


REFUSED = Outcome(EXIT_RULE, 422, "the ledger refused a value, whatever it holds")
UNAUTHENTICATED = Outcome(EXIT_RULE, 401, "no valid token: missing, malformed, unknown, "
                                          "expired or revoked (HTTP API)")
FORBIDDEN = Outcome(EXIT_RULE, 403, "the actor may not give the command (R8)")
UNKNOWN = Outcome(EXIT_RULE, 404, "the command names something the ledger does not hold")
CONFLICT = Outcome(EXIT_RULE, 409, "a rule that the ledger's present state refuses, or the "
                                   "audit log refuses")
CORRUPT = Outcome(EXIT_RULE, 500, "the store contradicts itself: a failed verification")
MALFORMED = Outcome(EXIT_USAGE, 400, "the input cannot be read as a command, note, key or "
                                     "bundle")
UNAVAILABLE = Outcome(EXIT_USAGE, 503, "the store cannot be used now; nothing was recorded "
                                       "(try again)")
MISCONFIGURED = Outcome(EXIT_USAGE, 500, "the operator's configuration: the store URL, a key "
                                         "file, a witness's state")
# The rows of the docs' table that no LedgerError class has (the CLI's own answers).
SUCCESS_ROW = ("0", "200", "success (a replay of an identical entry included)", "")
VERIFY_FAILED_ROW = ("1", "—", "`fundledger verify` found a broken place (its report names the "
                     "first)", "")
CLI_ONLY_ROW = ("2", "—", "usage or I/O error: click's usage errors (a missing or unknown "
                "option, an option value that is not an integer), an argument or `LEDGER_*` "
                "variable that is not UTF-8, a missing or unreadable file, any other I/O error, "
                "and any unexpected internal error", "")

TABLE: dict[type[E.LedgerError], Outcome] = {
    E.InvalidField: REFUSED, E.InvalidText: REFUSED, E.InvalidAmount: REFUSED,
    AttachmentRefused: REFUSED, AttachmentNotHeld: UNKNOWN, AttachmentsOff: UNAVAILABLE,
    E.RulesInvalid: REFUSED, E.ImportFailed: REFUSED, ProofInvalid: REFUSED,
    TokenRefused: UNAUTHENTICATED, E.NotPermitted: FORBIDDEN, TokenUnknown: UNKNOWN,
    E.UnknownProgramme: UNKNOWN, E.UnknownCounty: UNKNOWN, E.UnknownProject: UNKNOWN,
    E.UnknownEntry: UNKNOWN,
    NoReceipt: UNKNOWN, NoCheckpoint: UNKNOWN,
    E.AlreadyExists: CONFLICT, E.EntryConflict: CONFLICT,
    E.AllocationExceedsProgramme: CONFLICT, E.AppropriationExceedsAllocation: CONFLICT,
    E.TrancheExceeded: CONFLICT, E.BatchNotOpen: CONFLICT, E.BudgetExceedsAllocation: CONFLICT,
    E.CategoryShareExceeded: CONFLICT, E.DisbursementExceedsBudget: CONFLICT,
    E.InsufficientCash: CONFLICT, E.ExpenditureExceedsDisbursed: CONFLICT,
    E.ReversalTargetInvalid: CONFLICT, E.ReversalExceedsEntry: CONFLICT,
    E.ReversalBelowSpent: CONFLICT, E.DateOutsidePeriod: CONFLICT, E.PeriodClosed: CONFLICT,
    SealRefused: CONFLICT, SigningRefused: CONFLICT, WitnessRefused: CONFLICT,
    SealerRunning: CONFLICT,
    E.StoreInconsistent: CORRUPT, MissingNode: CORRUPT,
    E.InputMalformed: MALFORMED, NoteInvalid: MALFORMED, BundleNotReadable: MALFORMED,
    E.StoreUnavailable: UNAVAILABLE, StoreMissing: UNAVAILABLE,
    E.ConcurrencyExhausted: UNAVAILABLE,
    E.StoreUrlInvalid: MISCONFIGURED, KeyFileError: MISCONFIGURED,
    AuditFileUnreadable: MISCONFIGURED,
}
# Roots that are never raised themselves; a class missing from the table (a test forbids it)
# would be answered as its nearest listed ancestor, or as a refusal.
ROOTS: tuple[type[E.LedgerError], ...] = (E.LedgerError, AuditError)


def markdown_table() -> str:
    """The exit-code table of docs/commands.md, made from TABLE (a test holds them equal)."""
    by_outcome: dict[Outcome, list[str]] = {}
    for cls, out in TABLE.items():
        by_outcome.setdefault(out, []).append(f"`{cls.code}`")
    rows = [SUCCESS_ROW]
    for out in sorted(by_outcome, key=lambda o: (o.exit_code, o.http_status)):
        rows.append((str(out.exit_code), str(out.http_status), out.meaning,
                     ", ".join(sorted(by_outcome[out]))))
    rows[1:1] = [VERIFY_FAILED_ROW]
    rows.append(CLI_ONLY_ROW)
    lines = ["| exit | HTTP | meaning | codes |", "| --- | --- | --- | --- |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def outcome(e: E.LedgerError) -> Outcome:
    """The table's answer for `e`'s class (or its nearest listed ancestor)."""
    for cls in type(e).__mro__:
        if cls in TABLE:
            return TABLE[cls]
    return REFUSED


def exit_code(e: E.LedgerError) -> int:
    return outcome(e).exit_code


def http_status(e: E.LedgerError) -> int:
    return outcome(e).http_status


def ledger_error(e: Exception) -> E.LedgerError:
    """`e` (a LedgerError or one of LOWER_ERRORS) as a LedgerError."""
    if isinstance(e, E.LedgerError):
        return e
    if isinstance(e, STORE_ERRORS):
        return store_unavailable(e)
    mapped = lifted(e)
    if mapped is None:
        raise TypeError(f"no LedgerError for {type(e).__name__}") from e  # a programming error
    return mapped


def one_line(e: BaseException) -> str:
    """An exception's text on one line, cut short: for a cause, not for a traceback."""
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= CAUSE_SHOWN_MAX_CHARS else text[:CAUSE_SHOWN_MAX_CHARS] + "…"


def store_unavailable(e: BaseException) -> E.StoreUnavailable:
    """A store driver's error (sqlite3, psycopg, eventsourcing) told in both languages."""
    cause = one_line(e)
    lowered = cause.lower()
    zh, en = "无法读写存储", "cannot use the store"
    for needles, zh_said, en_said in _STORE_CAUSES:
        if any(n in lowered for n in needles):
            zh, en = zh_said, en_said
            break
    return E.StoreUnavailable.of("db", what_zh=zh, what_en=en, cause=cause)
