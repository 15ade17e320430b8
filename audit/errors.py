"""Errors of the audit log. The command line maps `AuditError` to exit 1 (the log refuses, or a
check failed) and `OSError` — including `audit.keyfile.KeyFileError` — to exit 2."""

from __future__ import annotations


class AuditError(Exception):
    """Root of the audit log's refusals; the message says what and where, in English and
    Chinese."""


class SealRefused(AuditError):
    """A stored event to be sealed does not match its hash or its stream's chain; the events
    before it were sealed, it and those after it were not."""

    def __init__(self, message: str, sealed: int) -> None:
        super().__init__(message)
        self.sealed = sealed


class SigningRefused(AuditError):
    """A checkpoint was not signed: the key is not the log's current key, or the stored tree
    is not consistent with the latest checkpoint."""


class WitnessRefused(AuditError):
    """A witness refused to cosign: bad signature, another origin, or not consistent with
    the checkpoint it cosigned before."""


class NoReceipt(AuditError):
    """No receipt can be given: the entry is unknown, not yet sealed, or no signed checkpoint
    covers it yet."""
