"""ntkbook: the mathematics of the Neural Tangent Kernel, derived and checked by running it.

One module per chapter of the book; each holds the functions the chapter uses and the claims
it checks (see :mod:`ntkbook.claims`). ``python -m ntkbook verify`` runs every claim.

The most used entry points:

- :func:`infinite_width_kernels` -- the analytic NNGP and NTK kernels (Sigma, K) of a deep network;
- :mod:`ntkbook.mlp` -- the fully connected network in NTK parameterization (``init``, ``apply``);
- :func:`ntkbook.ntk.empirical_ntk` -- the empirical NTK of any ``apply(params, x)``;
- :mod:`ntkbook.linearized` -- linearized networks and closed-form MSE training dynamics.
"""

from __future__ import annotations

from . import activations, claims, jacobians, mlp, ntk
from .claims import CheckResult, ClaimFailed, check_close, check_monte_carlo, check_slope, check_symbolic, claim
from .infinite_ntk import infinite_width_kernels

__version__ = "0.1.0"

__all__ = [
    "CheckResult",
    "ClaimFailed",
    "activations",
    "check_close",
    "check_monte_carlo",
    "check_slope",
    "check_symbolic",
    "claim",
    "claims",
    "infinite_width_kernels",
    "jacobians",
    "mlp",
    "ntk",
]
