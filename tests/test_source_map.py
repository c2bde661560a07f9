"""The source map (ntkbook.claims.source_map): every quote verbatim, every line with math covered,
every claim it names registered, every as-written failure of the registry in a wrong entry, and the
JSON of ``python -m ntkbook source-map --json``.

The source text is not part of the repository: the tests that read it look for it in
``../shared/source/`` beside the repository and skip, saying so, when it is not there.
"""

import json
import re

import pytest

from ntkbook import claims
from ntkbook.claims import cli, ledger
from ntkbook.claims import source_map as sm
from ntkbook.claims.mathtext import strip_math, untypeset_math


@pytest.fixture(scope="module")
def source(project_root):
    path = project_root.parent / "shared" / "source" / sm.SOURCE_NAME
    if not path.exists():
        pytest.skip(f"the source text is not here ({path}): the quotes cannot be compared with it")
    return sm.source_lines(path)


def _where(e: sm.Entry) -> str:
    return f"lines {e.lines[0]}-{e.lines[1]}: {e.quote[:60]!r}"


def test_every_quote_is_verbatim_and_its_line_range_tight(source):
    problems = []
    for e in sm.ENTRIES:
        a, b = e.lines
        if not 1 <= a <= b <= len(source):
            problems.append(f"{_where(e)}: line range outside the source ({len(source)} lines)")
            continue
        if e.quote not in sm.normalise(" ".join(source[a - 1 : b])):
            problems.append(f"{_where(e)}: not in the source at these lines")
        elif b > a and (
            e.quote in sm.normalise(" ".join(source[a:b])) or e.quote in sm.normalise(" ".join(source[a - 1 : b - 1]))
        ):
            problems.append(f"{_where(e)}: the range is wider than the quote")
    assert not problems, "\n".join(problems)


def test_every_line_with_math_is_covered(source):
    covered = {n for e in sm.ENTRIES for n in range(e.lines[0], e.lines[1] + 1)}
    missing = [n for n, line in enumerate(source, 1) if "$" in line and n not in covered]
    assert not missing, f"source lines with $ that no entry covers: {missing}"


def test_entries_are_well_formed():
    problems = []
    for e in sm.ENTRIES:
        if e.verdict not in sm.VERDICTS:
            problems.append(f"{_where(e)}: verdict {e.verdict!r}")
        if (e.verdict == "wrong") != (e.severity is not None) or (e.severity and e.severity not in sm.SEVERITIES):
            problems.append(f"{_where(e)}: severity {e.severity!r} with verdict {e.verdict!r}")
        if e.verdict == "wrong" and not e.truth:
            problems.append(f"{_where(e)}: a wrong entry says what is true")
        if e.verdict != "wrong" and (e.truth or e.no_check or e.headline):
            problems.append(f"{_where(e)}: headline, truth and no_check belong to wrong entries")
        if e.verdict == "prose" and (e.claims or not e.note):
            problems.append(f"{_where(e)}: prose has no claims and says why")
        if not e.quote or e.quote != sm.normalise(e.quote):
            problems.append(f"{_where(e)}: the quote is stored whitespace-normalised")
        if len(set(e.claims)) != len(e.claims):
            problems.append(f"{_where(e)}: a claim named twice")
    starts = [e.lines[0] for e in sm.ENTRIES]
    assert starts == sorted(starts), "entries are in the order of the source"
    assert not problems, "\n".join(problems)


# TeX that sets no glyph of its own: fonts, accents, delimiters' sizes, spaces.
_TEX_MARKUP = re.compile(
    r"\\(?:[,;:! ]|(?:math[a-z]+|text|operatorname|tilde|hat|bar|dot|ddot|vec|left|right|[bB]igg?[lr]?|q?quad)"
    r"(?![A-Za-z]))"
)


def visible_length(text: str) -> int:
    """About how many characters ``text`` shows once typeset: outside ``$...$`` every character; inside, a
    TeX command that sets a symbol counts one, markup (fonts, accents, sizes, spaces), braces, ``^`` and
    ``_`` none, a space one (it stands for the room around an operator). A fraction counts its numerator
    and denominator side by side: an upper estimate."""
    parts = text.split("$")
    n = 0
    for k, part in enumerate(parts):
        if k % 2 == 0:
            n += len(part)
            continue
        tex = _TEX_MARKUP.sub("", part)
        tex = re.sub(r"\\[A-Za-z]+", "x", tex)
        n += len(re.sub(r"[{}^_]", "", tex))
    return n


def test_visible_length_counts_what_is_typeset():
    assert visible_length("A kernel must also be positive semi-definite") == 44
    assert visible_length(r"loses $y \equiv 0$") == len("loses y = 0")
    assert visible_length(r"$\mathbf{x}^{(l)}_i$") == len("x(l)i")
    assert visible_length(r"$\lVert\Delta\theta\rVert$") == 4
    assert visible_length(r"$\sigma_w^2\,\mathbb{E}[u]$") == len("σw2E[u]")


