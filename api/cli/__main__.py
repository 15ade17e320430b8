"""`python -m api.cli`: the same as the `fundledger` console script."""

from api.cli.app import main

if __name__ == "__main__":
    main()
