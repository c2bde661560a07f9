"""Render the claims ledger (``book/claims.md``), the errata page (``book/errata.md``) and the
source map (``book/source-map.md``).

The errata page and the source map are rendered from the source map
(:mod:`ntkbook.claims.source_map`): every statement of the source that carries math, quoted verbatim,
with its verdict; each erratum is headed by what is true, with the source's statement quoted beneath
as math. The pages are rendered from the map, the claim registry (titles, equations) and the
**stored outputs of the chapters**: each cell that runs a claim stores, in its output's metadata,
the claim's id and the fields of each check exactly as its text shows them. nbval re-executes
every chapter on every test run and compares that text, so the pages are re-validated with the
notebooks and the build runs no claim (``make book`` takes seconds, not minutes). The pages are
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

from . import source_map as sm
from ._registry import Claim, registry
from .checks import NONZERO, text_line

BOOK = pathlib.Path(__file__).resolve().parents[2] / "book"

KIND_ORDER = {"symbolic": 0, "numeric": 1, "monte carlo": 2, "rate": 3, "definitional": 4}


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


def untypeset_texts(chapters: set[str] | None = None, book: pathlib.Path = BOOK) -> list[str]:
    """Math written as plain text (:func:`ntkbook.claims.mathtext.untypeset_math`) in the claim titles of the
    registry and the check texts and details stored in the chapters (``chapters``: their names, default all):
    ``["<claim id> <where>: <pattern>: ...context..."]``."""
    from .mathtext import untypeset_math

    found = []
    for cid, c in sorted(registry().items()):
        if chapters is None or c.chapter in chapters:
            found += [f"{cid} (claim title): {m}" for m in untypeset_math(c.title)]
    for cid, checks in sorted(stored_results(book).items()):
        if chapters is None or cid.split("/")[0] in chapters:
            for f in checks:
                for key in ("what", "detail"):
                    found += [f"{cid} (check {key}): {m}" for m in untypeset_math(f.get(key, ""))]
    return found


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


# Characters that MyST would read as markup in a table cell (emphasis, links, HTML, roles, the cell separator).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def md_text(text: str) -> str:
    """Plain text of a check or claim as MyST inline text: ``$...$`` spans stay math (typeset by the build),
    the rest is escaped so that no character is read as markup (``>`` stays ``>``). Safe in a table cell:
    a ``|`` inside math becomes ``\\vert`` (``\\|`` becomes ``\\Vert``)."""
    text = text.replace("\n", " ")
    parts = text.split("$")
    if len(parts) % 2 == 0:  # an unpaired $: no math
        parts = [text]
    out = []
    for k, p in enumerate(parts):
        if k % 2 == 1 and p.strip():
            out.append("$" + p.replace("\\|", "\\Vert ").replace("|", "\\vert ") + "$")
        else:
            out.append(_MD_SPECIAL.sub(r"\\\1", p))
    return "".join(out)


STATUS_SHOWN = {
    "PASS": "pass",
    "FAIL": "**FAIL**",
    "SOURCE WRONG (fails as expected)": "fails, as expected",
    "UNEXPECTED PASS": "**UNEXPECTED PASS**",
}


def _error_cell(f: dict[str, str]) -> str:
    """The measured error against the tolerance, as one cell: ``3.1e-05 ≤ 1e-04``."""
    err, tol = f["error"], f["tolerance"]
    if err == NONZERO:  # a symbolic difference that does not simplify to 0
        return "difference $\\neq 0$"
    if err.startswith("<= tol"):  # rounding level: only the bound is stable
        return f"≤ {md_text(tol)} ({md_text(err[len('<= tol ') :].strip('()'))})"
    rel = "≤" if f["status"] in ("PASS", "UNEXPECTED PASS") else ">"
    if err == "nan":
        rel = "vs"
    return f"{md_text(err)} {rel} {md_text(tol)}"


def chapter_titles(book: pathlib.Path = BOOK) -> dict[str, str]:
    """``{chapter: title}``: the first ``# `` heading of each chapter notebook (the file name where none)."""
    titles = {}
    for path in sorted(book.glob("*.ipynb")):
        titles[path.stem] = path.stem
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "markdown" or "remove-cell" in cell.get("metadata", {}).get("tags", []):
                continue
            m = re.search(r"^# (.+)$", "".join(cell["source"]), flags=re.M)
            if m:
                titles[path.stem] = m.group(1).strip()
                break
    return titles


