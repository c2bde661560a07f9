"""``python -m ntkbook verify`` runs every registered claim; ``python -m ntkbook source-map`` prints the
source map (see ``ntkbook.claims.cli``)."""

import sys

from .claims.cli import main

if __name__ == "__main__":
    sys.exit(main())
