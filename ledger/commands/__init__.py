"""Commands as data: the kinds a client can send (CLI, import file, HTTP), each defined once
(`kinds`, in the shape of `spec`), validated by `parse`; `lines` reads an import's lines and
their actors; `docs` renders the command table of docs/commands.md.

`lines` is imported by name, not here: it needs `ledger.actors`, which derives its permission
table from `kinds`.
"""

from ledger.commands.kinds import COUNTY_COMMANDS, TEXT_FIELDS_MAX_CHARS
from ledger.commands.parse import COMMON_FIELDS, command_spec, parse_county_command
from ledger.commands.spec import CommandSpec, FieldSpec, Parsed, Permission

__all__ = ["COMMON_FIELDS", "COUNTY_COMMANDS", "TEXT_FIELDS_MAX_CHARS", "CommandSpec",
           "FieldSpec", "Parsed", "Permission", "command_spec", "parse_county_command"]