def _kind_counts(checks: list[dict[str, str]]) -> str:
    counts: dict[str, int] = {}
    for f in checks:
        counts[f["kind"]] = counts.get(f["kind"], 0) + 1
    order = sorted(counts, key=lambda k: KIND_ORDER.get(k, len(KIND_ORDER)))
    return ", ".join(f"{counts[k]} {k}" for k in order)


TABLE_HEAD = ["| claim, then each of its checks | kind | error vs tolerance | status |", "|---|---|---|---|"]


def _claim_cell(c: Claim) -> str:
    name = c.id.split("/", 1)[1]
    cell = f"**{md_text(c.title)}** ({{ref}}`{name} <{anchor(c)}>`"
    if c.equation:
        cell += f", eq. {{eq}}`{c.equation}`"
    cell += ")"
    if c.source_holds is False:
        cell += " · source **wrong**"
    elif c.source_holds is True:
        cell += " · source holds"
    return cell


def _claim_rows(c: Claim, res: list[dict[str, str]] | None) -> list[str]:
    """A row naming the claim, then one row per check, so that every check sits beside its own status."""
    if not res:
        return [f"| {_claim_cell(c)} | - | - | **NOT STORED** (no chapter output) |"]
    rows = [f"| {_claim_cell(c)} | | | |"]
    for f in res:
        status = STATUS_SHOWN.get(f["status"], md_text(f["status"]))
        rows.append(f"| {md_text(f['what'])} | {f['kind']} | {_error_cell(f)} | {status} |")
    return rows


def ledger_markdown(results, titles: dict[str, str] | None = None) -> str:
    """The claims ledger: a summary, then one section per chapter (headed by its title) with one table row per
    check, then the index of the source's statements found wrong and of the definitional checks."""
    titles = titles or {}
    checks = [f for _, r in results if r for f in r]
    n_def = sum(f["kind"] == "definitional" for f in checks)
    n_bad = sum(1 for _, r in results if not r or not all(_ok(x) for x in r))
    n_src_wrong = sum(1 for c, _ in results if c.source_holds is False)
    n_src_ok = sum(1 for c, _ in results if c.source_holds is True)
    chapters: list[str] = []
    for c, _ in results:
        if c.chapter not in chapters:
            chapters.append(c.chapter)
    lines = [
        "# Claims ledger",
        "",
        "Every claim this book checks, chapter by chapter: a row naming the claim, then one row per check, rendered by",
        "`python -m ntkbook.claims.ledger` from the registry that `python -m ntkbook verify` runs and from the",
        "results stored in the chapters, which every test run re-executes and compares (on the CPU, in float64,",
        "on another instruction set too). *Error vs tolerance* is the measured error of each check, printed only",
        "to the digits that no machine's rounding changes (a bound where it is at rounding level), against the",
        "bound it is held to. A claim marked *source* **wrong** checks a statement of the source survey",
        "{cite:p}`weng2022ntk` as written: its check is expected to fail, and the statement is on the",
        "{doc}`errata` page. A *definitional* check compares shapes, counts or types exactly: it follows from",
        "the definitions alone and is counted apart from the checks that carry evidence.",
        "",
        f"**{len(results)} claims, {len(checks)} checks: {len(checks) - n_def} substantive "
        f"({_kind_counts([f for f in checks if f['kind'] != 'definitional']) or 'none'}) and {n_def} definitional. "
        f"{len(results) - n_bad} claims came out as expected, {n_bad} did not.** "
        f"Of the source's statements checked as written, {n_src_ok} hold and "
        f"{{ref}}`{n_src_wrong} are wrong <ledger-source-wrong>`; see also the "
        f"{{ref}}`definitional checks <ledger-definitional>`.",
        "",
        "| chapter | claims | checks | not as expected |",
        "|---|---|---|---|",
    ]
    for ch in chapters:
        in_ch = [(c, r) for c, r in results if c.chapter == ch]
        n_ch = sum(len(r) for _, r in in_ch if r)
        bad = sum(1 for _, r in in_ch if not r or not all(_ok(x) for x in r))
        lines.append(f"| {{ref}}`{md_text(titles.get(ch, ch))} <ledger-{ch}>` | {len(in_ch)} | {n_ch} | {bad or '-'} |")
    for ch in chapters:
        in_ch = [(c, r) for c, r in results if c.chapter == ch]
        lines += ["", f"(ledger-{ch})=", f"## {md_text(titles.get(ch, ch))}", ""]
        lines += [
            f"Chapter {{doc}}`{ch}`: {len(in_ch)} claims, {_kind_counts([f for _, r in in_ch if r for f in r])}.",
            "",
        ]
        lines += TABLE_HEAD
        for c, res in in_ch:
            lines += _claim_rows(c, res)
    lines += [
        "",
        "(ledger-source-wrong)=",
        "## Source wrong",
        "",
        "The claims that check a statement of the source as written and find it wrong (each check is expected",
        "to fail); the {doc}`errata` page says what is true.",
        "",
    ]
    wrong = [(c, r) for c, r in results if c.source_holds is False]
    for c, res in wrong:
        n_fail = sum(f["status"] == "SOURCE WRONG (fails as expected)" for f in res or [])
        verdict = f"{n_fail} of {len(res)} checks fail, as expected" if res else "**NOT STORED**"
        where = md_text(titles.get(c.chapter, c.chapter))
        lines.append(f"- {md_text(c.title)} ({{ref}}`{c.id.split('/', 1)[1]} <{anchor(c)}>`, {where}): {verdict}")
    if not wrong:
        lines.append("None.")
    lines += [
        "",
        "(ledger-definitional)=",
        "## Definitional checks",
        "",
        "Checks of kind *definitional*: a shape, a count or a type compared exactly. They show what a formula",
        "says, not that it is true, and are not counted among the substantive checks.",
        "",
    ]
    definitional = [(c, [f for f in r if f["kind"] == "definitional"]) for c, r in results if r]
    definitional = [(c, r) for c, r in definitional if r]
    if definitional:
        lines += TABLE_HEAD
        for c, res in definitional:
            lines += _claim_rows(c, res)
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# The errata page and the source map, rendered from the source map (ntkbook.claims.source_map)
# ---------------------------------------------------------------------------------------------------------------

