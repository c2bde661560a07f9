"""The ledger, errata and source-map pages are rendered from the chapters' stored results and the source
map, run no claim, and notice when those results are out of step with the registry or with the text nbval
compares."""

import dataclasses
import json
import re
import shutil

import pytest

from ntkbook import claims
from ntkbook.claims import ledger
from ntkbook.claims import source_map as sm

PAGES = ("claims.md", "errata.md", "source-map.md")


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
    assert errata.count("\n### ") == sum(e.verdict == "wrong" for e in sm.ENTRIES)
    assert "(rounding level) | pass |" in (book_copy / "claims.md").read_text()
    assert (book_copy / "source-map.md").read_text().count("\n---\n") == len(sm.ENTRIES) - 1


def test_rendering_twice_gives_the_same_pages(book_copy):
    ledger.write_pages(book_copy)
    first = [(book_copy / f).read_text() for f in PAGES]
    ledger.write_pages(book_copy)
    assert first == [(book_copy / f).read_text() for f in PAGES]


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


def _errata(book_copy):
    ledger.write_pages(book_copy)
    text = (book_copy / "errata.md").read_text()
    return text, re.split(r"^\(source-erratum-\d+\)=\n", text, flags=re.M)[1:]


def test_errata_page_lists_every_wrong_statement_headed_by_what_is_true(book_copy):
    _, sections = _errata(book_copy)
    wrong = [e for e in sm.ENTRIES if e.verdict == "wrong"]
    assert len(sections) == len(wrong)
    reg = claims.registry()
    for i, (e, sec) in enumerate(zip(wrong, sections, strict=True), 1):
        heading, _, body = sec.partition("\n")
        # The heading is the headline (what is true, in one line: the page's side contents list it); beneath it
        # where and how the source is wrong, then what is true in full, then the source's statement.
        assert heading == f"### {i}. {e.headline}" == f"### {i}. {ledger.errata_heading(e)}"
        a, b = e.lines
        where = f"line {a}" if a == b else f"lines {a}–{b}"
        paragraphs = body.strip("\n").split("\n\n")
        assert paragraphs[0].startswith(f"**{e.severity}** · Source {where} ({sm.section_of(e)})"), paragraphs[0]
        assert paragraphs[1] == f"**What is true.** {e.truth}"
        assert paragraphs[2] == f"The source ({where}):"
        assert ledger.quote_markdown(e.quote) in body  # the statement quoted beneath, as math
        as_written = [c for c in e.claims if c in reg and reg[c].source_holds is False]
        if as_written:
            assert all(f"{{ref}}`{c} <{ledger.anchor(reg[c])}>` (as written)" in body for c in as_written)
        else:
            assert "*No check of the statement as written:*" in body


def test_an_entry_without_a_headline_is_headed_by_where_and_how_wrong():
    e = sm.Entry((54, 54), "a quote", "wrong", "typo", truth="what is true")
    assert ledger.errata_heading(e) == "Line 54, typo"
    assert ledger.errata_heading(dataclasses.replace(e, headline="A *short* truth")) == "A \\*short\\* truth"


def test_errata_summary_counts_each_severity(book_copy):
    text, _ = _errata(book_copy)
    for sev in sm.SEVERITIES:
        n = sum(e.severity == sev for e in sm.ENTRIES)
        assert re.search(rf"^\| \*\*{sev}\*\* \| [^|]+ \| {n} \| \d+ \|$", text, re.M), sev


def test_source_map_page_quotes_every_entry_with_its_verdict(book_copy):
    ledger.write_pages(book_copy)
    page = (book_copy / "source-map.md").read_text()
    blocks = page.split("\n---\n")
    assert len(blocks) == len(sm.ENTRIES)
    n_wrong = 0
    for e, block in zip(sm.ENTRIES, blocks, strict=True):
        assert ledger.quote_markdown(e.quote) in block
        if e.verdict == "wrong":
            n_wrong += 1
            assert f"**wrong** ({e.severity}) — {{ref}}`erratum {n_wrong} <source-erratum-{n_wrong}>`" in block
            assert f"What is true: {e.truth}" in block
        else:
            assert f"· **{e.verdict}**" in block


