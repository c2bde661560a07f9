"""The chapters of the book, apart from the library.

Each module holds one chapter's data, seeded studies and **claims** (zero-argument checks registered
with :func:`ntkbook.claims.claim`), and imports the library (``ntkbook.<concept>``) for everything
reusable; the library never imports a chapter. The notebook ``book/NN-name.ipynb`` imports its
chapter module as ``ch`` and narrates it.

:data:`CHAPTERS` lists them in reading order; :func:`import_all` imports them, which registers
their claims (the registry imports this package, never the package face ``ntkbook``).
"""

from __future__ import annotations

import importlib

CHAPTERS = (
    "c01_jacobians",
    "c02_odes",
    "c03_clt",
    "c04_taylor",
    "c05_kernels",
    "c06_gaussian_processes",
    "c07_notation",
    "c08_ntk",
    "c09_nngp",
    "c10_deterministic_ntk",
    "c11_linearized_models",
    "c12_lazy_training",
)

__all__ = ["CHAPTERS", "import_all"]


def import_all() -> None:
    """Import every chapter module, so that its claims register themselves."""
    for name in CHAPTERS:
        importlib.import_module(f"{__name__}.{name}")
