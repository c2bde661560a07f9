"""State a claim, check it, and keep a registry of every claim the book checks.

The framework of the book, apart from the library and from the chapters:

- :mod:`ntkbook.claims.checks` -- the kinds of check (symbolic, numeric equality or bound, Monte Carlo, rate, and definitional:
  shapes and counts, shown apart), the
  shared rounding allowance (:func:`rounding`) and the one rule for printing measured
  values (:func:`shown`);
- :func:`claim` (in `ntkbook.claims._registry`) registers a chapter's check function; calling it
  raises :class:`ClaimFailed` unless every check comes out as expected;
- :mod:`ntkbook.claims.ledger` -- the claims ledger and errata pages, rendered from the results the
  chapters store;
- :mod:`ntkbook.claims.cli` -- ``python -m ntkbook verify`` runs every registered claim.
"""

from __future__ import annotations

from ._registry import Claim, Results, claim, registry, require_x64, run_all
from .checks import (
    CheckResult,
    ClaimFailed,
    check_bound,
    check_close,
    check_definitional,
    check_monte_carlo,
    check_slope,
    check_symbolic,
    fit_loglog_slope,
    rate_checks,
    rounding,
    shown,
    slope_noise,
    text_line,
)

__all__ = [
    "CheckResult",
    "Claim",
    "ClaimFailed",
    "Results",
    "check_bound",
    "check_close",
    "check_definitional",
    "check_monte_carlo",
    "check_slope",
    "check_symbolic",
    "claim",
    "fit_loglog_slope",
    "rate_checks",
    "registry",
    "require_x64",
    "rounding",
    "run_all",
    "shown",
    "slope_noise",
    "text_line",
]
