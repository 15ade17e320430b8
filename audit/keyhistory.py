"""The log's key history: which Ed25519 key signed checkpoints from which tree size on.

Each key is introduced by a signed statement (a signed note)::

    fundledger-log-key/v1
    origin <origin>
    key <vkey>
    from <tree size>
    previous <vkey of the key it replaces, or none>

signed by the new key (it holds the key) and, on a rotation, by the previous key (it hands
over). A verifier who trusts any one key of the chain thereby trusts all of them, each for its
own range of tree sizes: key i signs checkpoints of size from_i .. from_(i+1). Standard library
and `cryptography` only: the offline verifier uses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.note import (
    NoteError,
    VerifierKey,
    format_vkey,
    key_id,
    open_note,
    parse_vkey,
    public_key_bytes,
    sign_note,
    signature_line,
)

STATEMENT_HEADER = "fundledger-log-key/v1"
Problem = tuple[str, str]  # (Chinese, English)


@dataclass(frozen=True)
class KeyRecord:
    """One introduced key: its vkey, the first tree size it signs, and the signed statement."""

    vkey: str
    from_size: int
    statement: str

    def to_dict(self) -> dict[str, object]:
        return {"vkey": self.vkey, "from_size": self.from_size, "statement": self.statement}


@dataclass(frozen=True)
class KeyHistory:
    """The verified chain of the log's keys."""

    origin: str
    keys: tuple[VerifierKey, ...]
    from_sizes: tuple[int, ...]

    def keys_for(self, size: int) -> list[VerifierKey]:
        """The keys allowed to sign a checkpoint of `size` (two at a rotation's size)."""
        out = []
        for i, key in enumerate(self.keys):
            until = self.from_sizes[i + 1] if i + 1 < len(self.keys) else None
            if self.from_sizes[i] <= size and (until is None or size <= until):
                out.append(key)
        return out

    def has(self, key: VerifierKey) -> bool:
        return key in self.keys

    @property
    def current(self) -> VerifierKey | None:
        return self.keys[-1] if self.keys else None


def statement_text(origin: str, vkey: str, from_size: int, previous: str | None) -> str:
    return (f"{STATEMENT_HEADER}\norigin {origin}\nkey {vkey}\nfrom {from_size}\n"
            f"previous {previous or 'none'}\n")


def introduce(
    origin: str, private_key: Ed25519PrivateKey, from_size: int,
    previous: Ed25519PrivateKey | None = None,
) -> KeyRecord:
    """The statement introducing `private_key` as the log's key from `from_size` on."""
    vkey = format_vkey(origin, public_key_bytes(private_key))
    prev_vkey = format_vkey(origin, public_key_bytes(previous)) if previous else None
    text = statement_text(origin, vkey, from_size, prev_vkey)
    note = sign_note(text, origin, private_key)
    if previous is not None:
        kid = key_id(origin, public_key_bytes(previous))
        note += signature_line(origin, kid, previous.sign(text.encode())) + "\n"
    return KeyRecord(vkey, from_size, note)


def _parse_statement(note: str, key: VerifierKey) -> tuple[str, int, str | None]:
    """(origin, from size, previous vkey) of a statement that `key` signed."""
    text = open_note(note, [key])[0]
    lines = text[:-1].split("\n")
    if len(lines) != 5 or lines[0] != STATEMENT_HEADER:
        raise NoteError("not a fundledger-log-key/v1 statement")
    fields = dict(line.split(" ", 1) for line in lines[1:])
    if set(fields) != {"origin", "key", "from", "previous"} or fields["key"] != key.vkey():
        raise NoteError("statement fields do not match the key it introduces")
    prev = fields["previous"]
    return fields["origin"], int(fields["from"]), None if prev == "none" else prev


def check_history(records: Sequence[KeyRecord]) -> tuple[KeyHistory, list[Problem]]:
    """Verify the chain of statements; return the keys that verified and what did not."""
    keys: list[VerifierKey] = []
    sizes: list[int] = []
    problems: list[Problem] = []
    origin = ""
    for n, record in enumerate(records, start=1):
        try:
            key = parse_vkey(record.vkey)
            rec_origin, from_size, previous = _parse_statement(record.statement, key)
            origin = origin or rec_origin
            _check_link(key, rec_origin, origin, from_size, record.from_size, previous, keys,
                        sizes)
            if previous is not None:
                open_note(record.statement, [keys[-1]])  # the previous key handed over
        except (NoteError, ValueError) as e:
            problems.append((f"第 {n} 个日志密钥的引入声明无效：{e}",
                             f"log key {n}: its introduction statement is invalid: {e}"))
            break  # a broken link leaves every later key unendorsed
        keys.append(key)
        sizes.append(from_size)
    return KeyHistory(origin, tuple(keys), tuple(sizes)), problems


def _check_link(key: VerifierKey, rec_origin: str, origin: str, from_size: int,
                stored_from: int, previous: str | None, keys: list[VerifierKey],
                sizes: list[int]) -> None:
    if rec_origin != origin or key.name != origin:
        raise NoteError(f"origin {rec_origin!r} / key name {key.name!r} differ from {origin!r}")
    if from_size != stored_from:
        raise NoteError(f"statement says from {from_size}, the record says {stored_from}")
    expected_prev = keys[-1].vkey() if keys else None
    if previous != expected_prev:
        raise NoteError("the statement does not name the previous key of the history")
    if sizes and from_size < sizes[-1]:
        raise NoteError("a key cannot start before the key it replaces")


def endorsed_by(history: KeyHistory, trusted: Iterable[VerifierKey]) -> bool:
    """Whether any trusted key (held outside the log) is in the verified history."""
    return any(history.has(k) for k in trusted)
