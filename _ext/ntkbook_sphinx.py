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
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
