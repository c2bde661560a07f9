"""A chapter in a fresh Colab-like environment, and what Colab's markdown shows.

Colab runs a chapter in its own Python, where jax, numpy, scipy, matplotlib, ipykernel and nbclient are
preinstalled and ntkbook is not. ``test_a_fresh_colab_like_venv_installs_ntkbook_and_runs_a_notebook`` makes such a
venv (those packages at this venv's versions, from pip's cache or the package registry; no ntkbook) and executes a
chapter in it with nbclient, as Colab's "Run all" does: the chapter's first code cell, the guarded install cell of
``tools/notebook_preamble.py``, must install ntkbook -- here from a copy of the working tree, named by the install
cell's environment variable ``NTKBOOK_REQUIREMENT`` (Colab installs from the repository) -- and every later cell
must run and print what the chapter stores. It runs one small chapter (01, about 70 s in all here, most of it pip);
``NTKBOOK_COLAB_CHAPTERS`` names others (``all``: every chapter, several minutes more). Skipped, with the reason,
where the packages cannot be installed (no package registry and an empty pip cache).

``test_colab_markdown_shows_citations_as_author_year_links`` renders every chapter's markdown as CommonMark, as
Colab does (it knows no MyST): each citation shows as its author--year link, no ``{cite}`` role or bare key.
"""

from __future__ import annotations

import functools
import html.parser
import importlib.metadata
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time
import venv

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
sys.path.insert(0, str(ROOT / "tools"))
from notebook_preamble import CITE_LINK, CITE_ROLE, INSTALL_CELL_ID, REQUIREMENT_VARIABLE, bibliography  # noqa: E402

# What Colab preinstalls that matters here; the versions are this venv's (the stored outputs are computed with them).
COLAB_PREINSTALLED = ["jax", "jaxlib", "numpy", "scipy", "matplotlib", "ipykernel", "nbclient"]
DEFAULT_CHAPTERS = ["01-jacobians.ipynb"]

# Executed by the fresh venv's Python: nbclient, the chapter's own kernel (ipykernel in that venv), in a folder of
# its own (nothing of the repository on sys.path), every cell in order; the executed notebook is written back.
RUN = """
import sys, nbformat
from nbclient import NotebookClient
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(nb, path)
"""


def _joined(outputs: list[dict]) -> list[dict]:
    """Consecutive stream outputs of one name joined into one (``ntkbook.notebook.coalesce_streams``)."""
    import nbformat

    from ntkbook.notebook import coalesce_streams

    cell = nbformat.v4.new_code_cell()
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return coalesce_streams(nbformat.v4.new_notebook(cells=[cell])).cells[0].outputs


def chapters() -> list[str]:
    names = os.environ.get("NTKBOOK_COLAB_CHAPTERS", "").split()
    if names == ["all"]:
        return sorted(p.name for p in BOOK.glob("*.ipynb"))
    return names or DEFAULT_CHAPTERS


def _text(output: dict) -> str | None:
    value = output.get("data", {}).get("text/plain") if output["output_type"] != "stream" else output.get("text")
    return "".join(value) if isinstance(value, list) else value


def _seconds(cells: list[dict]) -> float:
    """How long the install cell ran (nbclient's timestamps)."""
    from datetime import datetime

    t = next(c for c in cells if c.get("id") == INSTALL_CELL_ID)["metadata"].get("execution", {})
    if not {"iopub.execute_input", "shell.execute_reply"} <= set(t):
        return float("nan")
    stamp = lambda k: datetime.fromisoformat(t[k].replace("Z", "+00:00"))
    return (stamp("shell.execute_reply") - stamp("iopub.execute_input")).total_seconds()


@pytest.fixture(scope="module")
def colab_venv(tmp_path_factory):
    """A venv with Colab's preinstalled packages and without ntkbook; its python and a clean environment."""
    tmp = tmp_path_factory.mktemp("colab")
    t0 = time.monotonic()
    venv.EnvBuilder(with_pip=True).create(tmp / "venv")
    python = tmp / "venv" / "bin" / "python"
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in COLAB_PREINSTALLED]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", JAX_PLATFORMS="cpu", PYTHONHASHSEED="0")
    # Jupyter's own folders inside the test: no kernelspec of this machine stands in for the venv's ipykernel.
    env.update(JUPYTER_DATA_DIR=str(tmp / "jupyter-data"), JUPYTER_CONFIG_DIR=str(tmp / "jupyter-config"))
    env.update(JUPYTER_PATH=str(tmp / "jupyter-data"), IPYTHONDIR=str(tmp / "ipython"))
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-compile", *pins],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if pip.returncode:
        pytest.skip(f"Colab-like test skipped: could not install {pins} (package registry?):\n{pip.stderr[-1500:]}")
    # (in the test's folder: `python -c` puts the current folder on sys.path, and the repository's is ntkbook's)
    absent = subprocess.run([str(python), "-c", "import ntkbook"], cwd=tmp, env=env, capture_output=True, text=True)
    assert absent.returncode, "ntkbook is importable in the fresh venv before the install cell ran"
    # The working tree as the install cell's source: a copy, so that pip's build writes nothing into the repository.
    src = tmp / "ntkbook-src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "ntkbook", src / "ntkbook", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    env[REQUIREMENT_VARIABLE] = f"ntkbook[notebooks] @ {src.as_uri()}"
    print(f"fresh venv with {pins} in {time.monotonic() - t0:.1f} s")
    yield python, env, tmp
    shutil.rmtree(tmp / "venv", ignore_errors=True)  # 0.8 GB; pytest keeps the last three runs' folders


