"""Tag the plotting cells of the chapters ``hide-input``: the reader sees the figure, not the plotting code.

A code cell whose outputs are only figures (every output a display or result carrying ``image/png``, no
text printed) gets the tag ``hide-input``; the rendered book then shows the figure with the code folded
away. Idempotent, and it touches nothing else: tags are metadata, which nbval does not compare, so no
re-execution is needed; the file is written as nbformat writes it (``tests/test_notebook_hygiene.py``).

Usage: ``python tools/hide_plot_inputs.py [--check] [NOTEBOOK ...]`` (default: every ``book/*.ipynb``).
With ``--check`` nothing is written; the exit status is 1 when a figure-only cell is not tagged.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
TAG = "hide-input"


def figure_only(cell) -> bool:
    """A code cell whose outputs are all figures (``image/png``), and there is at least one."""
    outputs = cell.get("outputs", []) if cell.get("cell_type") == "code" else []
    return bool(outputs) and all(
        o.get("output_type") in ("display_data", "execute_result") and "image/png" in o.get("data", {}) for o in outputs
    )


def untagged(nb) -> list[int]:
    """Indices of the figure-only cells of ``nb`` that lack the tag."""
    return [i for i, c in enumerate(nb.cells) if figure_only(c) and TAG not in c.metadata.get("tags", [])]


def apply(nb):
    """Tag every figure-only cell ``hide-input``, in place; returns ``nb``."""
    for i in untagged(nb):
        nb.cells[i].metadata["tags"] = [*nb.cells[i].metadata.get("tags", []), TAG]
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a cell needs the tag")
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    status = 0
    for path in paths:
        text = path.read_text()
        nb = nbformat.reads(text, as_version=4)
        missing = untagged(nb)
        if not missing:
            continue
        if args.check:
            print(f"{path}: figure-only cells without {TAG}: {missing}")
            status = 1
            continue
        path.write_text(nbformat.writes(apply(nb)) + "\n")
        print(f"{path}: tagged {len(missing)} cells {TAG}")
    return status


if __name__ == "__main__":
    sys.exit(main())
