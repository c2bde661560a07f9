"""The ledger and errata pages are rendered from the chapters' stored results, run no claim, and
notice when those results are out of step with the registry or with the text nbval compares."""

import json
import shutil

import pytest

from ntkbook import claims
from ntkbook.claims import ledger


@pytest.fixture()
def book_copy(tmp_path, project_root):
    for nb in (project_root / "book").glob("*.ipynb"):
        shutil.copy(nb, tmp_path / nb.name)
    return tmp_path


def _claim_outputs(path):
    nb = json.loads(path.read_text())
    return nb, [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("metadata", {}).get("ntkbook")]


def test_every_registered_claim_has_its_stored_result(project_root):
    stored = ledger.stored_results(project_root / "book")
    assert set(stored) == set(claims.registry())
    assert all(stored[cid] for cid in stored)


def test_pages_are_rendered_without_running_a_claim(book_copy, monkeypatch):
    def refuse(self):
        raise AssertionError(f"the ledger ran claim {self.id}")

    monkeypatch.setattr(claims.Claim, "run", refuse)
    n, bad = ledger.write_pages(book_copy)
    assert n == len(claims.registry()) and bad == 0
    errata = (book_copy / "errata.md").read_text()
    assert errata.count("\n## ") == sum(c.source_holds is False for c in claims.registry().values())
    assert "<= tol (rounding level)" in (book_copy / "claims.md").read_text()


def test_rendering_twice_gives_the_same_pages(book_copy):
    ledger.write_pages(book_copy)
    first = [(book_copy / f).read_text() for f in ("claims.md", "errata.md")]
    ledger.write_pages(book_copy)
    assert first == [(book_copy / f).read_text() for f in ("claims.md", "errata.md")]


def test_stale_finds_a_missing_claim_an_unknown_claim_and_edited_metadata(book_copy):
    assert ledger.stale(book_copy) == []
    path = book_copy / "05-kernels.ipynb"
    nb, outs = _claim_outputs(path)
    dropped = outs[0]["metadata"]["ntkbook"]["claim"]
    outs[0]["metadata"]["ntkbook"]["claim"] = "05-kernels/not_a_claim"
    outs[1]["metadata"]["ntkbook"]["checks"][0]["error"] = "1.0e-99"
    path.write_text(json.dumps(nb))
    problems = "\n".join(ledger.stale(book_copy))
    assert f"{dropped}: registered but no chapter output stores its result" in problems
    assert "05-kernels/not_a_claim: stored in a chapter but not registered" in problems
    assert "disagrees with the stored text" in problems


def test_a_verdict_stored_as_failed_shows_in_the_ledger_count(book_copy):
    path = book_copy / "01-jacobians.ipynb"
    nb, outs = _claim_outputs(path)
    outs[0]["metadata"]["ntkbook"]["checks"][0]["status"] = "FAIL"
    path.write_text(json.dumps(nb))
    _, bad = ledger.write_pages(book_copy)
    assert bad == 1
