"""Render the claims ledger (``book/claims.md``) and the errata page (``book/errata.md``).

Both pages are rendered from the claim registry (titles, equations, errata texts) and the
**stored outputs of the chapters**: each cell that runs a claim stores, in its output's metadata,
the claim's id and the fields of each check exactly as its text shows them. nbval re-executes
every chapter on every test run and compares that text, so the pages are re-validated with the
notebooks and the build runs no claim (``make book`` takes seconds, not minutes). Both pages are
build products (ignored by git); :func:`stale` lists what is out of step (a registered claim
with no stored result, a stored result of no registered claim, metadata that disagrees with the
stored text).

Each claim links to the cell of its chapter that runs it: a MyST target
``(claim-<chapter>-<name>)=`` placed just before that cell. ``python -m ntkbook.claims.ledger --anchors``
inserts missing targets into the notebooks (it only touches markdown, so stored outputs and
execution counts stay as they are); a test checks that every claim has one.

Usage: ``python -m ntkbook.claims.ledger [--anchors] [--book DIR]``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re

from ._registry import Claim, registry
from .checks import text_line

BOOK = pathlib.Path(__file__).resolve().parents[2] / "book"

KIND_ORDER = {"symbolic": 0, "numeric": 1, "monte carlo": 2, "rate": 3}


def anchor(c: Claim) -> str:
    """The MyST target label of the cell that runs claim ``c``."""
    name = c.id.split("/", 1)[1]
    return f"claim-{c.chapter}-{name}".replace("_", "-").lower()


def _cell_calls(cell: dict, c: Claim) -> bool:
    fn = "check_" + c.id.split("/", 1)[1]
    return cell["cell_type"] == "code" and re.search(rf"\b{re.escape(fn)}\s*\(", "".join(cell["source"])) is not None


def anchors_missing(book: pathlib.Path = BOOK) -> dict[str, str]:
    """Claims whose chapter notebook has no target before the cell that runs them: {id: reason}."""
    missing = {}
    for c in registry().values():
        path = book / f"{c.chapter}.ipynb"
        if not path.exists():
            missing[c.id] = f"no notebook {path.name}"
            continue
        text = path.read_text()
        if f"({anchor(c)})=" not in text:
            missing[c.id] = f"no target ({anchor(c)})= in {path.name}"
    return missing


def add_anchors(book: pathlib.Path = BOOK) -> list[str]:
    """Insert ``(claim-...)=`` targets before the first cell that runs each claim. Returns what was added."""
    added = []
    by_chapter: dict[str, list[Claim]] = {}
    for c in registry().values():
        by_chapter.setdefault(c.chapter, []).append(c)
    for chapter, claims in by_chapter.items():
        path = book / f"{chapter}.ipynb"
        if not path.exists():
            continue
        nb = json.loads(path.read_text())
        changed = False
        for c in claims:
            target = f"({anchor(c)})="
            if target in path.read_text() or any(target in "".join(cell["source"]) for cell in nb["cells"]):
                continue
            for i, cell in enumerate(nb["cells"]):
                if _cell_calls(cell, c):
                    # A markdown cell holding only the target: it labels the next cell, the check.
                    nb["cells"].insert(
                        i, {"cell_type": "markdown", "id": anchor(c)[:64], "metadata": {}, "source": [target]}
                    )
                    added.append(f"{path.name}: {target}")
                    changed = True
                    break
        if changed:
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return added


def stored_results(book: pathlib.Path = BOOK) -> dict[str, list[dict[str, str]]]:
    """The checks of every claim as stored in the chapters' outputs: ``{claim id: [fields, ...]}``.

    Fields are those of :meth:`ntkbook.claims.CheckResult.shown_fields` (status, what, kind,
    error, tolerance, and stderr and detail where present), as text.
    """
    out: dict[str, list[dict[str, str]]] = {}
    for path in sorted(book.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            for o in cell.get("outputs", []):
                meta = o.get("metadata", {}).get("ntkbook") if o.get("output_type") == "execute_result" else None
                if meta and meta.get("claim"):
                    out.setdefault(meta["claim"], []).extend(meta["checks"])
    return out


def stale(book: pathlib.Path = BOOK) -> list[str]:
    """What makes the stored results disagree with the registry or with the stored text (empty: none)."""
    problems = []
    reg = registry()
    stored = stored_results(book)
    problems += [f"{cid}: registered but no chapter output stores its result" for cid in reg if cid not in stored]
    problems += [f"{cid}: stored in a chapter but not registered" for cid in stored if cid not in reg]
    for path in sorted(book.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            for o in cell.get("outputs", []):
                meta = o.get("metadata", {}).get("ntkbook")
                if not meta:
                    continue
                text = "".join(o.get("data", {}).get("text/plain", ""))
                if text != "\n".join(text_line(f) for f in meta["checks"]):
                    problems.append(f"{meta.get('claim')}: metadata in {path.name} disagrees with the stored text")
    return problems


def _ok(f: dict[str, str]) -> bool:
    return f["status"] in ("PASS", "SOURCE WRONG (fails as expected)")


def _status_cell(results: list[dict[str, str]] | None) -> tuple[str, str, str, str]:
    if not results:
        return "-", "-", "-", "**NOT STORED** (no chapter output)"
    kinds = sorted({r["kind"] for r in results}, key=KIND_ORDER.get)
    errs = "<br>".join(r["error"] for r in results)
    tols = "<br>".join(r["tolerance"] for r in results)
    stat = "<br>".join(r["status"] for r in results)
    return ", ".join(kinds), errs, tols, stat


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _ref_title(text: str) -> str:
    # Inside {ref}`title <label>`, "<" and ">" delimit the label and backticks end the role:
    # show inner products with angle brackets that are not ASCII.
    return _md_escape(text).replace("<", "⟨").replace(">", "⟩").replace("`", "'")


def _source_cell(c: Claim) -> str:
    return {True: "holds", False: "**wrong**", None: "-"}[c.source_holds]


def ledger_markdown(results) -> str:
    n_checks = sum(len(r) for _, r in results if r)
    n_bad = sum(1 for _, r in results if not r or not all(_ok(x) for x in r))
    n_src_wrong = sum(1 for c, _ in results if c.source_holds is False)
    n_src_ok = sum(1 for c, _ in results if c.source_holds is True)
    lines = [
        "# Claims ledger",
        "",
        "Every claim this book checks, one row per claim, rendered by `python -m ntkbook.claims.ledger` from the",
        "registry that `python -m ntkbook verify` runs and from the results stored in the chapters, which",
        "every test run re-executes and compares (on the CPU, in float64, on another instruction set too).",
        "*Error* is the measured error of each check, printed only to the digits that no machine's",
        "rounding changes (a bound where it is at rounding level), and *tolerance* the bound it is held to;",
        "a claim with several checks lists one line each. The column",
        "*source* says, for statements of the source survey {cite:p}`weng2022ntk` checked as written, whether",
        "the statement holds; **wrong** ones are expected to fail their check and are listed on the",
        "{doc}`errata` page.",
        "",
        f"**{len(results)} claims, {n_checks} checks; {len(results) - n_bad} came out as expected, {n_bad} did not.** "
        f"Of the source's statements checked as written, {n_src_ok} hold and {n_src_wrong} are wrong.",
        "",
    ]
    chapter = None
    for c, res in results:
        if c.chapter != chapter:
            chapter = c.chapter
            lines += [
                "",
                f"## {{doc}}`{chapter}`",
                "",
                "| claim | equation | kind | error | tolerance | status | source |",
                "|---|---|---|---|---|---|---|",
            ]
        kind, errs, tols, stat = _status_cell(res)
        eq = f"{{eq}}`{c.equation}`" if c.equation else "-"
        title = f"{{ref}}`{_ref_title(c.title)} <{anchor(c)}>`"
        lines.append(f"| {title} | {eq} | {kind} | {errs} | {tols} | {stat} | {_source_cell(c)} |")
    return "\n".join(lines) + "\n"


def errata_markdown(results) -> str:
    wrong = [(c, r) for c, r in results if c.source_holds is False]
    lines = [
        "# Errata of the source",
        "",
        "Every place where a check of this book finds the source survey {cite:p}`weng2022ntk` wrong or",
        "incomplete *as written*. The list is generated from the claims registered with",
        "`source_holds=False`: each states where the statement is, what it says, what is true, and links",
        "to the cell of the chapter whose check shows it (that check is expected to fail, and the chapter",
        "then derives and checks the correct statement). The measured error is the one stored in the",
        "chapter, which every test run re-computes.",
        "",
        f"**{len(wrong)} errata.**",
        "",
    ]
    for i, (c, res) in enumerate(wrong, 1):
        if not res:
            shown = "no stored result"
        else:
            failing = [r for r in res if r["status"] in ("SOURCE WRONG (fails as expected)", "UNEXPECTED PASS")]
            shown = "; ".join(
                f"{r['what']}: error {r['error']} vs tolerance {r['tolerance']} ({r['status']})" for r in failing
            )
        eq = f", equation {{eq}}`{c.equation}`" if c.equation else ""
        lines += [
            f"## {i}. {c.title}",
            "",
            f"- **Where:** {c.where} (chapter {{doc}}`{c.chapter}`{eq})",
            f"- **The source says:** {c.source_says}",
            f"- **What is true:** {c.truth}",
            f"- **The check:** {{ref}}`{c.id} <{anchor(c)}>` — {_md_escape(shown)}",
            "",
        ]
    if not wrong:
        lines.append("No statement of the source has been found wrong yet.")
    return "\n".join(lines) + "\n"


def write_pages(book: pathlib.Path = BOOK) -> tuple[int, int]:
    """Render ``claims.md`` and ``errata.md`` from the stored results. Returns (claims, not as expected)."""
    stored = stored_results(book)
    claims = sorted(registry().values(), key=lambda c: c.chapter)  # stable within a chapter
    results = [(c, stored.get(c.id)) for c in claims]
    _write_if_changed(book / "claims.md", ledger_markdown(results))
    _write_if_changed(book / "errata.md", errata_markdown(results))
    bad = sum(1 for _, r in results if not r or not all(_ok(x) for x in r))
    return len(results), bad


def _write_if_changed(path: pathlib.Path, text: str) -> None:
    # An unchanged page keeps its timestamp, so Sphinx does not rebuild it.
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ntkbook.claims.ledger", description=__doc__.splitlines()[0])
    parser.add_argument("--anchors", action="store_true", help="insert missing claim targets into the notebooks")
    parser.add_argument("--book", default=str(BOOK), help="the book folder (default: the repository's book/)")
    args = parser.parse_args(argv)
    book = pathlib.Path(args.book)
    if args.anchors:
        for line in add_anchors(book):
            print(f"added {line}")
        return 0
    n, bad = write_pages(book)
    print(f"wrote {book / 'claims.md'} and {book / 'errata.md'}: {n} claims, {bad} not as expected")
    for line in stale(book):
        print(f"stale: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