def _math_blocks(text):
    display = re.findall(r"^\$\$\n(.*?)\n\$\$$", text, flags=re.M | re.S)
    rest = re.sub(r"^\$\$\n(.*?)\n\$\$$", "", text, flags=re.M | re.S)
    inline = re.findall(r"(?<!\\)\$([^$]+)\$", rest)
    return display, inline


@pytest.mark.parametrize("page", ["errata.md", "source-map.md"])
def test_math_on_the_generated_pages_is_balanced_tex(book_copy, page):
    """No MathJax error to hide in a build that passes: braces, \\left/\\right and environments balance."""
    ledger.write_pages(book_copy)
    display, inline = _math_blocks((book_copy / page).read_text())
    assert display and inline
    for tex in display + inline:
        body = tex.replace(r"\{", "").replace(r"\}", "")
        assert body.count("{") == body.count("}"), tex
        assert len(re.findall(r"\\left\b", tex)) == len(re.findall(r"\\right\b", tex)), tex
        for env in set(re.findall(r"\\begin\{(\w+)\}", tex)):
            assert tex.count(rf"\begin{{{env}}}") == tex.count(rf"\end{{{env}}}"), tex
        assert "&" not in tex or r"\begin{aligned}" in tex, tex


def test_quote_markdown_sets_text_inline_and_display_fragments_as_blocks():
    text = ledger.quote_markdown(r"The kernel should be symmetric, $K(x, x') = K(x', x)$ .")
    assert text == r"> The kernel should be symmetric, $K(x, x') = K(x', x)$ ."
    frag = ledger.quote_markdown(r"\text{Finally } & y = e^{ax+C'} = Ce^{ax}")
    assert frag == "$$\n" + r"\begin{aligned}\text{Finally } & y = e^{ax+C'} = Ce^{ax}\end{aligned}" + "\n$$"
    closing = ledger.quote_markdown(r"&= \frac{1}{n_0} \mathbf{x}^\top \mathbf{x}' + \beta^2 \end{aligned}$$")
    assert closing.startswith("$$\n\\begin{aligned}&=") and closing.count(r"\end{aligned}") == 1
    mixed = ledger.quote_markdown(r"where $m$ is: $$K_{m,n} = 1$$")
    assert mixed == "> where $m$ is:\n\n$$\nK_{m,n} = 1\n$$"
    assert ledger.quote_markdown("see the [previous section](#):") == "> see the previous section:"


def test_errata_are_grouped_under_the_sections_of_the_source(book_copy):
    text, _ = _errata(book_copy)
    sections = re.findall(r"^## (.+)$", text, flags=re.M)
    wrong_sections = list(dict.fromkeys(sm.section_of(e) for e in sm.ENTRIES if e.verdict == "wrong"))
    assert sections == [ledger.md_text(s) for s in wrong_sections]


# --------------------------------------------------------------------------- the claims ledger


def _ledger(book_copy):
    ledger.write_pages(book_copy)
    return (book_copy / "claims.md").read_text()


def _table_rows(section: str) -> list[list[str]]:
    """The check rows of the tables in ``section`` (a claim's own row has no status)."""
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| claim,")]
    cells = [re.split(r"(?<!\\)\|", row)[1:-1] for row in rows]
    return [c for c in cells if c[-1].strip()]


def test_ledger_has_a_section_per_chapter_headed_by_its_title_and_a_row_per_check(book_copy):
    page = _ledger(book_copy)
    titles = ledger.chapter_titles(book_copy)
    stored = ledger.stored_results(book_copy)
    reg = claims.registry()
    chapters = sorted({c.chapter for c in reg.values()})
    for ch in chapters:
        assert titles[ch] != ch  # a title from the notebook, not its file name
        head = f"(ledger-{ch})=\n## {ledger.md_text(titles[ch])}\n"
        assert head in page
        section = page.split(head, 1)[1].split("\n## ", 1)[0]
        rows = _table_rows(section)
        checks = [f for cid, c in reg.items() if c.chapter == ch for f in stored[cid]]
        assert len(rows) == len(checks)  # one row per check: each error sits beside its own status
        assert all(len(r) == 4 for r in rows)
        for row, f in zip(rows, checks, strict=True):
            assert row[0].strip() == ledger.md_text(f["what"]) and row[1].strip() == f["kind"]
            assert row[3].strip() == ledger.STATUS_SHOWN[f["status"]]
        n_claims = sum(c.chapter == ch for c in reg.values())
        assert len(re.findall(r"^\| \*\*.*\| \| \| \|$", section, flags=re.M)) == n_claims  # a row per claim
    assert "{doc}`" not in "".join(re.findall(r"^#+ .*$", page, flags=re.M))  # no file names in headings
    assert "⟩" not in page  # ">" stays ">" (escaped for MyST, not turned into an angle)
    assert ledger.md_text("a -> b, $x > 0$") == "a -\\> b, $x > 0$"


