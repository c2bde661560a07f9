"""ntkbook: the mathematics of the Neural Tangent Kernel, derived and checked by running it.

The library (this package's modules, one concept each, depending on jax and numpy only):

- :func:`infinite_width_kernels` -- the analytic NNGP and NTK kernels (Sigma, K) of a deep network;
- :mod:`ntkbook.mlp` -- the fully connected network in NTK parameterization (``init``, ``apply``);
- :func:`ntkbook.ntk.empirical_ntk` -- the empirical NTK of any ``apply(params, x)``;
- :mod:`ntkbook.linearized` -- linearized networks and closed-form MSE training dynamics;
- the basics the book builds on: :mod:`ntkbook.jacobians`, :mod:`ntkbook.odes`, :mod:`ntkbook.clt`,
  :mod:`ntkbook.taylor`, :mod:`ntkbook.kernels`, :mod:`ntkbook.gp`, and :mod:`ntkbook.nngp`,
  :mod:`ntkbook.infinite_ntk`, :mod:`ntkbook.lazy`, :mod:`ntkbook.tiling`.

Apart from it: ``ntkbook.chapters`` (each chapter's data, studies and claims) and
``ntkbook.claims`` (the checks, the registry, the ledger; ``python -m ntkbook verify`` runs every
claim). Those need the ``book`` extra (sympy, scipy); the library does not.
"""

from __future__ import annotations

from . import activations, jacobians, mlp, ntk
from .infinite_ntk import infinite_width_kernels

__version__ = "0.1.0"

__all__ = [
    "activations",
    "infinite_width_kernels",
    "jacobians",
    "mlp",
    "ntk",
]
