"""The programme stream (province side): opening the programme with its rules, admitting
counties with their allocations."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from ledger.actors import Actor, city_of
from ledger.chain import content_fingerprint
from ledger.errors import AllocationExceedsProgramme, AlreadyExists
from ledger.events import ChainedAggregate, ChainedCreated, ChainedEvent, event_data, event_type
from ledger.money import format_yuan
from ledger.rules import ProgrammeRules, parse_rules

STREAM_NAMESPACE = UUID("6f1c3c1e-4a53-5b0e-9d59-8a0a6c0f2b21")


def programme_stream_id(programme: str) -> UUID:
    return uuid5(STREAM_NAMESPACE, f"programme:{programme}")


class Programme(ChainedAggregate):
    """A funding programme: its rules, its total fund and its admitted counties."""

    class Opened(ChainedCreated):
        programme: str
        total_fen: int
        rules: dict[str, Any]

        def when(self, aggregate: Any) -> None:
            aggregate.programme = self.programme
            aggregate.total_fen = self.total_fen
            aggregate.rules_document = self.rules
            aggregate.counties = {}
            aggregate.allocated_fen = 0

    class CountyAdmitted(ChainedEvent):
        county_code: str
        county_name: str
        city_code: str
        allocation_fen: int
        document_no: str

        def when(self, aggregate: Any) -> None:
            aggregate.counties[self.county_code] = {
                "name": self.county_name, "city": self.city_code,
                "allocation_fen": self.allocation_fen, "version": self.originator_version,
                "f": content_fingerprint(event_type(self), event_data(self)),
            }
            aggregate.allocated_fen += self.allocation_fen

    if TYPE_CHECKING:  # state set by the events; not constructor fields of the aggregate
        programme: str
        total_fen: int
        rules_document: dict[str, Any]
        counties: dict[str, dict[str, Any]]
        allocated_fen: int

    @classmethod
    def open(
        cls, rules: ProgrammeRules, total_fen: int, actor: Actor, business_date: dt.date
    ) -> Programme:
        return cls._open(
            cls.Opened, programme_stream_id(rules.programme), actor, business_date,
            programme=rules.programme, total_fen=total_fen, rules=rules.document,
        )

    @property
    def rules(self) -> ProgrammeRules:
        return parse_rules(self.rules_document)

    def admit_county(
        self, county_code: str, county_name: str, allocation_fen: int, document_no: str,
        actor: Actor, business_date: dt.date,
    ) -> int | None:
        """Admit a county; for an identical earlier admission (a replay), its version."""
        existing = self.counties.get(county_code)
        if existing is not None:
            data = {
                **actor.as_fields(), "business_date": business_date.isoformat(),
                "county_code": county_code, "county_name": county_name,
                "city_code": city_of(county_code), "allocation_fen": allocation_fen,
                "document_no": document_no,
            }
            if existing["f"] == content_fingerprint(event_type(self.CountyAdmitted), data):
                return int(existing["version"])
            raise AlreadyExists(
                f"县 {county_code} 已以不同内容纳入项目",
                f"county {county_code} was already admitted with different content",
                "county_code",
            )
        if self.allocated_fen + allocation_fen > self.total_fen:
            raise AllocationExceedsProgramme(
                f"各县分配额合计将超过项目总额 {format_yuan(self.total_fen)} 元",
                "allocations would exceed the programme total of "
                f"{format_yuan(self.total_fen)} yuan",
                "allocation_fen", allocated_fen=self.allocated_fen, total_fen=self.total_fen,
            )
        self._record(
            self.CountyAdmitted, actor, business_date, county_code=county_code,
            county_name=county_name, city_code=city_of(county_code),
            allocation_fen=allocation_fen, document_no=document_no,
        )
        return None