def test_ledger_counts_definitional_checks_apart_and_indexes_them_and_the_source_wrong_claims(book_copy):
    page = _ledger(book_copy)
    stored = ledger.stored_results(book_copy)
    reg = claims.registry()
    checks = [f for r in stored.values() for f in r]
    n_def = sum(f["kind"] == "definitional" for f in checks)
    assert f"{len(checks)} checks: {len(checks) - n_def} substantive (" in page
    assert f") and {n_def} definitional." in page
    wrong_part = page.split("(ledger-source-wrong)=\n## Source wrong\n", 1)[1].split("\n## ", 1)[0]
    wrong = [c for c in reg.values() if c.source_holds is False]
    items = re.findall(r"^- .*$", wrong_part, flags=re.M)
    assert len(items) == len(wrong)
    # each wrong claim has its item (the registry's order depends on which chapter was imported first)
    assert all(sum(f"<{ledger.anchor(c)}>`" in item for item in items) == 1 for c in wrong)
    def_part = page.split("(ledger-definitional)=\n## Definitional checks\n", 1)[1]
    rows = _table_rows(def_part)
    assert len(rows) == n_def and all(r[1].strip() == "definitional" for r in rows)
    assert "{ref}`definitional checks <ledger-definitional>`" in page
    assert re.search(r"\{ref\}`\d+ are wrong <ledger-source-wrong>`", page)


def test_ledger_with_a_definitional_check_and_math_in_its_texts():
    c = claims.Claim(
        id="01-test/x",
        chapter="01-test",
        title="$x^2 > 0$ for $x \\neq 0$, and |x| > 0",
        fn=lambda: None,
        equation=None,
        source_holds=False,
    )
    checks = [
        claims.check_close("$\\|x\\|^2$ vs $|x|^2$ -> 1", 1.0, 1.0, atol=0.0),
        claims.check_definitional("shape of $J$ is (m, n)", (2, 3), (2, 3)),
    ]
    page = ledger.ledger_markdown([(c, [r.shown_fields() for r in checks])], {"01-test": "A *test* chapter"})
    assert "## A \\*test\\* chapter" in page
    assert "2 checks: 1 substantive (1 numeric) and 1 definitional" in page
    assert "$\\Vert x\\Vert ^2$ vs $\\vert x\\vert ^2$ -\\> 1" in page  # math kept, no bare | in a cell
    assert "**$x^2 > 0$ for $x \\neq 0$, and \\|x\\| \\> 0**" in page
    assert "source **wrong**" in page


def test_md_text_keeps_math_and_escapes_markup():
    assert ledger.md_text("a > b") == "a \\> b"
    assert ledger.md_text("$a > b$ and x_i*y") == "$a > b$ and x\\_i\\*y"
    assert ledger.md_text("costs $5") == "costs $5"  # an unpaired $ is no math
    assert ledger.md_text("[1e-3, 1e-1]") == "\\[1e-3, 1e-1\\]"


def test_a_quote_with_escaped_parentheses_is_prose_not_math():
    """The source escapes parentheses as markdown does ("Arora et al. \\(2019\\)"): that is prose, not a display
    (as math, MathJax shows the backslashes in red)."""
    from ntkbook.claims.ledger import quote_markdown

    assert (
        quote_markdown(r"Later, Arora et al. \(2019\) provided a proof")
        == r"> Later, Arora et al. \(2019\) provided a proof"
    )
    assert quote_markdown(r"K &= \sigma(x)").startswith("$$")