@pytest.mark.colab
@pytest.mark.slow
def test_a_fresh_colab_like_venv_installs_ntkbook_and_runs_a_notebook(colab_venv):
    python, env, tmp = colab_venv
    for name in chapters():
        run = tmp / name.removesuffix(".ipynb")
        run.mkdir()
        shutil.copy2(BOOK / name, run / name)
        t0 = time.monotonic()
        proc = subprocess.run(
            [str(python), "-c", RUN, str(run / name), str(run)],
            cwd=run,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert proc.returncode == 0, f"{name} failed in the fresh venv:\n{(proc.stdout + proc.stderr)[-4000:]}"
        ran = json.loads((run / name).read_text())["cells"]
        print(
            f"{name}: installed ntkbook and ran in {time.monotonic() - t0:.1f} s (the install cell {_seconds(ran):.1f} s)"
        )
        stored = json.loads((BOOK / name).read_text())["cells"]
        code = [(r, s) for r, s in zip(ran, stored) if r["cell_type"] == "code"]
        assert code[0][0]["id"] == INSTALL_CELL_ID
        for k, (r, s) in enumerate(code, 1):
            errors = [o for o in r["outputs"] if o["output_type"] == "error"]
            assert not errors, f"{name}: code cell {k} raised {errors[0]['ename']}: {errors[0]['evalue']}"
            if k == 1:
                continue  # the install cell: pip's notes here, nothing where ntkbook is installed (as stored)
            # consecutive stream outputs joined, as nbval compares them: how the kernel splits its printing
            # into messages depends on timing
            got = [_text(o) for o in _joined(r["outputs"])]
            want = [_text(o) for o in _joined(s["outputs"])]
            assert got == want, f"{name}: code cell {k} shows {got}, the chapter stores {want}"
    # The install cell installed ntkbook into the venv (not found elsewhere).
    where = subprocess.run(
        [str(python), "-c", "import ntkbook; print(ntkbook.__file__)"], cwd=tmp, env=env, capture_output=True, text=True
    )
    assert where.returncode == 0 and where.stdout.startswith(str(tmp / "venv")), where.stdout + where.stderr


@functools.cache
def _bib() -> dict:
    return bibliography()


def _keys() -> list[str]:
    return sorted(_bib())


class _Text(html.parser.HTMLParser):
    """The text of an HTML fragment and its links, as a browser shows them; the text of MyST directives apart
    (CommonMark takes ```` ```{directive} ```` for a code block, which Colab shows as its source)."""

    def __init__(self):
        super().__init__()
        self.parts, self.raw, self.links, self._href, self._directive = [], [], [], None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self._href, self._link = attrs.get("href"), []
        if tag == "code" and (attrs.get("class") or "").startswith("language-{"):
            self._directive = True

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._link)))
            self._href = None
        if tag == "code":
            self._directive = False

    def handle_data(self, data):
        (self.raw if self._directive else self.parts).append(data)
        if self._href is not None:
            self._link.append(data)


@pytest.mark.parametrize("name", sorted(p.name for p in BOOK.glob("*.ipynb")))
def test_colab_markdown_shows_citations_as_author_year_links(name):
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    keys = _keys()
    cells = json.loads((BOOK / name).read_text())["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"])
        shown = _Text()
        shown.feed(md.render(source))
        text = "".join(shown.parts)
        bare = [k for k in keys if re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", text)]
        assert not CITE_ROLE.search(source), f"{name}, cell {i}: a {{cite}} role (run tools/notebook_preamble.py)"
        assert not bare and "{cite" not in text, f"{name}, cell {i}: Colab shows {bare or '{cite}'} raw"
        # Every citation a link with its author--year text, but those inside a directive, shown as source.
        want = [f"#cite:{m['kind']}:{m['keys']}" for m in CITE_LINK.finditer(source)]
        got = [href for href, _ in shown.links if href.startswith("#cite:")]
        in_directives = [f"#cite:{m['kind']}:{m['keys']}" for m in CITE_LINK.finditer("".join(shown.raw))]
        assert sorted(got + in_directives) == sorted(want), f"{name}, cell {i}: citations {want}, shown {got}"
        year = r"[^()]+ \(?\d{4}\)?"  # "Jacot et al., 2018", "Jacot et al. (2018)"
        texts = [t for href, t in shown.links if href.startswith("#cite:")]
        assert all(re.fullmatch(rf"\(?{year}(; {year})*\)?", t) for t in texts), f"{name}, cell {i}: {texts}"


@pytest.mark.parametrize("name", sorted(p.name for p in BOOK.glob("*.ipynb")))
def test_citation_links_turn_back_into_the_roles_they_record(name):
    """The HTML build (_ext/ntkbook_sphinx.py) reads each citation link as the role it records, and
    tools/notebook_preamble.py makes the same link of that role again: nothing is lost either way."""
    sys.path.insert(0, str(ROOT / "_ext"))
    from notebook_preamble import readable_citations
    from ntkbook_sphinx import citation_roles

    bib = _bib()
    for i, cell in enumerate(json.loads((BOOK / name).read_text())["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] != "markdown" or "#cite:" not in source:
            continue
        roles = citation_roles(source)
        assert "#cite:" not in roles and CITE_ROLE.search(roles), f"{name}, cell {i}: {roles[:300]}"
        assert readable_citations(roles, bib) == source, f"{name}, cell {i}"
