"""Hash-chained aggregates: the base event and aggregate every stream is built from.

Each event carries the actor, a business date, `prev_hash` (its predecessor's hash, or the
genesis value) and its own `event_hash`, computed by `ledger.chain` before the event is made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger import fields as fields_module
from ledger.actors import IMPORT_FIELDS, Actor
from ledger.chain import (
    GENESIS_HASH,
    NON_DATA_FIELDS,
    check_subset,
    event_hash,
    format_timestamp,
)

A = TypeVar("A", bound="ChainedAggregate")


class ChainedEvent(Aggregate.Event):
    """An event in a hash-chained stream."""

    actor_id: str
    actor_role: str
    actor_scope: str
    business_date: str
    prev_hash: str
    event_hash: str

    def apply(self, aggregate: ChainedAggregate) -> None:
        aggregate.head_hash = self.event_hash
        self.when(aggregate)

    def when(self, aggregate: ChainedAggregate) -> None:
        """Evolve the aggregate's state; overridden by each event."""


class ChainedCreated(Aggregate.Created, ChainedEvent):
    """The first event of a hash-chained stream."""


def event_data(event: object) -> dict[str, Any]:
    """The domain fields of an event: what its hash covers besides the chain's own fields."""
    return {k: v for k, v in vars(event).items() if k not in NON_DATA_FIELDS}


def event_type(event_or_class: object) -> str:
    """The stable type name that enters the hash."""
    cls = event_or_class if isinstance(event_or_class, type) else type(event_or_class)
    return str(cls.__qualname__)


def recompute_hash(event: Any) -> str:
    """Recompute an event's hash from its fields, independent of its stored `event_hash`."""
    return event_hash(
        str(event.originator_id), event.originator_version, event_type(event),
        format_timestamp(event.timestamp), event.prev_hash, event_data(event),
    )


def _data(actor: Actor, business_date: dt.date, fields: Mapping[str, object]) -> dict[str, Any]:
    data = {**actor.as_fields(), "business_date": business_date.isoformat(), **fields}
    check_subset(data)
    fields_module.check_event_text(data)
    return data


class ChainedAggregate(Aggregate):
    """An aggregate whose events form a hash chain."""

    head_hash = GENESIS_HASH  # the hash of the newest event; set by every event

    def __init__(self) -> None:
        """State is set by the creation event's `when`."""

    @classmethod
    def _open(
        cls: type[A], event_class: type[ChainedCreated], stream_id: UUID, actor: Actor,
        business_date: dt.date, **fields: object,
    ) -> A:
        data = _data(actor, business_date, fields)
        ts = event_class.create_timestamp()
        h = event_hash(
            str(stream_id), cls.INITIAL_VERSION, event_type(event_class), format_timestamp(ts),
            GENESIS_HASH, data,
        )
        return cls._create(
            event_class, id=stream_id, timestamp=ts, prev_hash=GENESIS_HASH, event_hash=h, **data
        )

    def _record(
        self, event_class: type[ChainedEvent], actor: Actor, business_date: dt.date,
        **fields: object,
    ) -> None:
        data = _data(actor, business_date, fields)
        ts = event_class.create_timestamp()
        h = event_hash(
            str(self.id), self.version + 1, event_type(event_class), format_timestamp(ts),
            self.head_hash, data,
        )
        # Fields only some events carry (who ran an import) are not constructor fields: they
        # are set on the event before it is stored, and hashed like every other domain field.
        extra = {k: data.pop(k) for k in IMPORT_FIELDS if k in data}
        self.trigger_event(
            event_class, timestamp=ts, prev_hash=self.head_hash, event_hash=h, **data
        )
        event = self.pending_events[-1]
        for key, value in extra.items():
            object.__setattr__(event, key, value)
