"""Open every page of the built book in a real headless Chromium, with no network.

For each page in the table of contents: HTTP 200; every equation typeset by MathJax 3 (no
``mjx-merror``, no undefined macro shown in red, no raw TeX left in the text); every image
loaded; no console error and no failed or off-machine request; internal links resolve. A
full-page screenshot of each page goes to ``_build/screenshots/``.

Uses Debian's Chromium through Playwright's ``executable_path`` (``playwright install`` cannot
download a browser here). Without Chromium the test is skipped with a message saying what to install.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
import urllib.parse
import urllib.request

import pytest

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

RED_TEXT_JS = """() => Array.from(document.querySelectorAll('mjx-container mjx-mtext, mjx-container mjx-mi'))
  .filter(e => { const c = getComputedStyle(e).color; return c === 'rgb(255, 0, 0)' || c === 'red'; })
  .map(e => e.textContent)"""

BROKEN_IMAGES_JS = (
    """() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"""
)

LINKS_JS = """() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"""


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
    shots = project_root / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{path.replace('/', '_')}.png"), full_page=True)
    context.close()
    return problems, links, n_math


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