SEVERITY_MEANING = {
    "math": "false as written: a wrong formula, value, limit or theorem, or a step that does not follow",
    "condition": "true only under a hypothesis the source does not state, or asserted without the proof it needs",
    "notation": "meant rightly, but the symbols as written say something else or nothing (index, transpose, shape)",
    "typo": "a slip of a word or symbol that changes no mathematics",
}


def _lines_text(e: sm.Entry) -> str:
    a, b = e.lines
    return f"line {a}" if a == b else f"lines {a}–{b}"


def _math_token(tok: str) -> str:
    """A fragment of the source's display math as a MyST ``$$`` block (aligned where it has ``&`` or ``\\``)."""
    body = tok.replace(r"\begin{aligned}", " ").replace(r"\end{aligned}", " ").strip()
    body = re.sub(r"^(\\\\\s*)+|(\s*\\\\)+$", "", body).strip()
    if "&" in body or r"\\" in body:
        body = r"\begin{aligned}" + body + r"\end{aligned}"
    return f"$$\n{body}\n$$"


def quote_markdown(quote: str) -> str:
    """The source's statement as MyST: its text with inline ``$...$`` math, its display math as ``$$`` blocks.

    The quote is the source's own LaTeX; fragments of a display (an aligned line, a term) are set as a
    display of their own. Links of the extracted text that point nowhere (``[...](#)``) keep their words.
    """
    q = re.sub(r"\[([^\]]*)\]\(#\)", r"\1", quote)
    toks = q.split("$$")
    # A quote may begin inside a display (a line of an aligned block): its first piece is then TeX.
    first = toks[0].strip()
    # (a TeX command or an alignment mark; a markdown escape such as "\\(2019\\)" is prose)
    starts_in_math = bool(first) and "$" not in first and (re.search(r"\\[A-Za-z]", first) is not None or "&" in first)
    out = []
    for i, tok in enumerate(toks):
        tok = tok.strip()
        if not tok:
            continue
        if (i % 2 == 0) == starts_in_math:
            out.append(_math_token(tok))
        else:
            out.append("> " + tok)
    return "\n\n".join(out)


def _claim_ids_to_refs(text: str, reg: dict[str, Claim]) -> str:
    # A claim id named in a note becomes a link to the cell that runs it.
    ids = sorted(reg, key=len, reverse=True)
    if not ids:
        return text
    pattern = re.compile("|".join(re.escape(i) for i in ids))
    return pattern.sub(lambda m: f"{{ref}}`{m.group(0)} <{anchor(reg[m.group(0)])}>`", text)


