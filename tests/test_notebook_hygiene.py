"""nbval passes a notebook whose outputs were cleared (it skips cells never run), so check that
every chapter was executed and stored properly: every code cell executed, in order (execution
counts 1, 2, 3, ...), no stored error, no stored stderr; and every notebook is in the table of
contents, carries its preamble (the book's TeX macros, the guarded install cell: tools/notebook_preamble.py),
sets up the reproducible environment first, and is stored as JupyterLab saves it (no volatile metadata)."""

import json
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
NOTEBOOKS = sorted(p for p in (ROOT / "book").glob("*.ipynb"))


def code_cells(path):
    cells = json.loads(path.read_text())["cells"]
    return [c for c in cells if c["cell_type"] == "code"]


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_executed_in_order(path):
    counts = [c["execution_count"] for c in code_cells(path)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts}; re-execute with `make execute NB={path.relative_to(ROOT)}`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stored_errors_or_stderr(path):
    for i, cell in enumerate(code_cells(path), 1):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name}: code cell {i} stored an error"
            assert not (out["output_type"] == "stream" and out.get("name") == "stderr"), (
                f"{path.name}: code cell {i} stored stderr: {''.join(out.get('text', ''))[:200]}"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_the_table_of_contents(path):
    toc = (ROOT / "_toc.yml").read_text()
    listed = set(re.findall(r"file:\s*(\S+)", toc))
    assert f"book/{path.stem}" in listed, f"{path.name} is not in _toc.yml"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if code_cells(p)], ids=lambda p: p.name)
def test_first_code_cells_install_then_set_up_the_environment(path):
    """First the guarded install (Colab, a fresh environment), then imports and ntkbook.notebook.setup()."""
    cells = code_cells(path)
    install = "".join(cells[0]["source"])
    assert re.search(r"^try:\n    import ntkbook\nexcept ImportError:\n    %pip install -q ", install, flags=re.M), (
        f"{path.name}: the first code cell must install ntkbook when it is missing (tools/notebook_preamble.py)"
    )
    assert not cells[0].get("outputs"), f"{path.name}: the install cell prints nothing where ntkbook is installed"
    assert "ntkbook.notebook.setup()" in "".join(cells[1]["source"]), (
        f"{path.name}: the second code cell must call ntkbook.notebook.setup()"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_preamble_and_metadata_are_as_tools_notebook_preamble_makes_them(path):
    """The TeX macros of _config.yml inside the notebook (jupyterlab-myst frontmatter and MathJax \\def), the
    install cell, the kernelspec as JupyterLab writes it, no volatile metadata: applying the tool changes nothing."""
    import nbformat
    from notebook_preamble import apply, as_jupyterlab_writes, macros, repository_url

    text = path.read_text()
    nb = nbformat.reads(text, as_version=4)
    assert as_jupyterlab_writes(apply(nbformat.reads(text, as_version=4), macros(), repository_url())) == text, (
        f"{path.name}: run `python tools/notebook_preamble.py {path.relative_to(ROOT)}`, then re-execute it"
    )
    first = nb.cells[0]
    assert first.cell_type == "markdown" and "remove-cell" in first.metadata.get("tags", [])
    for name, body in macros().items():
        assert f"'\\{name}': '{body}'" in first.source and f"\\def\\{name}{{{body}}}" in first.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_as_jupyterlab_saves_it(path):
    """Opening a chapter in JupyterLab must not modify it: the kernelspec JupyterLab writes, nbformat 4.5 with
    cell ids, no volatile cell metadata (execution timestamps), the file as nbformat writes it."""
    import nbformat

    from ntkbook.notebook import KERNELSPEC, VOLATILE_CELL_METADATA

    text = path.read_text()
    nb = json.loads(text)
    assert nb["metadata"]["kernelspec"] == KERNELSPEC, f"{path.name}: kernelspec {nb['metadata']['kernelspec']}"
    assert (nb["nbformat"], nb["nbformat_minor"]) == (4, 5)
    assert all(c.get("id") for c in nb["cells"]), f"{path.name}: a cell without an id"
    stamped = [i for i, c in enumerate(nb["cells"]) if set(c.get("metadata", {})) & set(VOLATILE_CELL_METADATA)]
    assert not stamped, f"{path.name}: cells {stamped} store volatile metadata (timestamps)"
    assert nbformat.writes(nbformat.reads(text, as_version=4)) + "\n" == text, f"{path.name}: not as nbformat writes it"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if code_cells(p)], ids=lambda p: p.name)
