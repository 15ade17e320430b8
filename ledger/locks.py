"""PostgreSQL advisory-lock keys, declared together with what each guards.

Every process that shares one PostgreSQL takes these with `pg_advisory_xact_lock`; two purposes
must never share a key, or one blocks the other for no reason (a projection batch and a page of
sealing once did, under the same key). A test holds them distinct.
"""

from __future__ import annotations

# One process at a time installs the append-only triggers on the events table.
INSTALL_LOCK_KEY = 7263541
# One writer at a time appends to the Merkle log's tables (sealing, signing, cosignatures).
LOG_LOCK_KEY = 7263542
# One catch-up at a time writes the read models (their rows and positions).
VIEWS_LOCK_KEY = 7263543
# One sealing loop (`fundledger seal --follow`) per store, held for the loop's life; its pages
# still take LOG_LOCK_KEY, so witnesses and one-off seals go on beside it.
SEALER_LOCK_KEY = 7263544

ADVISORY_LOCKS: dict[str, int] = {
    "install the append-only triggers": INSTALL_LOCK_KEY,
    "append to the Merkle log": LOG_LOCK_KEY,
    "write the read models": VIEWS_LOCK_KEY,
    "run the one sealing loop": SEALER_LOCK_KEY,
}
