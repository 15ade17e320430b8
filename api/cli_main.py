"""`python -m api.cli_main`: the same as the `fundledger` console script."""

from api.cli import main

if __name__ == "__main__":
    main()
