"""Audit-log commands: `seal`, `keys`, `checkpoint`, `witness`, `receipt`, `proof`, `export`.

Exit codes as everywhere: 0 success, 1 the log refuses or a check failed, 2 usage or I/O.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from api import render
from api.cli.kit import STORE_INT, Ctx, Seconds, errors_mapped
from api.config import DEFAULT_PROGRAMME, ENV_LOG_KEY
from audit.db import LogDB
from audit.errors import NoCheckpoint
from audit.sealer import SIGN_EVERY_S


@contextmanager
def audit_errors(ctx: Ctx) -> Iterator[LogDB]:
    """The store's log; errors reported as everywhere (api.cli.kit, the table in api.errors)."""
    with errors_mapped(ctx):
        yield ctx.log()


def _key(path: str | None) -> Any:
    from audit.keyfile import load_key_file

    if path is None:
        return None
    return load_key_file(Path(path))


# ---- seal ------------------------------------------------------------------------------------


@click.command()
@click.option("--key", "key_file", type=click.Path(dir_okay=False),
              help=f"the log's key file: sign a checkpoint after sealing (or {ENV_LOG_KEY})")
@click.option("--follow", is_flag=True, help="keep sealing new events until interrupted")
@click.option("--interval", type=Seconds(0.01, 3600), default=0.1, show_default=True,
              help="--follow: seconds between polls when nothing is new")
@click.option("--checkpoint-every", type=Seconds(0.0, 86400), default=SIGN_EVERY_S,
              show_default=True,
              help="--follow: at most one checkpoint per this many seconds")
@click.pass_obj
def seal(ctx: Ctx, key_file: str | None, follow: bool, interval: float,
         checkpoint_every: float) -> None:
    """Append every new event to the Merkle log, in order, once; sign a checkpoint. 封存

    With --follow: keep sealing (and signing) until interrupted; one such process per store.
    """
    from audit import sealer
    from audit.signing import sign_latest

    with audit_errors(ctx) as db:
        key = _key(key_file or ctx.settings.log_key_file)
        if not follow:
            sealed = sealer.seal(db)
            cp = sign_latest(db, *key)[0] if key else None
            _report_seal(ctx, sealed, cp)
            return

        def on_round(sealed: int) -> None:
            if sealed and not ctx.as_json:
                click.echo(f"sealed {sealed}", err=True)

        loop = sealer.Loop(key, checkpoint_every, interval)
        sealer.follow(db, sealer.until_signalled(), loop, on_round)
    if ctx.as_json:
        render.emit_json({"sealed": loop.sealed})


def _report_seal(ctx: Ctx, sealed: int, cp: Any) -> None:
    doc = {"sealed": sealed, "checkpoint": None if cp is None else
           {"size": cp.size, "root": cp.root.hex(), "note": cp.note}}
    if ctx.as_json:
        render.emit_json(doc)
        return
    click.echo(f"封存 / sealed {sealed} new events")
    if cp is None:
        click.echo("  no checkpoint signed (give --key FILE or LEDGER_LOG_KEY)")
    else:
        click.echo(f"  checkpoint: size {cp.size}\n{cp.note}", nl=False)


# ---- keys --------------------------------------------------------------------------------------


@click.group()
def keys() -> None:
    """The log's Ed25519 key: make, rotate, show. 日志密钥"""


@keys.command("init")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="new key file")
@click.option("--origin", default="fundledger.local/log", show_default=True,
              help="the log's origin line (also the key's name): a schema-less URL")
@click.pass_obj
def keys_init(ctx: Ctx, out: str, origin: str) -> None:
    """Make the log's key (file mode 0600) and print its verifier key (vkey)."""
    from audit.keyfile import create_key_file, log_vkey

    with errors_mapped(ctx):
        vkey = log_vkey(origin, create_key_file(Path(out), origin))
    if ctx.as_json:
        render.emit_json({"key_file": out, "origin": origin, "vkey": vkey})
    else:
        click.echo(vkey)
        click.echo(f"# private key in {out} (mode 0600); give the line above to auditors and "
                   "witnesses through a channel they trust", err=True)


@keys.command("rotate")
@click.option("--key", "key_file", envvar=ENV_LOG_KEY, required=True,
              type=click.Path(dir_okay=False), help="the current key file")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="new key file")
