"""Open every chapter in JupyterLab (with jupyterlab-myst, as ``make lab`` and Binder do) in a real headless Chromium.

One JupyterLab server, on a copy of ``book/`` (its autosave must not touch the repository), serves every chapter;
for each the test asserts what a reader sees:

* every equation typeset (KaTeX, by jupyterlab-myst): no "Undefined control sequence" (the book's macros are
  defined inside each notebook, see ``tools/notebook_preamble.py``), no KaTeX error, no raw ``$$``, ``\\begin{``
  or ``\\frac`` left in the rendered text, and ``\\N`` rendered as 𝒩 (KaTeX's own ``\\N`` is ℕ);
* every citation readable: shown as the author--year link that ``tools/notebook_preamble.py`` stores (its text, in
  source order), and no bare citation key, no ``{cite}`` role and no "Citation Not Found" (jupyterlab-myst 2.7 cannot
  resolve roles: it has no bibliography) anywhere in the rendered markdown;
* every stored output displayed (each code cell that stores outputs shows them, every stored PNG loaded);
* the notebook not marked modified once it is connected to a kernel (the stored kernelspec and metadata are
  what JupyterLab writes), and the file on disk unchanged at the end;
* in the first chapter, its first code cells run in the kernel and reproduce the stored output.

Needs Chromium (skipped with a message otherwise, as the browser test) and JupyterLab with jupyterlab-myst
(the ``lab`` extra). One kernel serves every chapter (each notebook's session connects to it), so the whole test
takes about a minute.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from test_browser import CHROMIUM_ARGS, find_chromium

pytestmark = pytest.mark.browser

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from notebook_preamble import CITE_LINK, CITE_ROLE, MACROS_CELL_ID, bibliography  # noqa: E402

BOOK = ROOT / "book"
CHAPTERS = sorted(p.name for p in BOOK.glob("*.ipynb"))
TOKEN = "ntkbook-test"

# JupyterLab settings for the test: every cell rendered (not only those in view), no news or update pop-ups.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    jupyter = pathlib.Path(sys.executable).parent / "jupyter"
    try:
        import jupyterlab  # noqa: F401
        import jupyterlab_myst  # noqa: F401
    except ImportError:
        pytest.skip("JupyterLab test skipped: install the lab extra (pip install -e '.[lab]')")
    tmp = tmp_path_factory.mktemp("lab")
    book = tmp / "book"
    shutil.copytree(BOOK, book, ignore=shutil.ignore_patterns(".ipynb_checkpoints", ".peak-memory-*"))
    for name, value in SETTINGS.items():
        f = tmp / "settings" / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(value))
    port = _free_port()
    cmd = [
        str(jupyter),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.token={TOKEN}",
        f"--ServerApp.root_dir={book}",
        f"--LabApp.user_settings_dir={tmp / 'settings'}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    env = dict(os.environ, JAX_PLATFORMS="cpu", JUPYTER_CONFIG_DIR=str(tmp / "config"))
    log = (tmp / "lab.log").open("w")
    proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"JupyterLab did not start:\n{(tmp / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.2)
    yield base, book
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def lab_page(lab):
    exe = find_chromium()
    if exe is None:
        pytest.skip(
            "JupyterLab test skipped: no Chromium found. Install it (Debian/Ubuntu: `sudo apt-get install chromium`)."
        )
    from playwright.sync_api import sync_playwright

    base, book = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/lab?token={TOKEN}")
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=60000)
        page.evaluate("() => window.jupyterapp.restored")
        yield page, book, errors
        browser.close()


# Open a notebook, wait for its kernel and for jupyterlab-myst to render every markdown cell, then report.
# With `kernelId`, the notebook's session connects to that running kernel (JupyterLab still writes the kernel's
# spec and language_info into the notebook's metadata, as with a kernel of its own): one kernel start in all.
OPEN_JS = """async ([path, kernelId]) => {
  const app = window.jupyterapp;
  const t0 = performance.now();
  const times = {};
  const args = {path, factory: 'Notebook'};
  if (kernelId) args.kernel = {id: kernelId};
  const panel = await app.commands.execute('docmanager:open', args);
  await panel.context.ready;
  times.loaded = performance.now() - t0;
  await panel.sessionContext.ready;
  times.session = performance.now() - t0;
  const node = panel.node;
  // A rendered markdown cell: jupyterlab-myst's widget (.myst), or JupyterLab's own renderer.
  const MARKDOWN = '.jp-MarkdownCell .myst, .jp-MarkdownCell .jp-RenderedMarkdown';
  const deadline = Date.now() + 30000;
  let last = -1, stable = 0;
  // Rendered: every markdown cell with math shows typeset math (or a KaTeX error), and nothing changes for a while.
  const mathCells = () => panel.content.widgets.filter(c => c.model.type === 'markdown' && /\\$/.test(c.model.sharedModel.getSource()));
  const untypeset = () => mathCells().filter(c => !c.node.querySelector('.katex, .katex-error'));
  while (Date.now() < deadline) {
    const rendered = untypeset().length === 0;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const idle = kernel && kernel.status === 'idle';
    const n = node.querySelectorAll('.katex').length;
    stable = (rendered && idle && n === last) ? stable + 1 : 0;
    last = n;
    if (stable >= 3) break;
    await new Promise(r => setTimeout(r, 150));
  }
  // The kernel's info (language_info) is what JupyterLab writes into the metadata once it is connected.
  await panel.sessionContext.session.kernel.info;
  times.settled = performance.now() - t0;
  const prose = Array.from(node.querySelectorAll(`${MARKDOWN}, .jp-OutputArea-output`))
    .map(e => { const c = e.cloneNode(true);
                c.querySelectorAll('pre, code, .katex, mjx-container, script, style').forEach(x => x.remove());
                return c.innerText; }).join('\\n');
  const codeCells = panel.content.widgets.filter(c => c.model.type === 'code');
  const rendered = Array.from(node.querySelectorAll(MARKDOWN)).filter((e, _, all) => !all.some(o => o !== e && o.contains(e)));
  return {
    markdownText: rendered.map(e => e.innerText).join('\\n'),
    citeLinks: rendered.flatMap(e => Array.from(e.querySelectorAll('a[href^="#cite:"]')))
      .map(a => [a.getAttribute('href'), a.innerText]),
    citeNotFound: node.querySelectorAll('[title="Citation Not Found"]').length,
    dirty: panel.context.model.dirty,
    text: node.innerText,
    prose,
    katex: node.querySelectorAll('.katex').length,
    mathCells: mathCells().length,
    untypeset: untypeset().map(c => c.model.sharedModel.getSource().slice(0, 80)),
    katexErrors: Array.from(node.querySelectorAll('.katex-error')).map(e => e.getAttribute('title') || e.textContent),
    calN: Array.from(node.querySelectorAll('.katex .mathcal')).filter(e => e.textContent === 'N').length,
    bbN: Array.from(node.querySelectorAll('.katex .mathbb')).filter(e => e.textContent === 'N').length,
    shownOutputs: codeCells.map(c => c.node.querySelectorAll('.jp-OutputArea-output').length),
    images: Array.from(node.querySelectorAll('.jp-OutputArea-output img')).map(i => i.complete && i.naturalWidth > 0),
    kernel: panel.sessionContext.kernelDisplayName,
    kernelId: panel.sessionContext.session.kernel.id,
    times,
  };
}"""

# Close the notebook without saving it; its kernel keeps running for the next chapter.
CLOSE_JS = """async () => { window.jupyterapp.shell.currentWidget.dispose(); }"""

# Run the first `n` code cells of the open notebook in its kernel, as a reader does (Shift+Enter).
RUN_JS = """async (n) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  const nb = panel.content;
  const codeIdx = nb.widgets.map((c, i) => [c, i]).filter(([c]) => c.model.type === 'code').map(([, i]) => i);
  const results = [];
  for (const i of codeIdx.slice(0, n)) {
    nb.activeCellIndex = i;
    await app.commands.execute('notebook:run-cell');
    const cell = nb.widgets[i];
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline && (cell.model.executionCount === null || cell.promptNode.textContent.includes('*'))) {
      await new Promise(r => setTimeout(r, 100));
    }
    const outs = [];
    for (let k = 0; k < cell.model.outputs.length; k++) outs.push(cell.model.outputs.get(k).toJSON());
    results.push({count: cell.model.executionCount, outputs: outs});
  }
  return results;
}"""


def stored_outputs(path: pathlib.Path) -> list[list[dict]]:
    nb = json.loads(path.read_text())
    return [c.get("outputs", []) for c in nb["cells"] if c["cell_type"] == "code"]


BIB_KEYS = sorted(bibliography())


def citation_problems(info: dict, cells: list[dict]) -> list[str]:
    """Every citation shown as its readable link, no bare key, no role (see the module's docstring)."""
    problems = []
    markdown = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown" and c.get("id") != MACROS_CELL_ID]
    roles = [m[0] for src in markdown for m in CITE_ROLE.finditer(src)]
    if roles:
        problems.append(f"citation roles stored, not readable links (run tools/notebook_preamble.py): {roles[:3]}")
    unescape = lambda t: re.sub(r"\\(.)", r"\1", t)
    want = [
        (f"#cite:{m['kind']}:{m['keys']}", unescape(m[0][1 : m[0].index("](#cite:")]))
        for src in markdown
        for m in CITE_LINK.finditer(src)
    ]
    got = [tuple(x) for x in info["citeLinks"]]
    if got != want:
        missing = [w for w in want if w not in got]
        problems.append(f"{len(want)} citations stored, {len(got)} shown as their link; not shown: {missing[:3]}")
    if info["citeNotFound"]:
        problems.append(f"{info['citeNotFound']} citations shown as a bare key (Citation Not Found)")
    text = info["markdownText"]
    bare = [k for k in BIB_KEYS if re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", text)]
    if bare or "{cite" in text:
        problems.append(f"bare citation keys or {{cite}} roles in the rendered text: {bare[:5]}")
    return problems


def check_chapter(page, book, name, timings, kernel) -> list[str]:
    info = page.evaluate(OPEN_JS, [name, kernel.get("id")])
    kernel["id"] = info["kernelId"]
    timings.update({k: round(v / 1000, 1) for k, v in info["times"].items()})
    problems = []
    if info["kernel"] != "Python 3 (ipykernel)":
        problems.append(f"kernel {info['kernel']!r}")
    if info["dirty"]:
        problems.append("marked modified right after opening (stored metadata differs from what JupyterLab writes)")
    if "Undefined control sequence" in info["text"]:
        i = info["text"].index("Undefined control sequence")
        problems.append(f"undefined TeX macro: {info['text'][i : i + 80]!r}")
    if info["katexErrors"]:
        problems.append(f"{len(info['katexErrors'])} KaTeX errors: {info['katexErrors'][:3]}")
    for raw in ("$$", "\\begin{", "\\frac"):
        if raw in info["prose"]:
            i = info["prose"].index(raw)
            problems.append(f"raw TeX {raw!r} in the rendered text: ...{info['prose'][max(0, i - 60) : i + 60]!r}...")
    if info["untypeset"] or info["katex"] < 5:
        problems.append(
            f"{info['katex']} typeset formulas; {len(info['untypeset'])} of {info['mathCells']} markdown cells"
            f" with math show none: {info['untypeset'][:3]}"
        )
    problems += citation_problems(info, json.loads((book / name).read_text())["cells"])
    cells = json.loads((book / name).read_text())["cells"][1:]  # after the cell that defines the macros
    if (
        any(re.search(r"\\N(?![A-Za-z])", "".join(c["source"])) for c in cells if c["cell_type"] == "markdown")
        and not info["calN"]
    ):
        problems.append("\\N is not rendered as a calligraphic N")
    if info["bbN"]:
        problems.append(f"{info['bbN']} blackboard N (KaTeX's own \\N) rendered")
    stored = stored_outputs(book / name)
    missing = [i + 1 for i, (outs, shown) in enumerate(zip(stored, info["shownOutputs"])) if outs and not shown]
    if len(stored) != len(info["shownOutputs"]) or missing:
        problems.append(f"stored outputs not displayed in code cells {missing} ({len(stored)} code cells)")
    n_png = sum("image/png" in o.get("data", {}) for outs in stored for o in outs)
    if len(info["images"]) < n_png or not all(info["images"]):
        problems.append(f"{n_png} stored figures, {sum(info['images'])} displayed")
    return problems


def test_every_chapter_opens_in_jupyterlab_typeset_unmodified_and_runs(lab_page):
    page, book, errors = lab_page
    originals = {name: (book / name).read_bytes() for name in CHAPTERS}
    report, kernel = {}, {}
    t0 = time.monotonic()
    for name in CHAPTERS:
        t, timings = time.monotonic(), {}
        problems = check_chapter(page, book, name, timings, kernel)
        if name == CHAPTERS[0]:
            # A reader runs the chapter: the install cell (silent: ntkbook is installed), the set-up, and the
            # first cell that shows something, which must show what is stored.
            ran = page.evaluate(RUN_JS, 3)
            stored = stored_outputs(book / name)[:3]
            if [r["count"] for r in ran] != [1, 2, 3]:
                problems.append(f"execution counts {[r['count'] for r in ran]} after running 3 cells")
            for k, (r, outs) in enumerate(zip(ran, stored), 1):
                got = [o.get("data", {}).get("text/plain") or o.get("text") for o in r["outputs"]]
                want = [o.get("data", {}).get("text/plain") or o.get("text") for o in outs]
                norm = lambda xs: ["".join(x) if isinstance(x, list) else x for x in xs]
                if norm(got) != norm(want):
                    problems.append(f"code cell {k} run in JupyterLab shows {norm(got)}, stored {norm(want)}")
            if any(o["output_type"] == "error" for r in ran for o in r["outputs"]):
                problems.append("a cell raised in JupyterLab")
        page.evaluate(CLOSE_JS)
        print(f"{name}: {time.monotonic() - t:.1f} s {timings}")
        if problems:
            report[name] = problems
    changed = [name for name in CHAPTERS if (book / name).read_bytes() != originals[name]]
    if changed:
        report["files"] = [f"rewritten on disk by JupyterLab: {changed}"]
    if errors:
        report["page errors"] = errors[:5]
    assert not report, "\n".join(f"{k}:\n  " + "\n  ".join(v) for k, v in report.items())
    print(f"{len(CHAPTERS)} chapters checked in JupyterLab in {time.monotonic() - t0:.1f} s")