def _claim_ref(cid: str, reg: dict[str, Claim]) -> str:
    c = reg.get(cid)
    return f"{{ref}}`{cid} <{anchor(c)}>`" if c else f"`{cid}` (**not registered**)"


def _check_lines(cid: str, reg: dict[str, Claim], stored: dict[str, list[dict[str, str]]]) -> str:
    """One list item for a claim of an entry: the link, its title, and its stored checks."""
    c = reg.get(cid)
    if c is None:
        return f"- `{cid}`: **not registered**"
    res = stored.get(cid)
    role = "as written" if c.source_holds is False else ("source as written, holds" if c.source_holds else "corrected")
    head = f"- {_claim_ref(cid, reg)} ({role}): {md_text(c.title)}"
    if not res:
        return head + " — **no stored result**"
    failing = [r for r in res if r["status"] in ("SOURCE WRONG (fails as expected)", "UNEXPECTED PASS")]
    if failing:
        shown = "; ".join(
            f"{md_text(r['what'])}: error {_error_cell(r)} ({STATUS_SHOWN.get(r['status'], r['status'])})"
            for r in failing
        )
    else:
        n_ok = sum(_ok(r) for r in res)
        shown = f"{n_ok} of {len(res)} checks as expected" if n_ok < len(res) else f"{len(res)} checks, all pass"
        if len(res) == 1:
            shown = STATUS_SHOWN.get(res[0]["status"], res[0]["status"])
    return f"{head} — {shown}"


def _as_written(e: sm.Entry, reg: dict[str, Claim]) -> list[str]:
    return [cid for cid in e.claims if cid in reg and reg[cid].source_holds is False]


def _chapters_of(e: sm.Entry, reg: dict[str, Claim]) -> list[str]:
    out: list[str] = []
    for cid in e.claims:
        if cid in reg and reg[cid].chapter not in out:
            out.append(reg[cid].chapter)
    return out


def errata_heading(e: sm.Entry) -> str:
    """The heading of an erratum: what is true, in one short line (the entry's ``headline``: text with
    ``$...$`` math, as the page's side contents list it). Where the source is wrong, and how, is the line
    beneath; then what is true in full, then the source's statement. An entry without a headline is headed
    by where it is and how wrong (the tests require a headline of every wrong entry of the source map)."""
    if e.headline:
        return md_text(e.headline)
    return f"{_lines_text(e).capitalize()}, {e.severity}"


def errata_markdown(results, entries: tuple[sm.Entry, ...] = sm.ENTRIES) -> str:
    """The errata page: every wrong statement of the source map, by section of the source; each headed by
    what is true in one line (:func:`errata_heading`), with where and how the source is wrong beneath it, then
    what is true in full, then the source's statement quoted as math."""
    reg = {c.id: c for c, _ in results}
    stored = {c.id: r for c, r in results if r}
    wrong = [e for e in entries if e.verdict == "wrong"]
    executable = sum(bool(_as_written(e, reg)) for e in wrong)
    lines = [
        "# Errata of the source",
        "",
        "Every statement of the source survey {cite:p}`weng2022ntk` that this book finds wrong or incomplete",
        "*as written*, in the order of the source. The list is generated from the {doc}`source map <source-map>`,",
        "where every statement of the source that carries math is quoted with its verdict. Each erratum is",
        "headed by what is true, in one line; beneath it are where the source is wrong and how (its severity,",
        "as in the table below), what is true in full, and the source's statement quoted verbatim (its own",
        "LaTeX, with the line numbers of the source text), then the claims that check it: the check of the",
        "statement as written, which is expected to fail, and the checks of the corrected statement. Where no",
        "computation can show the error (a word, a shape, a missing hypothesis), the entry says why. The",
        "measured errors are those stored in the chapters, which every test run re-computes.",
        "",
        f"**{len(wrong)} errata, {executable} of them shown by a failing check of the statement as written.**",
        "",
        "| severity | what it means | errata | checked as written |",
        "|---|---|---|---|",
    ]
    for sev in sm.SEVERITIES:
        group = [e for e in wrong if e.severity == sev]
        n_exec = sum(bool(_as_written(e, reg)) for e in group)
        lines.append(f"| **{sev}** | {SEVERITY_MEANING[sev]} | {len(group)} | {n_exec} |")
    lines.append("")
    section = None
    for i, e in enumerate(wrong, 1):
        if sm.section_of(e) != section:
            section = sm.section_of(e)
            lines += [f"## {md_text(section)}", ""]
        chapters = ", ".join(f"{{doc}}`{ch}`" for ch in _chapters_of(e, reg))
        where = f"Source {_lines_text(e)} ({sm.section_of(e)})" + (f"; chapter {chapters}" if chapters else "")
        lines += [
            f"(source-erratum-{i})=",
            f"### {i}. {errata_heading(e)}",
            "",
            f"**{e.severity}** · {where}",
            "",
            f"**What is true.** {e.truth}",
            "",
            f"The source ({_lines_text(e)}):",
            "",
            quote_markdown(e.quote),
            "",
        ]
        if e.note:
            lines += [_claim_ids_to_refs(e.note, reg), ""]
        if e.claims:
            lines += [_check_lines(cid, reg, stored) for cid in e.claims]
            lines.append("")
        if not _as_written(e, reg):
            reason = e.no_check or "no reason given"
            lines += [f"*No check of the statement as written:* {_claim_ids_to_refs(reason, reg)}", ""]
    if not wrong:
        lines.append("No statement of the source has been found wrong yet.")
    return "\n".join(lines) + "\n"


