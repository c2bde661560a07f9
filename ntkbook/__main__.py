"""``python -m ntkbook verify``: run every registered claim (see ``ntkbook.claims.cli``)."""

import sys

from .claims.cli import main

if __name__ == "__main__":
    sys.exit(main())
