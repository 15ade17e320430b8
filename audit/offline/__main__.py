"""`python -m audit.offline`: the same as `fundledger-verify`."""

from audit.offline.cli import main

if __name__ == "__main__":  # not when a spawned worker imports this module as __mp_main__
    main()
