"""The offline verifier (`fundledger-verify`): checks an audit bundle or a receipt from its
files alone, with the standard library, `cryptography`, the canonical encoding
(`ledger.chain`) and the standard-library-only audit checks; nothing else of the application.

`cli` is the command; `bundle`, `events`, `parallel`, `scope` read and check a bundle;
`receipt` checks a receipt; `report` prints the result.
"""

from audit.offline.cli import main, verify_bundle

__all__ = ["main", "verify_bundle"]
