"""The fund ledger's domain: money, programme rules, hash-chained event streams and the
application service that enforces the programme's hard rules."""