def test_every_wrong_entry_is_headed_by_a_short_statement_of_what_is_true():
    """The headline heads the erratum (the errata page's side contents list it): what is true, in one short
    line, with its math typeset; no two errata share one."""
    problems = []
    wrong = [e for e in sm.ENTRIES if e.verdict == "wrong"]
    for e in wrong:
        h = e.headline
        if not h.strip():
            problems.append(f"{_where(e)}: no headline")
            continue
        if h.count("$") % 2 or "$$" in h:
            problems.append(f"{_where(e)}: unbalanced or display math in the headline {h!r}")
        if len(strip_math(h)) > 90 or visible_length(h) > 90:
            problems.append(f"{_where(e)}: the headline is long ({visible_length(h)} characters shown): {h!r}")
        if untypeset_math(h):
            problems.append(f"{_where(e)}: math outside $...$ in the headline: {untypeset_math(h)}")
        if "|" in h:
            problems.append(f"{_where(e)}: a bar in the headline (write \\lvert, \\rVert): {h!r}")
        if ledger.md_text(h) != h:
            problems.append(f"{_where(e)}: markup outside the math of the headline: {h!r}")
        if h == e.truth or h.rstrip(".") != h:
            problems.append(f"{_where(e)}: the headline is a heading, not the truth's paragraph: {h!r}")
    repeated = sorted({e.headline for e in wrong if [f.headline for f in wrong].count(e.headline) > 1})
    assert not repeated, f"headlines shared by several errata: {repeated}"
    assert not problems, "\n".join(problems)


def test_every_claim_named_is_registered():
    reg = claims.registry()
    unknown = sorted({cid for e in sm.ENTRIES for cid in e.claims} - set(reg))
    assert not unknown, f"the source map names claims that are not registered: {unknown}"


def _as_written_ids(project_root) -> set[str]:
    """Claims that check the source as written and fail: registered so, or stored with expect=False."""
    reg = claims.registry()
    ids = {cid for cid, c in reg.items() if c.source_holds is False}
    stored = ledger.stored_results(project_root / "book")
    failing = ("SOURCE WRONG (fails as expected)", "UNEXPECTED PASS")
    # A claim the registry leaves unlabelled but whose stored check fails as expected is an as-written check
    # too. (A claim registered as holding whose stored result fails is a stale output: ledger.stale says so.)
    ids |= {
        cid
        for cid, checks in stored.items()
        if cid in reg and reg[cid].source_holds is None and any(r["status"] in failing for r in checks)
    }
    return ids


def test_every_as_written_failure_is_in_a_wrong_entry(project_root):
    in_wrong = {cid for e in sm.ENTRIES if e.verdict == "wrong" for cid in e.claims}
    missing = sorted(_as_written_ids(project_root) - in_wrong)
    assert not missing, f"as-written claims (expect=False) that no wrong entry of the source map lists: {missing}"


def test_every_claim_of_the_source_as_written_is_mapped():
    """A claim registered as checking the source as written (holds or not) is listed by some entry."""
    named = {cid for e in sm.ENTRIES for cid in e.claims}
    missing = sorted(cid for cid, c in claims.registry().items() if c.source_holds is not None and cid not in named)
    assert not missing, f"claims of the source as written that the source map does not list: {missing}"


def test_a_wrong_entry_without_an_as_written_check_says_why():
    reg = claims.registry()
    silent = [
        _where(e)
        for e in sm.ENTRIES
        if e.verdict == "wrong"
        and not any(reg[c].source_holds is False for c in e.claims if c in reg)
        and not e.no_check
    ]
    assert not silent, "wrong entries with no as-written claim and no reason:\n" + "\n".join(silent)


def test_cli_json_schema(capsys):
    assert cli.main(["source-map", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, list) and len(data) == len(sm.ENTRIES)
    for obj in data:
        assert set(obj) == {"lines", "quote", "verdict", "severity", "claims", "note"}
        assert (
            isinstance(obj["lines"], list) and len(obj["lines"]) == 2 and all(isinstance(n, int) for n in obj["lines"])
        )
        assert isinstance(obj["quote"], str) and obj["quote"]
        assert obj["verdict"] in sm.VERDICTS
        assert (obj["severity"] in sm.SEVERITIES) if obj["verdict"] == "wrong" else obj["severity"] is None
        assert isinstance(obj["claims"], list) and all(isinstance(c, str) for c in obj["claims"])
        assert isinstance(obj["note"], str) and (obj["note"] or obj["verdict"] == "holds")


def test_cli_summary_counts(capsys):
    assert cli.main(["source-map"]) == 0
    out = capsys.readouterr().out
    counts = sm.summary()
    for v in sm.VERDICTS:
        assert re.search(rf"^\s+{v}\s+{counts[v]}$", out, re.M), out
    for s in sm.SEVERITIES:
        assert re.search(rf"^\s+{s}\s+{counts['wrong/' + s]}$", out, re.M), out
    assert sum(counts[v] for v in sm.VERDICTS) == len(sm.ENTRIES)