@click.pass_obj
def keys_rotate(ctx: Ctx, key_file: str, out: str) -> None:
    """Hand the log to a new key, recorded with both keys' signatures; sign with it."""
    from audit.keyfile import create_key_file
    from audit.signing import rotate, sign_latest

    with audit_errors(ctx) as db:
        name, old = _key(key_file)
        new = create_key_file(Path(out), name)
        record = rotate(db, name, old, new)
        cp, _ = sign_latest(db, name, new)
    if ctx.as_json:
        render.emit_json({"vkey": record.vkey, "from_size": record.from_size, "size": cp.size})
    else:
        click.echo(record.vkey)
        click.echo(f"# the log's key from size {record.from_size} on; checkpoint {cp.size} "
                   "signed with it", err=True)


@keys.command("show")
@click.pass_obj
def keys_show(ctx: Ctx) -> None:
    """The recorded key history: each key and the tree size it signs from."""
    from audit import log
    from audit.keyhistory import check_history

    with audit_errors(ctx) as db, db.snapshot() as cur:
        origin, records = log.key_records(cur) if db.has_log(cur) else ("", [])
    _, problems = check_history(records)
    doc = {"origin": origin, "keys": [{"vkey": r.vkey, "from_size": r.from_size}
                                      for r in records],
           "problems": [en for _, en in problems]}
    if ctx.as_json:
        render.emit_json(doc)
        return
    click.echo(f"origin {origin or '(no key recorded yet)'}")
    for r in records:
        click.echo(f"  from size {r.from_size}: {r.vkey}")
    for p in doc["problems"]:
        click.echo(f"  INVALID: {p}")


# ---- checkpoint, witness ----------------------------------------------------------------------


@click.command()
@click.option("--size", type=STORE_INT, help="the checkpoint of this size (default: the latest)")
@click.pass_obj
def checkpoint(ctx: Ctx, size: int | None) -> None:
    """Print the latest signed checkpoint with its cosignatures (a signed note). 检查点"""
    from audit import log

    with audit_errors(ctx) as db, db.snapshot() as cur:
        cp = None
        if db.has_log(cur):
            cp = log.latest_checkpoint(cur) if size is None else log.checkpoint_at(cur, size)
        if cp is None:
            raise NoCheckpoint.of("size", which_zh="这一大小的" if size is not None else "",
                                  which_en="such " if size is not None else "", size=size)
        cosigs = log.cosignatures(cur, cp.seq)
    note = log.cosigned_note(cp.note, cosigs)
    if ctx.as_json:
        render.emit_json({"size": cp.size, "root": cp.root.hex(), "created": cp.created,
                          "note": note, "cosignatures": [c.__dict__ for c in cosigs]})
    else:
        click.echo(note, nl=False)


@click.group()
def witness() -> None:
    """A witness (city bureau, audit department) that cosigns checkpoints. 见证副署"""


@witness.command("init")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False),
              help="the witness's own directory (key and state)")
@click.option("--name", required=True, help="the witness's key name, e.g. audit.gd.gov.cn/w1")
@click.option("--log-key", required=True, help="the log's verifier key, obtained out of band")
@click.pass_obj
def witness_init(ctx: Ctx, directory: str, name: str, log_key: str) -> None:
    """Make the witness's key and state; print its cosigner verifier key."""
    from audit import witness as w

    with audit_errors(ctx):
        vkey = w.init(Path(directory), name, log_key)
    if ctx.as_json:
        render.emit_json({"vkey": vkey, "dir": directory})
    else:
        click.echo(vkey)


@witness.command("cosign")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False))
@click.pass_obj
def witness_cosign(ctx: Ctx, directory: str) -> None:
    """Verify the latest checkpoint and its consistency with the last cosigned; cosign it."""
    from audit import witness as w

    with audit_errors(ctx) as db:
        cp, cosig = w.cosign_latest(db, Path(directory))
    if ctx.as_json:
        render.emit_json({"size": cp.size, "witness": cosig.witness, "line": cosig.line,
                          "timestamp": cosig.timestamp})
    else:
        click.echo(f"副署 / cosigned checkpoint size {cp.size} as {cosig.witness}")
        click.echo(cosig.line)


@witness.command("show")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False))
@click.pass_obj
def witness_show(ctx: Ctx, directory: str) -> None:
    """What the witness holds: the keys it trusts, the last checkpoint it cosigned."""
    from audit import witness as w

    with audit_errors(ctx):
        state = w.load_state(Path(directory))
    render.emit_json(w.describe(state))


# ---- receipt, proof, export ------------------------------------------------------------------


