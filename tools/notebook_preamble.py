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
   from the repository when it is missing (Colab, a fresh environment) and is silent when it is present.
   The environment variable ``NTKBOOK_REQUIREMENT`` replaces what it installs (a fork, a local copy:
   ``ntkbook[notebooks] @ file:///path/to/ntkbook``; tests/test_colab_like.py installs the working tree so);

3. makes the **citations readable** in notebook clients: jupyterlab-myst (2.7) cannot resolve ``{cite:p}``
   roles (it has no bibliography and shows the bare key, flagged "Citation Not Found"), and Colab shows the
   role as raw text. Each role becomes a link whose text is the author--year citation, from the book's
   bibliography (``_config.yml``'s ``bibtex_bibfiles``), and whose target records the role::

       {cite:t}`jacot2018ntk`                 ->  [Jacot et al. (2018)](#cite:t:jacot2018ntk)
       {cite:p}`neal1996priors,lee2018dnngp`  ->  [(Neal, 1996; Lee et al., 2018)](#cite:p:neal1996priors,lee2018dnngp)

   The HTML build turns each such link back into the role it records (``_ext/ntkbook_sphinx.py``, on
   Sphinx's ``source-read``), so the book keeps sphinxcontrib-bibtex's citations and bibliography. Authors
   may go on writing roles: this script converts them, and refreshes the text of existing citation links
   from the bibliography;

4. writes the notebook metadata exactly as JupyterLab does (kernelspec display name
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
import re
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


def bibliography(cfg: dict | None = None) -> dict[str, tuple[list[str], str]]:
    """``{key: (last names of the authors, year)}`` for every entry of the book's bibliography files."""
    from pybtex.database import parse_file

    cfg = cfg or config()
    entries = {}
    for name in cfg.get("bibtex_bibfiles", []):
        for key, entry in parse_file(str(ROOT / name), bib_format="bibtex").entries.items():
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            # "van der Vaart", "Schölkopf": the von part with the last name, LaTeX accents decoded (as
            # sphinxcontrib-bibtex's author_year style writes them)
            names = [" ".join(n.render_as("text") for n in p.rich_prelast_names + p.rich_last_names) for p in people]
            entries[key] = (names, entry.fields.get("year", "n.d."))
    return entries


# A citation role of sphinxcontrib-bibtex as the chapters write it, and the readable link this script makes of
# it. The link's target "#cite:<kind>:<keys>" is what _ext/ntkbook_sphinx.py turns back into the role.
CITE_ROLE = re.compile(r"\{cite(?::(?P<kind>[a-z]+))?\}`(?P<keys>[^`]*)`")
CITE_LINK = re.compile(r"\[(?:\\.|[^\[\]\\\n])*\]\(#cite:(?P<kind>[a-z]+):(?P<keys>[^()\s]*)\)")
CITE_KINDS = ("p", "t", "ps", "ts")  # {cite} is {cite:p} (sphinxcontrib-bibtex)
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]$<>])")


def author_year(names: list[str], year: str, full: bool = False) -> tuple[str, str]:
    """("Jacot et al.", "2018"): one author, two joined by "and", three or more "et al." (all with ``full``)."""
    if full or len(names) <= 2:
        who = " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + ", and " + names[-1]
    else:
        who = f"{names[0]} et al."
    return who, year


def citation_link(kind: str, keys: str, bib: dict[str, tuple[list[str], str]]) -> str:
    """The readable link for one citation role: ``[(Neal, 1996; Lee et al., 2018)](#cite:p:neal1996priors,...)``."""
    kind = kind or "p"
    if kind not in CITE_KINDS:
        raise ValueError(f"{{cite:{kind}}} is not supported in the notebooks (only {', '.join(CITE_KINDS)})")
    parts = [k.strip() for k in keys.split(",")]
    unknown = [k for k in parts if k not in bib]
    if unknown or not parts or not all(parts):
        raise ValueError(f"citation {keys!r}: not in the bibliography: {unknown}")
    cited = [author_year(*bib[k], full=kind.endswith("s")) for k in parts]
    if kind.startswith("p"):
        text = "(" + "; ".join(f"{who}, {year}" for who, year in cited) + ")"
    else:
        text = "; ".join(f"{who} ({year})" for who, year in cited)
    text = MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return f"[{text}](#cite:{kind}:{','.join(parts)})"


def readable_citations(source: str, bib: dict[str, tuple[list[str], str]]) -> str:
    """Markdown with every citation role, and every citation link, as the readable link of its citation."""
    source = CITE_ROLE.sub(lambda m: citation_link(m["kind"], m["keys"], bib), source)
    return CITE_LINK.sub(lambda m: citation_link(m["kind"], m["keys"], bib), source)


def macros_source(m: dict[str, str]) -> str:
    front = "\n".join(f"  '\\{name}': '{body}'" for name, body in sorted(m.items()))
    defs = "".join(f"\\def\\{name}{{{body}}}" for name, body in sorted(m.items()))
    return f"---\nmath:\n{front}\n---\n${defs}$"


# What the install cell installs unless the environment variable names something else.
REQUIREMENT_VARIABLE = "NTKBOOK_REQUIREMENT"


def install_source(url: str) -> str:
    return (
        "# Colab or a fresh environment: install the ntkbook package if it is missing (silent where it is installed).\n"
        f"# {REQUIREMENT_VARIABLE}, if set, replaces what is installed (a fork, a local copy: 'ntkbook[notebooks] @ file:///path').\n"
        "import os\n"
        "\n"
        "try:\n"
        "    import ntkbook\n"
        "except ImportError:\n"
        f"    %pip install -q \"{{os.environ.get('{REQUIREMENT_VARIABLE}', 'ntkbook[notebooks] @ git+{url}')}}\""
    )


def _find(nb, cell_id):
    return next((i for i, c in enumerate(nb.cells) if c.get("id") == cell_id), None)


def apply(nb, m: dict[str, str], url: str, bib: dict[str, tuple[list[str], str]] | None = None):
    """Bring one notebook (an nbformat node, version 4.5) to the preamble, citations and metadata above, in
    place. ``bib``: the bibliography (``bibliography()``; read from ``_config.yml``'s files when omitted)."""
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
    # 3. citations readable outside the HTML build
    bib = bibliography() if bib is None else bib
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.get("id") != MACROS_CELL_ID:
            text = readable_citations(cell.source, bib)
            if text != cell.source:
                cell.source = text
    # 4. metadata as JupyterLab writes it, nothing volatile
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
    m, url, bib = macros(cfg), repository_url(cfg), bibliography(cfg)
    changed = []
    for path in paths:
        before = path.read_text()
        nb = nbformat.reads(before, as_version=4)
        try:
            after = as_jupyterlab_writes(apply(nb, m, url, bib))
        except ValueError as e:
            sys.exit(f"{path}: {e}")
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