def source_map_markdown(results, entries: tuple[sm.Entry, ...] = sm.ENTRIES) -> str:
    """The source-map page: every statement of the source that carries math, quoted, with its verdict."""
    reg = {c.id: c for c, _ in results}
    counts = sm.summary(entries)
    erratum = {id(e): i for i, e in enumerate((e for e in entries if e.verdict == "wrong"), 1)}
    by_severity = ", ".join(f"{counts['wrong/' + s]} {s}" for s in sm.SEVERITIES)
    lines = [
        "# Source map",
        "",
        "Every statement of the source survey {cite:p}`weng2022ntk` that carries math — an equation, a",
        "definition, a claim, a step of a derivation — quoted verbatim in the source's own LaTeX, with its",
        "line numbers in the source text and the book's verdict: **holds** (with the claims that check it),",
        "**wrong** (with its severity and a link to its {doc}`erratum <errata>`), or **prose** (nothing to",
        "check, and why). Every line of the source that holds math belongs to some entry. The map is one data",
        "structure, `ntkbook.claims.source_map`, which also renders the {doc}`errata` page; `python -m ntkbook",
        "source-map --json` prints it.",
        "",
        f"**{len(entries)} statements: {counts['holds']} hold, {counts['wrong']} are wrong ({by_severity}), "
        f"{counts['prose']} are prose.**",
        "",
    ]
    section = None
    for e in entries:
        if sm.section_of(e) != section:
            section = sm.section_of(e)
            lines += [f"## {section}", ""]
        if e.verdict == "wrong":
            n = erratum[id(e)]
            verdict = f"**wrong** ({e.severity}) — {{ref}}`erratum {n} <source-erratum-{n}>`"
        else:
            verdict = f"**{e.verdict}**"
        head = f"**{_lines_text(e).capitalize()}** · {verdict}"
        if e.verdict != "prose" and e.claims:
            head += " · checked by " + ", ".join(_claim_ref(cid, reg) for cid in e.claims)
        lines += [head, "", quote_markdown(e.quote), ""]
        if e.verdict == "wrong":
            lines += [f"What is true: {e.truth}", ""]
        if e.note:
            lines += [_claim_ids_to_refs(e.note, reg), ""]
        lines += ["---", ""]
    while lines and lines[-1] in ("", "---"):  # a document may not end with a transition
        lines.pop()
    return "\n".join(lines) + "\n"


def write_pages(book: pathlib.Path = BOOK) -> tuple[int, int]:
    """Render ``claims.md``, ``errata.md`` and ``source-map.md``. Returns (claims, not as expected)."""
    stored = stored_results(book)
    claims = sorted(registry().values(), key=lambda c: c.chapter)  # stable within a chapter
    results = [(c, stored.get(c.id)) for c in claims]
    _write_if_changed(book / "claims.md", ledger_markdown(results, chapter_titles(book)))
    _write_if_changed(book / "errata.md", errata_markdown(results))
    _write_if_changed(book / "source-map.md", source_map_markdown(results))
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
    print(
        f"wrote {book / 'claims.md'}, {book / 'errata.md'} and {book / 'source-map.md'}: {n} claims, {bad} not as expected"
    )
    for line in stale(book):
        print(f"stale: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