@click.command()
@click.argument("entry", required=False)
@click.option("--programme", default=DEFAULT_PROGRAMME, show_default=True)
@click.option("--county", help="the entry's county code")
@click.option("--leaf", type=STORE_INT, help="instead of an entry: the receipt of this leaf index")
@click.option("--out", type=click.Path(dir_okay=False), help="write the receipt to a file")
@click.pass_obj
def receipt(ctx: Ctx, entry: str | None, programme: str, county: str | None, leaf: int | None,
            out: str | None) -> None:
    """An entry's receipt: event, hash, leaf index, inclusion proof, signed checkpoint. 收据

    It verifies offline: `fundledger-verify RECEIPT.json --key VKEY`.
    """
    from audit.receipts import receipt as make

    if leaf is None and not (entry and county):
        raise click.UsageError("请给出 ENTRY 与 --county，或 --leaf N / give ENTRY with --county, "
                               "or --leaf N")
    with audit_errors(ctx) as db:
        doc = make(db, programme, county, entry, leaf)
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
        if out:
            Path(out).write_text(text, "utf-8")
    if out and not ctx.as_json:
        click.echo(f"receipt of leaf {doc['leaf_index']} written to {out}")
    else:
        click.echo(text, nl=False)


@click.command()
@click.option("--leaf", type=STORE_INT, help="an inclusion proof of this leaf index")
@click.option("--from", "old_size", type=STORE_INT, help="a consistency proof from this tree size")
@click.option("--size", type=STORE_INT, help="to this tree size (default: the latest checkpoint's)")
@click.pass_obj
def proof(ctx: Ctx, leaf: int | None, old_size: int | None, size: int | None) -> None:
    """An inclusion (--leaf) or consistency (--from) proof, RFC 9162 2.1.3 / 2.1.4. 证明"""
    from audit import proofs

    if (leaf is None) == (old_size is None):
        raise click.UsageError("--leaf N 与 --from SIZE 须且只须给出其一 / give exactly one of "
                               "--leaf N and --from SIZE")
    with audit_errors(ctx) as db:
        try:
            doc = (proofs.inclusion_proof(db, leaf, size) if leaf is not None
                   else proofs.consistency_proof(db, old_size or 0, size))
        except proofs.ProofOutOfRange as e:
            raise click.UsageError(str(e)) from None
    render.emit_json(doc)


def _ledger_statements(views: Any) -> Any:
    """The read models' statements for the bundle (None: recomputed from the events), with a
    warning on stderr when the stored events are inconsistent."""
    from audit.reconcile import statements_for_bundle

    statements, warning = statements_for_bundle(views)
    if warning is not None:
        click.echo(f"警告 / WARNING: {warning}", err=True)
    return statements


@click.command("export")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="a new (or empty) directory")
@click.option("--programme", help="only this programme's streams")
@click.option("--county", help="only this county (and its programme's stream)")
@click.option("--until", help="only events recorded on or before this date (YYYY-MM-DD, "
                              "China Standard Time)")
@click.pass_obj
def export(ctx: Ctx, out: str, programme: str | None, county: str | None,
           until: str | None) -> None:
    """Write an audit bundle that `fundledger-verify` checks offline. 导出审计包"""
    from audit.bundle import Scope
    from audit.bundle import export as write_bundle

    try:
        day = dt.date.fromisoformat(until) if until else None
    except ValueError:
        raise click.BadParameter("应为 YYYY-MM-DD 日期 / expected YYYY-MM-DD",
                                 param_hint="--until") from None
    started = time.perf_counter()
    with audit_errors(ctx) as db:
        if programme is not None or county is not None:  # a scope names what the ledger holds
            app = ctx.open()
            app.programme(programme or DEFAULT_PROGRAMME)
            if county is not None:
                app.county(programme or DEFAULT_PROGRAMME, county)
        # statements.json: the statements as the ledger reports them
        statements = _ledger_statements(ctx.views())
        manifest = write_bundle(db, Path(out), Scope(programme, county, day),
                                ledger_statements=statements)
    seconds = time.perf_counter() - started
    if ctx.as_json:
        render.emit_json({**manifest, "seconds": round(seconds, 3)})
        return
    kind = "full" if manifest["scope"]["full"] else "scoped"
    click.echo(f"审计包 / {kind} bundle in {out}: {manifest['events']} events, "
               f"{manifest['streams']} streams, checkpoint size {manifest['checkpoint_size']} "
               f"({seconds:.1f} s)")
    click.echo(f"verify it: fundledger-verify {out} --key VKEY [--since CHECKPOINT]")


COMMANDS = [seal, keys, checkpoint, witness, receipt, proof, export]


def register(group: click.Group) -> None:
    """Add the audit commands to the `fundledger` group."""
    for command in COMMANDS:
        group.add_command(command)

