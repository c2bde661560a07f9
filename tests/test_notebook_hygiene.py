"""nbval passes a notebook whose outputs were cleared (it skips cells never run), so check that
every chapter was executed and stored properly: every code cell executed, in order (execution
counts 1, 2, 3, ...), no stored error, no stored stderr; and every notebook is in the table of
contents and sets up the reproducible environment first."""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
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
def test_first_code_cell_sets_up_reproducible_environment(path):
    first = "".join(code_cells(path)[0]["source"])
    assert "ntkbook.notebook.setup()" in first, f"{path.name}: first code cell must call ntkbook.notebook.setup()"


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
