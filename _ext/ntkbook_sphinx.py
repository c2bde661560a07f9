"""Local Sphinx extension for the ntkbook book.

* Stock Jupyter Book 1.0.4 pages include sphinx-thebe's inline configuration script twice, which
  logs "Identifier 'THEBE_JS_URL' has already been declared" in the browser console. Drop exact
  duplicate script tags from every page.
* The chapters (``book/*.ipynb``) store their citations as readable links, so that JupyterLab and
  Colab show author--year text (tools/notebook_preamble.py): ``[Jacot et al. (2018)](#cite:t:jacot2018ntk)``.
  Before a notebook is parsed, each such link becomes again the sphinxcontrib-bibtex role it records,
  ``{cite:t}`jacot2018ntk```: the book's citations and bibliography are those of the roles.
"""

from __future__ import annotations

import json
import re

from sphinx.util import logging

logger = logging.getLogger(__name__)

# tools/notebook_preamble.py's CITE_LINK: "[<readable text>](#cite:<kind>:<key>,<key>...)"
CITE_LINK = re.compile(r"\[(?:\\.|[^\[\]\\\n])*\]\(#cite:(?P<kind>[a-z]+):(?P<keys>[^()\s]*)\)")


def citation_roles(markdown: str) -> str:
    """Markdown with every citation link of tools/notebook_preamble.py as the role it records."""
    return CITE_LINK.sub(lambda m: f"{{cite:{m['kind']}}}`{m['keys']}`", markdown)


def _citation_links_to_roles(app, docname, source):
    if not str(app.env.doc2path(docname)).endswith(".ipynb") or "#cite:" not in source[0]:
        return
    nb = json.loads(source[0])
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "markdown":
            continue
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell["source"] = citation_roles(text)
        if "#cite:" in cell["source"]:
            logger.warning(
                f"cell {i}: a citation link not of the form [text](#cite:<kind>:<keys>); "
                "run tools/notebook_preamble.py on it",
                location=docname,
            )
    source[0] = json.dumps(nb, ensure_ascii=False)


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for js in scripts:
        # Compare what is emitted (file and attributes), not the priority it was added with;
        # inline scripts have filename None or "" depending on who added them.
        key = (str(getattr(js, "filename", js) or ""), tuple(sorted(getattr(js, "attributes", {}).items())))
        if key in seen:
            continue
        seen.add(key)
        unique.append(js)
    scripts[:] = unique


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=999)
    app.connect("source-read", _citation_links_to_roles)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
