"""Audit log core: RFC 9162 Merkle tree, C2SP signed notes, checkpoints and cosignatures."""