def test_outputs_hold_no_timings_or_addresses(path):
    text = json.dumps([c.get("outputs", []) for c in code_cells(path)])
    assert not re.search(r"0x[0-9a-f]{8,}", text), f"{path.name}: a memory address is stored in an output"
    assert not re.search(r"\b\d+(\.\d+)?\s*(ms|µs|us|ns) ± ", text), f"{path.name}: a timing is stored in an output"


def test_every_claim_is_anchored_in_its_chapter():
    """The ledger and errata pages link each claim to the cell that runs it."""
    from ntkbook.claims.ledger import anchors_missing

    missing = anchors_missing(ROOT / "book")
    assert not missing, f"run `python -m ntkbook.claims.ledger --anchors`: {missing}"


def test_every_claim_is_run_by_its_chapter():
    """A registered claim that no notebook cell calls would be checked by tests but never shown."""
    from ntkbook.claims import registry

    not_run = []
    for c in registry().values():
        path = ROOT / "book" / f"{c.chapter}.ipynb"
        fn = "check_" + c.id.split("/", 1)[1]
        if not path.exists() or not re.search(
            rf"\b{re.escape(fn)}\s*\(", "".join("".join(x["source"]) for x in code_cells(path))
        ):
            not_run.append(c.id)
    assert not not_run, f"claims no chapter cell runs: {not_run}"


def test_stored_claim_results_are_in_step_with_the_registry():
    """The ledger and errata pages are rendered from the results the chapters store (nbval re-computes
    those on every run): every registered claim stores one, nothing else does, and the metadata the
    pages read says what the compared text says."""
    from ntkbook.claims.ledger import stale

    problems = stale(ROOT / "book")
    assert not problems, "re-execute the chapters (make execute):\n" + "\n".join(problems)


def test_execute_in_place_writes_nothing_volatile(tmp_path):
    """`make execute` (ntkbook.notebook.execute_in_place) on a notebook whose outputs do not change leaves the
    file byte for byte as it was: no execution timestamps, the kernelspec as JupyterLab writes it."""
    import nbformat

    from ntkbook.notebook import KERNELSPEC, execute_in_place

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("print(6 * 7)")]
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    execute_in_place([str(path)], timeout=120)
    first = path.read_text()
    stored = json.loads(first)
    assert stored["metadata"]["kernelspec"] == KERNELSPEC
    assert stored["cells"][1]["outputs"][0]["text"] == ["42\n"] and stored["cells"][1]["metadata"] == {}
    execute_in_place([str(path)], timeout=120)
    assert path.read_text() == first, "a re-execution with unchanged outputs changed the file"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if code_cells(p)], ids=lambda p: p.name)
def test_every_figure_only_cell_hides_its_input(path):
    """A cell whose outputs are only figures shows the figure, not the plotting code (tag ``hide-input``)."""
    import nbformat
    from hide_plot_inputs import apply, untagged

    nb = nbformat.reads(path.read_text(), as_version=4)
    missing = untagged(nb)
    assert not missing, f"{path.name}: cells {missing} show only figures: run `python tools/hide_plot_inputs.py`"
    assert nbformat.writes(apply(nb)) + "\n" == path.read_text(), f"{path.name}: tagging is not idempotent"


def test_hide_plot_inputs_tags_figure_only_cells_and_nothing_else():
    import nbformat
    from hide_plot_inputs import TAG, apply, figure_only

    png = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480 with 1 Axes>"}
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output("display_data", data=png)]),
        nbformat.v4.new_code_cell(
            "print(1); plot()",
            outputs=[nbformat.v4.new_output("stream", text="1\n"), nbformat.v4.new_output("display_data", data=png)],
        ),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_markdown_cell("text"),
    ]
    assert [figure_only(c) for c in nb.cells] == [True, False, False, False]
    once = nbformat.writes(apply(nb))
    assert nb.cells[0].metadata["tags"] == [TAG] and all("tags" not in c.metadata for c in nb.cells[1:])
    assert nbformat.writes(apply(nb)) == once


def test_consecutive_streams_are_stored_joined():
    """How a kernel splits its printing into messages depends on timing: `make execute` joins them, so a
    re-execution with the same printed text stores the same outputs."""
    import nbformat

    from ntkbook.notebook import coalesce_streams

    cell = nbformat.v4.new_code_cell("print(1); print(2)")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="1\n"),
        nbformat.v4.new_output("stream", name="stdout", text="2\n"),
        nbformat.v4.new_output("stream", name="stderr", text="w\n"),
    ]
    nb = coalesce_streams(nbformat.v4.new_notebook(cells=[cell]))
    assert [(o["name"], o["text"]) for o in nb.cells[0].outputs] == [("stdout", "1\n2\n"), ("stderr", "w\n")]
