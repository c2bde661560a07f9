"""Local Sphinx extension for the ntkbook book.

Stock Jupyter Book 1.0.4 pages include sphinx-thebe's inline configuration script twice, which
logs "Identifier 'THEBE_JS_URL' has already been declared" in the browser console. Drop exact
duplicate script tags from every page.
"""

from __future__ import annotations


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for js in scripts:
        key = (str(js), getattr(js, "attributes", {}).get("body", ""))
        if key in seen:
            continue
        seen.add(key)
        unique.append(js)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
