"""Regenerate the command table of docs/commands.md from the command specifications
(`ledger.commands`): `.venv/bin/python scripts/commands_doc.py`. The test
`tests/test_command_specs.py` fails while the committed docs differ from the specs."""

from __future__ import annotations

from pathlib import Path

from ledger.commands.docs import replace_block

DOC = Path(__file__).resolve().parent.parent / "docs" / "commands.md"

if __name__ == "__main__":
    DOC.write_text(replace_block(DOC.read_text("utf-8")), "utf-8")
    print(f"wrote {DOC}")
