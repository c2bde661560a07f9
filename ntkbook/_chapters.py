"""Import every chapter module of the package so that its claims register themselves.

Chapter modules are the public submodules of ``ntkbook`` (names not starting with ``_``)
other than the framework modules listed in ``_NOT_CHAPTERS``. Discovering them, rather than
listing them here, lets a new chapter register its claims by existing.
"""

from __future__ import annotations

import importlib
import pkgutil

_NOT_CHAPTERS = {"activations", "claims", "notebook", "ledger", "validate", "plotting", "tiling", "chapters"}


def chapter_modules() -> list[str]:
    import ntkbook

    names = [m.name for m in pkgutil.iter_modules(ntkbook.__path__) if not m.name.startswith("_")]
    return sorted(n for n in names if n not in _NOT_CHAPTERS)


def import_all() -> None:
    # While the chapters move out of the library (ntkbook.chapters), claims live in both places.
    for name in chapter_modules():
        importlib.import_module(f"ntkbook.{name}")
    from . import chapters

    for name in chapters.CHAPTERS:
        try:
            importlib.import_module(f"ntkbook.chapters.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"ntkbook.chapters.{name}":
                raise
