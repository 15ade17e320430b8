"""The application service: the one way to write to the ledger.

`FundLedger` opens programmes, admits counties and executes county commands with optimistic
concurrency (bounded retry on a version conflict), idempotent replays, and a per-stream lock so
that threads of one process take turns on a stream instead of conflicting.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, replace
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import EventStore, IntegrityError
from eventsourcing.utils import get_topic

from ledger import fields as F
from ledger.actors import Actor, authorise, authorise_scope, delegate, is_division_code
from ledger.checks import check_business_date
from ledger.commands import parse_county_command
from ledger.county import Context, CountyFund, county_stream_id
from ledger.county_state import ReportSubmission
from ledger.errors import (
    AlreadyExists,
    ConcurrencyExhausted,
    ImportFailed,
    InvalidField,
    LedgerError,
    UnknownCounty,
    UnknownProgramme,
)
from ledger.events import ChainedAggregate, event_type
from ledger.money import check_amount_fen
from ledger.programme import Programme, programme_stream_id
from ledger.rules import ProgrammeRules, parse_rules
from ledger.snapshots import SNAPSHOT_KEY_SETTING, AuthenticatedSnapshots, parse_snapshot_key

A = TypeVar("A", bound=ChainedAggregate)
MAX_WRITE_ATTEMPTS = 12
RETRY_BACKOFF_S = 0.002  # first backoff; doubles, with jitter, up to the attempts above
SNAPSHOT_INTERVAL_EVENTS = 500
AGGREGATE_CACHE_SIZE = 256


class _StaleCache(Exception):
    """The cached aggregate lagged behind the store: evict, and run the command again."""


@dataclass(frozen=True)
class Result:
    """What a write returns: where its event sits and whether it was a replay."""

    kind: str
    programme: str
    county_code: str
    entry_id: str
    stream_id: str
    version: int
    event_hash: str
    replayed: bool
    position: int | None
    # For a monthly report: its version of the month and whether it was on time.
    report: ReportSubmission | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FundLedger(Application[UUID]):
    """The fund ledger: programme and county streams in one event store.

    `env` holds the store settings (`ledger.stores.store_env`) and, optionally, the snapshot
    key (`SNAPSHOT_KEY_HEX`, 32 bytes in hex; `ledger.snapshots`): with it, long counties load
    from authenticated snapshots; without it, snapshots are neither written nor read.
    """

    name = "fundledger"
    snapshotting_intervals = {CountyFund: SNAPSHOT_INTERVAL_EVENTS}  # noqa: RUF012

    def __init__(
        self, env: Mapping[str, str] | None = None,
        clock: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        settings = {
            "AGGREGATE_CACHE_MAXSIZE": str(AGGREGATE_CACHE_SIZE),
            # No fast-forward query before each command: if another process has written to
            # the stream since, our save conflicts (optimistic concurrency), we evict and retry
            # on fresh state. Reads that must see other processes' writes use `county()`.
            "AGGREGATE_CACHE_FASTFORWARD": "n",
            # No deepcopy of a cached county on each command: a 20,000-entry state is large.
            # Safe because a command runs under its stream's lock and a failed command evicts.
            "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
            **(env or {}),
        }
        # Kept out of the library's settings (which it may log or copy); ValueError if bad.
        self._snapshot_key = parse_snapshot_key(settings.pop(SNAPSHOT_KEY_SETTING, None))
        super().__init__(settings)
        self.clock = clock
        self._locks: dict[UUID, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._rules: dict[str, ProgrammeRules] = {}

    # ---- infrastructure -----------------------------------------------------------------

    @contextmanager
    def _stream_lock(self, stream_id: UUID) -> Iterator[None]:
        with self._locks_guard:
            lock = self._locks.setdefault(stream_id, threading.Lock())
        with lock:
            yield

    def _evict(self, stream_id: UUID) -> None:
        cache: Any = self.repository.cache
        if cache is not None:
            with suppress(KeyError):
                cache.get(stream_id, evict=True)

    def _write(self, stream_id: UUID, attempt: Callable[[], Result]) -> Result:
        """Run `attempt` under the stream's lock; retry it on a version conflict."""
        delay = RETRY_BACKOFF_S
        for _ in range(MAX_WRITE_ATTEMPTS):
            with self._stream_lock(stream_id):
                try:
                    return attempt()
                except (IntegrityError, _StaleCache):
                    self._evict(stream_id)
                except BaseException:
                    self._evict(stream_id)  # a failed command must not leave a dirty cache
                    raise
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay *= 2
        raise ConcurrencyExhausted(
            f"流 {stream_id} 并发写入过多，{MAX_WRITE_ATTEMPTS} 次重试后放弃，未记录任何内容",
            f"too many concurrent writers on stream {stream_id}; gave up after "
            f"{MAX_WRITE_ATTEMPTS} attempts; nothing was recorded",
        )

    def construct_snapshot_store(self) -> EventStore[UUID]:
        """Snapshots that are tagged when written and used only when they verify. Without a
        key the store is still made (so that its table exists for every role) but unused."""
        return AuthenticatedSnapshots(
            self.mapper, self.factory.aggregate_recorder(purpose="snapshots"), self.recorder,
            self._snapshot_key,
            {get_topic(c): getattr(c, "class_version", 1) for c in (CountyFund, Programme)})

    def _take_snapshots(self, processing_event: Any) -> None:
        """Snapshot a county from its in-memory state when a save crosses an interval.

        The library's default rebuilds the aggregate from the store for every interval crossed,
        which made a bulk import spend 40 % of its time there; the saved aggregate in memory is
        exactly the state after the committed events. (A snapshot is never evidence: it is
        used only when its tag verifies, and `fundledger verify` replays it.)
        """
        if self.snapshots is None or self._snapshot_key is None:
            return
        for aggregate_id, aggregate in processing_event.aggregates.items():
            interval = self.snapshotting_intervals.get(type(aggregate))
            versions = [e.originator_version for e in processing_event.events
                        if e.originator_id == aggregate_id]
            if interval and any(v % interval == 0 for v in versions):
                self.snapshots.put([type(aggregate).Snapshot.take(aggregate)])

    def today(self) -> dt.date:
        return self.clock()

    # ---- reads of the write side ----------------------------------------------------------

    def programme(self, programme: str) -> Programme:
        """The programme stream, brought up to date with what other processes recorded."""
        stream_id = programme_stream_id(programme)
        try:
            agg: Programme = self.repository.get(stream_id)
        except AggregateNotFoundError:
            raise UnknownProgramme.of("programme", programme=programme) from None
        if agg.pending_events:  # a failed command left it dirty: start again from the store
            self._evict(stream_id)
            return self.programme(programme)
        return self._catch_up(agg)

    def _catch_up(self, agg: A) -> A:
        """Apply the stream's events recorded after the aggregate's version (by any process)."""
        new_events: Any = self.events.get(agg.id, gt=agg.version)
        for event in new_events:
            event.mutate(agg)
        return agg

    def rules(self, programme: str) -> ProgrammeRules:
        """The rules a programme was opened with (immutable, so memoised)."""
        rules = self._rules.get(programme)
        if rules is None:
            rules = parse_rules(self.programme(programme).rules_document)
            self._rules[programme] = rules
        return rules

    def county(self, programme: str, county_code: str) -> CountyFund:
        """A county's current state, including what other processes have recorded."""
        stream_id = county_stream_id(programme, county_code)
        with self._stream_lock(stream_id):
            agg = self._catch_up(self._cached_county(programme, county_code))
            return copy.deepcopy(agg)  # a private copy: callers cannot dirty the cache

    def _cached_county(self, programme: str, county_code: str) -> CountyFund:
        """The county for a command: from the cache, possibly stale (a stale save conflicts)."""
        try:
            agg: CountyFund = self.repository.get(county_stream_id(programme, county_code))
        except AggregateNotFoundError:
            raise UnknownCounty.of("county_code", county_code=county_code,
                                   programme=programme) from None
        return agg

    def event_at(self, stream_id: UUID, version: int) -> Any:
        return next(iter(self.events.get(stream_id, gt=version - 1, lte=version)))

    # ---- programme side -----------------------------------------------------------------

    def open_programme(
        self, rules: ProgrammeRules, total_fen: int, actor: Actor, business_date: dt.date
    ) -> Result:
        """Open a programme under its rules with its total fund; a replay returns the original."""
        authorise(actor, "open_programme")
        check_amount_fen(total_fen, "total_fen")
        check_business_date(business_date, self.today())  # no period before the programme
        stream_id = programme_stream_id(rules.programme)

        def attempt() -> Result:
            try:
                existing = self.programme(rules.programme)
            except UnknownProgramme:
                agg = Programme.open(rules, total_fen, actor, business_date)
                return self._result("open_programme", rules.programme, "", "", agg,
                                    self.save(agg))
            if existing.rules_document != rules.document or existing.total_fen != total_fen:
                raise AlreadyExists(f"项目 {rules.programme} 已以不同规则或总额开设",
                                    f"programme {rules.programme} exists with other rules or "
                                    "total", "programme")
            return self._replayed("open_programme", rules.programme, "", "", stream_id, 1)

        return self._write(stream_id, attempt)

    def admit_county(
        self, programme: str, county_code: str, county_name: str, allocation_fen: int,
        document_no: str, actor: Actor, business_date: dt.date,
    ) -> Result:
        """Admit a county with its allocation: the programme and county streams, one commit."""
        authorise(actor, "admit_county", county_code)
        if not is_division_code(county_code) or county_code.endswith("00"):
            raise InvalidField("县代码应为6位县级行政区划代码",
                               "county_code must be a 6-digit county-level division code",
                               "county_code")
        F.identifier(programme, "programme")
        county_name = F.text(county_name, "county_name", max_chars=F.COUNTY_NAME_MAX_CHARS)
        document_no = F.text(document_no, "document_no", max_chars=F.DOCUMENT_NO_MAX_CHARS)
        check_amount_fen(allocation_fen, "allocation_fen")
        stream_id = programme_stream_id(programme)

        def attempt() -> Result:
            prog = self.programme(programme)
            check_business_date(business_date, self.today(), self.rules(programme))
            replay = prog.admit_county(county_code, county_name, allocation_fen, document_no,
                                       actor, business_date)
            if replay is not None:
                return self._replayed("admit_county", programme, county_code, "", stream_id,
                                      replay)
            fund = CountyFund.open(programme, county_code, county_name, county_code[:4] + "00",
                                   allocation_fen, actor, business_date)
            return self._result("admit_county", programme, county_code, "", prog,
                                self.save(prog, fund))

        return self._write(stream_id, attempt)

    # ---- county side ----------------------------------------------------------------------

    def execute(self, payload: Mapping[str, Any], actor: Actor) -> Result:
        """Validate and execute one county command given as data (see `ledger.commands`)."""
        payload = dict(payload)
        programme = F.identifier(payload.get("programme"), "programme")
        county_code = payload.get("county_code")
        if not isinstance(county_code, str) or not is_division_code(county_code):
            raise InvalidField("county_code 应为6位行政区划代码",
                               "county_code must be a 6-digit division code", "county_code")
        spec, entry_id, args = parse_county_command(payload)
        authorise_scope(actor, county_code)  # before anything is said about the county
        ctx = Context(actor, self.rules(programme), self.today())
        stream_id = county_stream_id(programme, county_code)

        def attempt() -> Result:
            fund = self._cached_county(programme, county_code)
            try:
                version, replayed = getattr(fund, spec.method)(ctx, entry_id, **args)
            except LedgerError:
                # A rejection is final only if judged on the stored state: the cached county
                # may lag behind another process's writes.
                if next(iter(self.events.get(stream_id, gt=fund.version, limit=1)), None):
                    raise _StaleCache from None
                raise
            if replayed:
                return self._answer(spec.kind, fund, self.event_at(stream_id, version), True,
                                    ctx.rules)
            event = fund.pending_events[-1]
            recordings = self.save(fund)
            position = recordings[-1].notification.id if recordings else None
            return self._answer(spec.kind, fund, event, False, ctx.rules, position)

        return self._write(stream_id, attempt)

    def _result(self, kind: str, programme: str, county_code: str, entry_id: str, agg: Any,
                recordings: Any) -> Result:
        position = recordings[-1].notification.id if recordings else None
        return Result(kind, programme, county_code, entry_id, str(agg.id), agg.version,
                      agg.head_hash, False, position)

    @staticmethod
    def _answer(kind: str, fund: CountyFund, event: Any, replayed: bool, rules: ProgrammeRules,
                position: int | None = None) -> Result:
        """The result of a county command, from its event (a report's may carry another id
        than the one asked with: its month's next version)."""
        report = (fund.report_submission(rules, event.entry_id)
                  if isinstance(event, CountyFund.MonthlyReportSubmitted) else None)
        return Result(kind, fund.programme, fund.county_code, event.entry_id, str(fund.id),
                      event.originator_version, event.event_hash, replayed, position, report)

    def _replayed(self, kind: str, programme: str, county_code: str, entry_id: str,
                  stream_id: UUID, version: int) -> Result:
        event = self.event_at(stream_id, version)
        assert entry_id == "" or getattr(event, "entry_id", entry_id) == entry_id, event_type(event)
        return Result(kind, programme, county_code, entry_id, str(stream_id), version,
                      event.event_hash, True, None)

    # ---- bulk: all-or-nothing import ------------------------------------------------------

    def import_entries(
        self, items: Sequence[tuple[Mapping[str, Any], Actor | None]], runner: Actor | None = None,
    ) -> list[Result]:
        """Execute many county commands as one transaction: all are recorded, or none.

        Each item is checked against the state left by the items before it; the first
        rejection raises ImportFailed naming the item (1-based) and its rule, and nothing is
        recorded. Used to migrate a county's existing ledger, and by the demo.

        With a `runner` (whoever runs the import: the CLI always gives one), every event
        written records the runner (`imported_by_*`) besides the actor its item names (the
        runner when it names none); an item may name another actor only of the runner's role
        within the runner's scope (`ledger.actors.delegate`). Without one, each item is
        recorded as its own actor's command, as `execute` would, and must name one.
        """
        for _ in range(MAX_WRITE_ATTEMPTS):
            try:
                return self._import_once(items, runner)
            except IntegrityError:
                continue
        raise ConcurrencyExhausted("导入时并发冲突过多，未记录任何内容",
                                   "too many concurrent writers during import; nothing recorded")

    def _import_once(
        self, items: Sequence[tuple[Mapping[str, Any], Actor | None]], runner: Actor | None,
    ) -> list[Result]:
        funds: dict[UUID, CountyFund] = {}
        results: list[Result] = []
        try:
            for n, (payload, actor) in enumerate(items, start=1):
                results.append(self._import_one(n, dict(payload), actor, runner, funds))
            recordings = self.save(*funds.values()) if funds else []
        finally:
            for stream_id in funds:
                self._evict(stream_id)
        positions = {(str(r.domain_event.originator_id), r.domain_event.originator_version):
                     r.notification.id for r in recordings}
        return [
            r if r.replayed else replace(r, position=positions.get((r.stream_id, r.version)))
            for r in results
        ]

    def _import_one(
        self, n: int, payload: dict[str, Any], named: Actor | None, runner: Actor | None,
        funds: dict[UUID, CountyFund],
    ) -> Result:
        try:
            actor = delegate(runner, named) if runner is not None else named
            if actor is None:
                raise InvalidField("未指明操作人", "the item names no actor", "actor")
            programme = F.identifier(payload.get("programme"), "programme")
            county_code = F.text(payload.get("county_code"), "county_code",
                                 max_chars=F.DIVISION_CODE_CHARS)
            spec, entry_id, args = parse_county_command(payload)
            authorise_scope(actor, county_code)  # before anything is said about the county
            ctx = Context(actor, self.rules(programme), self.today())
            stream_id = county_stream_id(programme, county_code)
            fund = funds.get(stream_id)
            if fund is None:
                # A private copy: the cached county stays clean if the import is rejected.
                fund = funds[stream_id] = self.county(programme, county_code)
            version, replayed = getattr(fund, spec.method)(ctx, entry_id, **args)
        except LedgerError as e:
            raise ImportFailed(
                f"第 {n} 条被拒绝，整个文件未导入：{e.zh}",
                f"item {n} was rejected, so nothing in the file was imported: {e.en}",
                e.field, item=n, cause=e.to_dict(),
            ) from None
        if replayed:
            # The original may be earlier in this same file, not yet stored.
            earlier: list[Any] = [
                e for e in fund.pending_events if e.originator_version == version
            ]
            event = earlier[0] if earlier else self.event_at(stream_id, version)
            return self._answer(spec.kind, fund, event, True, ctx.rules)
        return self._answer(spec.kind, fund, fund.pending_events[-1], False, ctx.rules)
