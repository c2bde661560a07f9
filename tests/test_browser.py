"""Open every page of the built book in a real headless Chromium, with no network.

For each page in the table of contents: HTTP 200; every equation typeset by MathJax 3 (no
``mjx-merror``, no undefined macro shown in red, no raw TeX left in the text); every image
loaded; no math written as plain text (``K^(1)``, ``||Δθ||``: :mod:`ntkbook.claims.mathtext`); no console error and no failed or off-machine request; internal links resolve; every check
(``.ntkbook-check``) collapsed and at most 60 px tall at 1280 px; at a phone's 390 px nothing widens
the page (wide equations and tables scroll inside their own box, book/_static/ntkbook.css). A separate
one-page book stores a check whose text has ``$...$`` math and shows that MathJax typesets it. With
``NTKBOOK_SCREENSHOTS=1`` a full-page screenshot of each page goes to ``_build/screenshots/``.

Uses Debian's Chromium through Playwright's ``executable_path`` (``playwright install`` cannot
download a browser here). Without Chromium the test is skipped with a message saying what to install.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
import urllib.parse
import urllib.request

import pytest
from test_book_build import repository_path

from ntkbook.claims.mathtext import untypeset_math

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def toc_pages(root) -> list[str]:
    return re.findall(r"(?:file|root):\s*(\S+)", (root / "_toc.yml").read_text())


@pytest.fixture(scope="module")
def server(built_book, project_root):
    assert built_book.returncode == 0, built_book.log[-3000:]
    html = project_root / "_build" / "html"

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(html)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    exe = find_chromium()
    if exe is None:
        pytest.skip(
            "browser test skipped: no Chromium found. Install it (Debian/Ubuntu: `sudo apt-get install chromium`) to run it."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


# Text of the page outside code, where raw TeX would show if MathJax missed it.
PROSE_TEXT_JS = """() => {
  const main = document.querySelector('main') || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, mjx-container, script, style, .cell_input, .highlight').forEach(e => e.remove());
  return clone.innerText;
}"""

# The text a reader reads as prose: also without the source's verbatim quotes (block quotes: its words, as
# written) and API signatures (code); checks' details included. ntkbook.claims.mathtext finds math in it
# that is written as plain text.
READER_TEXT_JS = PROSE_TEXT_JS.replace(".highlight'", ".highlight, blockquote, .sig'")

RED_TEXT_JS = """() => Array.from(document.querySelectorAll('mjx-container mjx-mtext, mjx-container mjx-mi'))
  .filter(e => { const c = getComputedStyle(e).color; return c === 'rgb(255, 0, 0)' || c === 'red'; })
  .map(e => e.textContent)"""

BROKEN_IMAGES_JS = (
    """() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"""
)

LINKS_JS = """() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"""

# A check (CheckResult._repr_html_) is one line when collapsed: its height at 1280 px, and whether MathJax
# typeset what it holds.
CHECK_MAX_HEIGHT_PX = 60
CHECKS_JS = """() => Array.from(document.querySelectorAll('.ntkbook-check')).map(e => ({
  height: e.getBoundingClientRect().height, open: e.open === true,
  math: e.querySelectorAll('mjx-container').length, text: e.innerText.slice(0, 100)}))"""

# Horizontal overflow at a phone's width: the document wider than the window, and what sticks out.
PHONE = {"width": 390, "height": 844}
OVERFLOW_JS = """() => {
  const doc = document.documentElement, w = doc.clientWidth;
  const out = [];
  for (const e of document.querySelectorAll('main *')) {
    const r = e.getBoundingClientRect();
    if (!(r.width > 0 && r.right > w + 1) || e.closest('mjx-assistive-mml')) continue;  // (MathJax's clipped copy)
    let fine = false;  // off-canvas (a fixed drawer, hidden), or inside a box that scrolls on its own
    for (let p = e; p && p !== doc; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (s.position === 'fixed' || s.visibility === 'hidden' || s.display === 'none') { fine = true; break; }
      if (p !== e && (s.overflowX === 'auto' || s.overflowX === 'scroll') && p.getBoundingClientRect().right <= w + 1) {
        fine = true; break;
      }
    }
    if (!fine) out.push(`${e.tagName.toLowerCase()}.${e.className}`.slice(0, 60) + ` right=${Math.round(r.right)}: ` +
      (e.textContent || '').trim().slice(0, 60));
  }
  return {scrollWidth: doc.scrollWidth, clientWidth: w, bodyScroll: document.body.scrollWidth, offenders: out.slice(0, 5)};
}"""

# The launch buttons (Binder, Colab) as the reader's browser resolves them.
LAUNCH_JS = """() => Array.from(document.querySelectorAll('.dropdown-launch-buttons a[href]')).map(a => a.href)"""


def check_page(browser, base, path, project_root):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console_errors, failed, offsite = [], [], []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))

    def route(r):
        if urllib.parse.urlsplit(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            offsite.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    resp = page.goto(f"{base}/{path}.html", wait_until="load")
    problems = []
    if resp is None or resp.status != 200:
        problems.append(f"status {None if resp is None else resp.status}")
    # Sphinx includes MathJax only on pages that have math.
    if page.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')"):
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
        page.evaluate("() => MathJax.startup.promise")
    n_math = page.locator("mjx-container").count()
    if page.locator("mjx-merror").count():
        problems.append(
            f"{page.locator('mjx-merror').count()} MathJax errors: {page.locator('mjx-merror').first.text_content()!r}"
        )
    red = page.evaluate(RED_TEXT_JS)
    if red:
        problems.append(f"undefined TeX macros rendered in red: {red[:5]}")
    prose = page.evaluate(PROSE_TEXT_JS)
    for raw in ("$$", "\\(", "\\[", "\\begin{", "\\frac"):
        if raw in prose:
            i = prose.index(raw)
            problems.append(f"raw TeX {raw!r} left in the text: ...{prose[max(0, i - 60) : i + 60]!r}...")
    dollar = re.search(r"\$[^$\n]{0,80}?\\[A-Za-z]+", prose)  # "$\sum_i ..." that MyST did not read as math
    if dollar:
        i = dollar.start()
        problems.append(f"untypeset math left in the text: ...{prose[max(0, i - 60) : i + 80]!r}...")
    untypeset = untypeset_math(page.evaluate(READER_TEXT_JS))
    if untypeset:
        problems.append(f"{len(untypeset)} fragments of math as plain text, e.g. {untypeset[:4]}")
    for check in page.evaluate(CHECKS_JS):
        if check["open"] or check["height"] > CHECK_MAX_HEIGHT_PX:
            problems.append(f"a check is {check['height']:.0f} px tall (open: {check['open']}): {check['text']!r}")
    problems += phone_overflow(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")
    broken = page.evaluate(BROKEN_IMAGES_JS)
    if broken:
        problems.append(f"images not loaded: {broken}")
    if console_errors:
        problems.append(f"console errors: {console_errors[:5]}")
    if failed:
        problems.append(f"failed requests: {failed[:5]}")
    if offsite:
        problems.append(f"requests off this machine: {sorted(set(offsite))[:5]}")
    links = [h for h in page.evaluate(LINKS_JS) if h.startswith(base)]
    # Each launch link opens the page's own notebook in the repository (download links are internal
    # links: check_internal_links fetches them).
    for href in page.evaluate(LAUNCH_JS):
        opened = repository_path(href, project_root)
        if opened is None or not (project_root / opened).is_file() or opened != f"{path}.ipynb":
            problems.append(f"launch link does not open {path}.ipynb of the repository: {href}")
    if os.environ.get("NTKBOOK_SCREENSHOTS"):  # opt in: a full-page PNG of a long chapter takes seconds
        shots = project_root / "_build" / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"{path.replace('/', '_')}.png"), full_page=True)
    context.close()
    return problems, links, n_math


def phone_overflow(page) -> list[str]:
    """At 390 px nothing widens the page: the document scrolls only vertically; a wide equation or table
    scrolls inside its own box."""
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(200)
    got = page.evaluate(OVERFLOW_JS)
    if max(got["scrollWidth"], got["bodyScroll"]) > got["clientWidth"] or got["offenders"]:
        return [f"horizontal overflow at {PHONE['width']} px: {got}"]
    return []


def check_internal_links(links, base):
    problems = []
    pages: dict[str, str] = {}
    for href in sorted(set(links)):
        url, _, frag = href.partition("#")
        if url not in pages:
            try:
                with urllib.request.urlopen(url, timeout=10) as r:
                    pages[url] = r.read().decode("utf-8", "replace") if r.status == 200 else ""
            except Exception as exc:  # noqa: BLE001 - report any failure as a broken link
                pages[url] = ""
                problems.append(f"broken link {href}: {exc}")
                continue
        if frag and url.endswith(".html") and f'id="{frag}"' not in pages[url]:
            problems.append(f"link to a missing anchor: {href}")
    return problems


def test_every_page_renders_with_typeset_math_and_no_network(browser, server, project_root):
    pages = toc_pages(project_root)
    report, all_links, math_counts = {}, [], {}
    for path in pages:
        problems, links, n_math = check_page(browser, server, path, project_root)
        math_counts[path] = n_math
        all_links += links
        if problems:
            report[path] = problems
    link_problems = check_internal_links(all_links, server)
    if link_problems:
        report["internal links"] = link_problems[:20]
    assert not report, "\n".join(f"{k}:\n  " + "\n  ".join(v) for k, v in report.items())
    # The chapters with mathematics must actually show typeset equations.
    assert math_counts["book/01-jacobians"] > 10, math_counts


# --------------------------------------------------------------------------- a check with math, end to end


def _check_book(root, project_root):
    """A one-page book with the project's configuration whose notebook stores a check with $...$ math."""
    import json
    import shutil

    from ntkbook import claims
    from ntkbook.claims._registry import Results

    for name in ("_config.yml", "references.bib"):
        shutil.copy(project_root / name, root / name)
    shutil.copytree(project_root / "_ext", root / "_ext", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(project_root / "book" / "_static", root / "book" / "_static")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/check\n")
    results = Results(
        [
            claims.check_close("$x^2$ vs $x \\cdot x$ at 3 points", [1.0, 4.0], [1.0, 4.0], atol=claims.rounding()),
            claims.check_close("$\\lVert v \\rVert^2 = \\sum_i v_i^2$ > 0", 2.0, 2.0, atol=0.5),
        ]
    )
    bundle = {"text/plain": repr(results), "text/html": results._repr_html_()}
    cells = [
        {"cell_type": "markdown", "id": "a", "metadata": {}, "source": ["# Checks\n", "\n", "A square, $y = x^2$."]},
        {
            "cell_type": "code",
            "id": "b",
            "metadata": {},
            "execution_count": 1,
            "source": ["results"],
            "outputs": [{"output_type": "execute_result", "execution_count": 1, "data": bundle, "metadata": {}}],
        },
    ]
    meta = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}
    nb = {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}
    (root / "book" / "check.ipynb").write_text(json.dumps(nb))


def test_a_check_with_math_is_one_line_and_typeset(browser, project_root, tmp_path):
    import pathlib
    import subprocess
    import sys

    _check_book(tmp_path, project_root)
    jb = pathlib.Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.run([str(jb), "build", str(tmp_path), "-W", "-n"], capture_output=True, text=True)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    html = tmp_path / "_build" / "html"

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(html)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.route("**/*", lambda r: r.continue_() if "127.0.0.1" in r.request.url else r.abort())
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/book/check.html", wait_until="load")
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
        page.evaluate("() => MathJax.startup.promise")
        checks = page.evaluate(CHECKS_JS)
        assert len(checks) == 2, checks
        assert all(c["math"] >= 1 and not c["open"] for c in checks), checks  # $...$ typeset by MathJax
        assert all(c["height"] <= CHECK_MAX_HEIGHT_PX for c in checks), checks
        assert page.locator("mjx-merror").count() == 0
        prose = page.evaluate(PROSE_TEXT_JS)
        assert "\\(" not in prose and "$" not in prose, prose
        summary = page.locator(".ntkbook-check summary").first.inner_text()
        assert summary.lstrip("▸ \n").startswith("PASS") and "error ≤ tol" in summary, summary
        assert phone_overflow(page) == []
        context.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
