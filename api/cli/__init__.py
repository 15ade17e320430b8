"""The command line (`fundledger`): `main` is the process's top level and the group of
subcommands; `kit` what every subcommand shares (the store, the actor, the error → exit-code
table); `write`, `read`, `status`, `audit` and `snapkey` the subcommands by what they do."""

from api.cli.app import cli, main

__all__ = ["cli", "main"]
