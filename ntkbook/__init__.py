"""ntkbook: the mathematics of the Neural Tangent Kernel, derived and checked by running it.

One module per chapter of the book; each holds the functions the chapter uses and the claims
it checks (see :mod:`ntkbook.claims`). ``python -m ntkbook verify`` runs every claim.
"""

from __future__ import annotations

from . import claims, jacobians
from .claims import CheckResult, ClaimFailed, check_close, check_monte_carlo, check_slope, check_symbolic, claim

__version__ = "0.1.0"

__all__ = [
    "CheckResult",
    "ClaimFailed",
    "check_close",
    "check_monte_carlo",
    "check_slope",
    "check_symbolic",
    "claim",
    "claims",
    "jacobians",
]
