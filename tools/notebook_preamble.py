"""Make every chapter self-sufficient in a notebook client (JupyterLab, Binder, Colab, a download).

Idempotent: applying it twice gives the same notebook. For each ``book/*.ipynb`` it

1. puts a **macros cell** first: a markdown cell, tagged ``remove-cell`` (the HTML build has the macros
   from ``_config.yml`` and drops the cell), holding the book's TeX macros twice:

   * as MyST frontmatter ``math:`` -- jupyterlab-myst (``make lab``, Binder) renders math with KaTeX and
     takes macros only from the frontmatter of the notebook's first markdown cell (KaTeX's own ``\\N`` is
     the blackboard ℕ; the frontmatter macro overrides it with 𝒩);
   * as ``$\\def\\vx{\\mathbf{x}}...$`` -- MathJax clients (Colab, JupyterLab without jupyterlab-myst,
     classic Notebook) keep macros defined in one cell for all later cells. ``\\def`` rather than
     ``\\newcommand``: KaTeX refuses ``\\newcommand`` on its built-in ``\\N``;

2. puts an **install cell** first among the code cells, tagged ``remove-cell``: it installs the package
   from the repository when it is missing (Colab, a fresh environment) and is silent when it is present;

3. writes the notebook metadata exactly as JupyterLab does (kernelspec display name
   "Python 3 (ipykernel)"), so opening a chapter does not mark it modified, and drops volatile cell
   metadata (nbclient's execution timestamps).

Usage: ``python tools/notebook_preamble.py [--check] [NOTEBOOK ...]`` (default: every ``book/*.ipynb``).
With ``--check`` nothing is written; the exit status is 1 when a notebook is not as this script makes it.
Adding cells shifts the execution counts: re-execute the changed notebooks (``make execute NB=...``).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import nbformat
import yaml

from ntkbook.notebook import normalize_metadata

ROOT = pathlib.Path(__file__).resolve().parents[1]

MACROS_CELL_ID = "ntkbook-macros"
INSTALL_CELL_ID = "ntkbook-install"
HIDDEN = ["remove-cell"]


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def macros(cfg: dict | None = None) -> dict[str, str]:
    """The book's TeX macros, ``{"vx": "\\\\mathbf{x}", ...}``, from ``_config.yml``'s ``mathjax3_config``."""
    cfg = cfg or config()
    return dict(cfg["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"])


def repository_url(cfg: dict | None = None) -> str:
    cfg = cfg or config()
    return cfg["repository"]["url"].rstrip("/")


def macros_source(m: dict[str, str]) -> str:
    front = "\n".join(f"  '\\{name}': '{body}'" for name, body in sorted(m.items()))
    defs = "".join(f"\\def\\{name}{{{body}}}" for name, body in sorted(m.items()))
    return f"---\nmath:\n{front}\n---\n${defs}$"


def install_source(url: str) -> str:
    return (
        "# Colab or a fresh environment: install the ntkbook package if it is missing (silent where it is installed).\n"
        "try:\n"
        "    import ntkbook\n"
        "except ImportError:\n"
        f'    %pip install -q "ntkbook[notebooks] @ git+{url}"'
    )


def _find(nb, cell_id):
    return next((i for i, c in enumerate(nb.cells) if c.get("id") == cell_id), None)


def apply(nb, m: dict[str, str], url: str):
    """Bring one notebook (an nbformat node, version 4.5) to the preamble and metadata above, in place."""
    # 1. the macros cell, first
    src = macros_source(m)
    i = _find(nb, MACROS_CELL_ID)
    cell = nb.cells.pop(i) if i is not None else nbformat.v4.new_markdown_cell(id=MACROS_CELL_ID)
    cell.source = src
    cell.metadata = {"tags": list(HIDDEN)}
    cell.pop("attachments", None)
    nb.cells.insert(0, cell)
    # 2. the install cell, first among the code cells
    i = _find(nb, INSTALL_CELL_ID)
    if i is not None:
        cell = nb.cells.pop(i)
    else:
        cell = nbformat.v4.new_code_cell(id=INSTALL_CELL_ID)
    cell.source = install_source(url)
    cell.metadata = {"tags": list(HIDDEN)}
    cell.outputs = []  # prints nothing where the package is installed, as when the book is executed
    first_code = next((k for k, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    nb.cells.insert(first_code, cell)
    # 3. metadata as JupyterLab writes it, nothing volatile
    normalize_metadata(nb)
    return nb


def as_jupyterlab_writes(nb) -> str:
    """The text JupyterLab (jupyter_server's contents manager: nbformat.writes) saves."""
    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/notebook_preamble.py", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a notebook would change")
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    cfg = config()
    m, url = macros(cfg), repository_url(cfg)
    changed = []
    for path in paths:
        before = path.read_text()
        nb = nbformat.reads(before, as_version=4)
        after = as_jupyterlab_writes(apply(nb, m, url))
        if after != before:
            changed.append(path)
            if not args.check:
                path.write_text(after)
    verb = "would change" if args.check else "changed"
    for p in changed:
        print(f"{verb}: {p}")
    print(json.dumps({"notebooks": len(paths), verb.replace(" ", "_"): len(changed)}))
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
