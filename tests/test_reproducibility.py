"""Tests of tools/reproduce.py (execute each notebook twice, compare the text outputs) on small
synthetic notebooks -- no chapter is executed here (nbval in `make test` already re-executes every
chapter against its stored outputs) -- and of the nbval configuration: no sanitize file, or one
whose every pattern says why it is there."""

from __future__ import annotations

import configparser
import copy
import importlib.util
import pathlib
import re
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _load_tool():
    spec = importlib.util.spec_from_file_location("ntkbook_tools_reproduce", ROOT / "tools" / "reproduce.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while creating the class
    spec.loader.exec_module(module)
    return module


reproduce = _load_tool()


# --------------------------------------------------------------------------- synthetic notebooks


def stream(text, name="stdout"):
    return new_output("stream", name=name, text=text)


def result(plain=None, html=None, png=None, count=1):
    data = {}
    if plain is not None:
        data["text/plain"] = plain
    if html is not None:
        data["text/html"] = html
    if png is not None:
        data["image/png"] = png
    return new_output("execute_result", data=data, execution_count=count)


def display(plain=None, png=None):
    data = {}
    if plain is not None:
        data["text/plain"] = plain
    if png is not None:
        data["image/png"] = png
    return new_output("display_data", data=data)


def make_nb(*cells_outputs, markdown=("# title",)):
    cells = [new_markdown_cell(m) for m in markdown]
    for i, outputs in enumerate(cells_outputs, start=1):
        cell = new_code_cell(f"cell_{i}()", execution_count=i)
        cell.outputs = list(outputs)
        cells.append(cell)
    return new_notebook(cells=cells)


BASE = make_nb(
    [stream("setup done\n")],
    [stream("error = 1.2e-15\n"), result(plain="array([1., 2.])", count=2)],
    [display(plain="<Figure size 640x400 with 1 Axes>", png="iVBORw0KGgoAAAA")],
    [result(plain="Check(...)", html="<table><tr><td>ok</td></tr></table>", count=4)],
)


def modified(fn):
    nb = copy.deepcopy(BASE)
    fn(reproduce.code_cells(nb))
    return nb


# --------------------------------------------------------------------------- comparison logic


def test_identical_runs_have_no_differences():
    assert reproduce.compare_notebooks(BASE, copy.deepcopy(BASE)) == []


def test_a_changed_stream_is_reported_with_its_cell_and_a_diff():
    def change(cells):
        cells[1].outputs[0]["text"] = "error = 1.3e-15\n"

    diffs = reproduce.compare_notebooks(BASE, modified(change), name="book/xx.ipynb")
    assert len(diffs) == 1
    d = diffs[0]
    assert (d.notebook, d.cell, d.what) == ("book/xx.ipynb", 2, "stream stdout")
    text = d.describe()
    assert "book/xx.ipynb: code cell 2: stream stdout differs" in text
    assert "-error = 1.2e-15" in text and "+error = 1.3e-15" in text


def test_a_changed_text_plain_is_reported():
    def change(cells):
        cells[1].outputs[1]["data"]["text/plain"] = "array([1., 2.000001])"

    diffs = reproduce.compare_notebooks(BASE, modified(change))
    assert [(d.cell, d.what) for d in diffs] == [(2, "output 1 text/plain")]


def test_a_changed_text_html_is_reported():
    def change(cells):
        cells[3].outputs[0]["data"]["text/html"] = "<table><tr><td>FAILED</td></tr></table>"

    diffs = reproduce.compare_notebooks(BASE, modified(change))
    assert [(d.cell, d.what) for d in diffs] == [(4, "output 1 text/html")]


def test_stderr_is_compared_separately_from_stdout():
    def change(cells):
        cells[0].outputs.append(stream("UserWarning: something\n", name="stderr"))

    diffs = reproduce.compare_notebooks(BASE, modified(change))
    assert [(d.cell, d.what, d.first) for d in diffs] == [(1, "stream stderr", None)]
    assert "missing in the first run" in diffs[0].describe()


def test_images_execution_counts_and_metadata_are_not_compared():
    def change(cells):
        cells[2].outputs[0]["data"]["image/png"] = "AAAAdifferentPNG"
        cells[2].outputs[0]["metadata"] = {"needs_background": "light"}
        for i, c in enumerate(cells):
            c["execution_count"] = 10 + i
            c["metadata"]["execution"] = {"iopub.status.idle": "2024-01-01T00:00:00"}
        cells[1].outputs[1]["execution_count"] = 99

    assert reproduce.compare_notebooks(BASE, modified(change)) == []


def test_markdown_cells_are_not_compared():
    other = copy.deepcopy(BASE)
    other.cells[0].source = "# another title"
    assert reproduce.compare_notebooks(BASE, other) == []


def test_stream_chunks_are_joined_before_comparing():
    # How a stream is split into messages depends on timing: one chunk or two is the same output.
    one = make_nb([stream("a = 1\nb = 2\n")])
    two = make_nb([stream("a = 1\n"), stream("b = 2\n")])
    assert reproduce.compare_notebooks(one, two) == []


def test_carriage_returns_and_backspaces_are_resolved():
    progress = make_nb([stream("10%\r50%\r100%\ndone\n")])
    final = make_nb([stream("100%\ndone\n")])
    assert reproduce.compare_notebooks(progress, final) == []
    typo = make_nb([stream("abx\x08c\n")])
    fixed = make_nb([stream("abc\n")])
    assert reproduce.compare_notebooks(typo, fixed) == []


def test_list_and_string_sources_of_text_are_equal():
    as_list = make_nb([result(plain=["line 1\n", "line 2"])])
    as_str = make_nb([result(plain="line 1\nline 2")])
    assert reproduce.compare_notebooks(as_list, as_str) == []


def test_an_extra_output_is_reported():
    def change(cells):
        cells[3].outputs.append(display(plain="extra"))

    diffs = reproduce.compare_notebooks(BASE, modified(change))
    assert [(d.cell, d.what, d.first, d.second) for d in diffs] == [(4, "output 2 text/plain", None, "extra")]


def test_a_missing_output_is_reported():
    def change(cells):
        cells[1].outputs.pop()

    diffs = reproduce.compare_notebooks(BASE, modified(change))
    assert [(d.cell, d.what, d.second) for d in diffs] == [(2, "output 1 text/plain", None)]


def test_error_outputs_are_compared():
    a = make_nb([new_output("error", ename="ValueError", evalue="x must be finite", traceback=[])])
    b = make_nb([new_output("error", ename="ValueError", evalue="x must be finite", traceback=["other frames"])])
    c = make_nb([new_output("error", ename="TypeError", evalue="x must be finite", traceback=[])])
    assert reproduce.compare_notebooks(a, b) == []
    assert [d.what for d in reproduce.compare_notebooks(a, c)] == ["output 1 error"]


def test_different_numbers_of_code_cells_are_reported():
    shorter = copy.deepcopy(BASE)
    shorter.cells.pop()
    diffs = reproduce.compare_notebooks(BASE, shorter, name="nb")
    assert [(d.cell, d.what, d.first, d.second) for d in diffs] == [(None, "number of code cells", "4", "3")]


def test_several_differences_are_all_reported_in_cell_order():
    def change(cells):
        cells[0].outputs[0]["text"] = "setup done!\n"
        cells[3].outputs[0]["data"]["text/plain"] = "Check(!)"
        cells[3].outputs[0]["data"]["text/html"] = "<p>!</p>"

    diffs = reproduce.compare_notebooks(BASE, modified(change))
    assert [(d.cell, d.what) for d in diffs] == [
        (1, "stream stdout"),
        (4, "output 1 text/html"),
        (4, "output 1 text/plain"),
    ]


def test_long_diffs_are_truncated():
    a = make_nb([stream("".join(f"line {i}\n" for i in range(200)))])
    b = make_nb([stream("".join(f"line {i}!\n" for i in range(200)))])
    text = reproduce.compare_notebooks(a, b)[0].describe(max_lines=10)
    assert "more diff lines" in text and len(text.splitlines()) <= 12


# --------------------------------------------------------------------------- the driver, with a fake executor


def _write(tmp_path, name, nb):
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def fake_executor(outputs_by_run):
    """An executor that returns BASE with the stdout of cell 1 set per run, and counts calls."""
    calls = []

    def execute(path, out_path):
        run = sum(1 for p, _ in calls if p == path)
        calls.append((path, out_path))
        text = outputs_by_run[path.stem][run]
        if isinstance(text, Exception):
            raise text
        nb = copy.deepcopy(BASE)
        reproduce.code_cells(nb)[0].outputs = [stream(text)]
        nbformat.write(nb, out_path)
        return nb

    execute.calls = calls
    return execute


def test_main_exits_zero_when_every_notebook_reproduces(tmp_path, capsys):
    paths = [_write(tmp_path, n, BASE) for n in ("a", "b")]
    ex = fake_executor({"a": ["x\n", "x\n"], "b": ["y\n", "y\n"]})
    assert reproduce.main([str(p) for p in paths], execute=ex) == 0
    assert len(ex.calls) == 4, "each notebook must be executed twice"
    # The copies go to a temporary folder, never over the notebook itself.
    assert all(out.parent != tmp_path and out != p for p, out in ex.calls)
    assert "2 of 2 notebook(s) reproduced" in capsys.readouterr().out


def test_main_exits_nonzero_and_names_the_notebook_on_a_difference(tmp_path, capsys):
    paths = [_write(tmp_path, n, BASE) for n in ("good", "flaky")]
    ex = fake_executor({"good": ["x\n", "x\n"], "flaky": ["t = 0.1\n", "t = 0.2\n"]})
    assert reproduce.main([str(p) for p in paths], execute=ex) == 1
    out = capsys.readouterr().out
    assert f"{paths[1]}: code cell 1: stream stdout differs" in out
    assert "-t = 0.1" in out and "+t = 0.2" in out
    assert f"{paths[0]}: code cell" not in out
    assert "1 of 2 notebook(s) reproduced" in out


def test_main_exits_nonzero_when_an_execution_fails(tmp_path, capsys):
    path = _write(tmp_path, "broken", BASE)
    ex = fake_executor({"broken": [RuntimeError("cell 3 raised ValueError\nlong traceback"), "x\n"]})
    assert reproduce.main([str(path)], execute=ex) == 1
    out = capsys.readouterr().out
    assert "run 1 failed: RuntimeError: cell 3 raised ValueError" in out
    assert len(ex.calls) == 1, "a failed run is not repeated"


def test_main_keeps_the_copies_when_asked(tmp_path):
    path = _write(tmp_path, "a", BASE)
    keep = tmp_path / "kept"
    ex = fake_executor({"a": ["x\n", "x\n"]})
    assert reproduce.main([str(path), "--keep", str(keep)], execute=ex) == 0
    assert sorted(p.name for p in keep.iterdir()) == ["a.run1.ipynb", "a.run2.ipynb"]


def test_main_refuses_bad_arguments(tmp_path, capsys):
    ex = fake_executor({})
    assert reproduce.main([str(tmp_path / "missing.ipynb")], execute=ex) == 2
    assert "missing.ipynb" in capsys.readouterr().err
    text = tmp_path / "notes.txt"
    text.write_text("not a notebook")
    assert reproduce.main([str(text)], execute=ex) == 2
    assert reproduce.main([str(_write(tmp_path, "a", BASE)), "--timeout", "0"], execute=ex) == 2
    assert reproduce.main([], execute=ex) == 2  # argparse: the notebooks are required
    assert ex.calls == []


@pytest.mark.slow
def test_real_execution_detects_a_nondeterministic_notebook(tmp_path, capsys, monkeypatch):
    """End to end with real kernels (4 kernel starts, a few seconds): a notebook printing a fixed
    value reproduces, one printing fresh OS randomness does not; the originals stay unexecuted."""
    steady = make_nb(markdown=())
    steady.cells = [new_code_cell("print(sum(range(10)))"), new_code_cell("{'a': 1}")]
    noisy = make_nb(markdown=())
    noisy.cells = [new_code_cell("import os\nprint(os.urandom(8).hex())")]
    paths = [_write(tmp_path, "steady", steady), _write(tmp_path, "noisy", noisy)]
    # main() sets these for the kernels; monkeypatch restores this process's environment afterwards.
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    code = reproduce.main([*map(str, paths), "--timeout", "60"])
    out = capsys.readouterr().out
    assert code == 1
    assert f"{paths[1]}: code cell 1: stream stdout differs" in out
    assert f"{paths[0]}: reproduced" in out
    # The repository copies were not touched: still no outputs.
    assert all(not c.get("outputs") for p in paths for c in reproduce.code_cells(nbformat.read(p, as_version=4)))


# --------------------------------------------------------------------------- nbval sanitize files


def _sanitize_files():
    """Files given to nbval's --sanitize-with anywhere in the project's configuration, plus any file
    whose name says it is a sanitize file."""
    configs = [ROOT / n for n in ("pyproject.toml", "Makefile", "setup.cfg", "tox.ini", "pytest.ini")]
    configs += sorted((ROOT / ".github").rglob("*.yml")) + sorted((ROOT / ".github").rglob("*.yaml"))
    configs += [p for p in (ROOT / ".ci").rglob("*") if p.is_file()] if (ROOT / ".ci").exists() else []
    found = set()
    for cfg in configs:
        if cfg.is_file():
            for m in re.finditer(r"--sanitize-with[=\s]+[\"']?([^\s\"']+)", cfg.read_text(errors="replace")):
                found.add((ROOT / m.group(1)).resolve())
    skip = {".venv", "_build", ".git", "node_modules"}
    for p in ROOT.rglob("*sanitize*"):
        parts = p.relative_to(ROOT).parts
        # any virtual environment (.venv, the peer benchmark's .venv-peer) holds other projects' files
        if p.is_file() and not skip & set(parts) and not any(q.startswith(".venv") for q in parts):
            found.add(p.resolve())
    return sorted(found)


def undocumented_sanitize_patterns(text: str) -> list[str]:
    """Sections of an nbval sanitize file (``[name]`` + ``regex:`` + ``replace:``) that carry no
    ``#`` comment (inside the section or on the lines just above its header)."""
    bad = []
    lines = text.splitlines()
    headers = [i for i, line in enumerate(lines) if re.match(r"\s*\[[^\]]+\]\s*$", line)]
    for k, start in enumerate(headers):
        end = headers[k + 1] if k + 1 < len(headers) else len(lines)
        above = []
        j = start - 1
        while j >= 0 and lines[j].strip().startswith(("#", ";")):
            above.append(lines[j])
            j -= 1
        inside = [line for line in lines[start + 1 : end] if line.strip().startswith(("#", ";"))]
        has_regex = any(line.strip().startswith("regex") for line in lines[start + 1 : end])
        if has_regex and not (above or inside):
            bad.append(lines[start].strip())
    return bad


def test_undocumented_pattern_detection():
    documented = "# JAX prints device ids that change between runs\n[jax-device]\nregex: cpu:\\d+\nreplace: cpu:N\n"
    inside = "[addr]\n# memory addresses differ between runs\nregex: 0x[0-9a-f]+\nreplace: ADDR\n"
    bare = "[timing]\nregex: \\d+ ms\nreplace: T ms\n"
    assert undocumented_sanitize_patterns(documented) == []
    assert undocumented_sanitize_patterns(inside) == []
    assert undocumented_sanitize_patterns(documented + bare) == ["[timing]"]
    configparser.ConfigParser().read_string(documented + inside + bare)  # the examples are valid INI


def test_nbval_sanitize_file_absent_or_every_pattern_explained():
    files = _sanitize_files()
    for path in files:
        bad = undocumented_sanitize_patterns(path.read_text())
        assert not bad, (
            f"{path.relative_to(ROOT)}: sanitize pattern(s) {bad} have no comment saying why they are needed"
        )
