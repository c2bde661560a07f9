"""The book builds with no warnings (-W -n) and every chapter of _toc.yml produces a page."""

import re

import pytest

pytestmark = pytest.mark.build


def toc_files(root):
    return re.findall(r"(?:file|root):\s*(\S+)", (root / "_toc.yml").read_text())


def test_build_has_no_warnings(built_book):
    assert built_book.returncode == 0, built_book.log[-4000:]
    warnings = [line for line in built_book.log.splitlines() if "WARNING" in line or "ERROR" in line]
    assert not warnings, "\n".join(warnings[:20])


def test_every_toc_entry_has_a_page(built_book, project_root):
    html = project_root / "_build" / "html"
    missing = [f for f in toc_files(project_root) if not (html / f"{f}.html").is_file()]
    assert not missing, f"no page built for {missing}"


def test_math_is_served_locally(built_book, project_root):
    html = project_root / "_build" / "html"
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    page = (html / "book" / "01-jacobians.html").read_text()
    assert "mathjax/tex-chtml.js" in page and "cdn.jsdelivr" not in page


def test_thebe_configuration_is_included_once(built_book, project_root):
    page = (project_root / "_build" / "html" / "book" / "intro.html").read_text()
    assert page.count("const THEBE_JS_URL") <= 1
