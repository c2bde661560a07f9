"""ntkbook.claims.mathtext: math written as plain text is found, words and typeset math are not; and no claim
title or stored check text of the book writes math as plain text."""

import pytest

from ntkbook.claims.ledger import untypeset_texts
from ntkbook.claims.mathtext import strip_math, untypeset_math

# What issue 19 saw on the pages, and a few more of the same kinds.
PLAIN_MATH = [
    "K^(1) and Σ^(1) vs x·x'/n_0 + β²",
    "sigma^2/n",
    "y = e^{ax+C'}",
    "||Δθ|| vs width",
    "column i of grad f = J^T",
    "f: R^3 -> R^2",
    "d/dy ln|y| = 1/y for real y != 0",
    "slope -1.01 +/- 0.02",
    "relative to sqrt(2)",
    "max |FD - AD| vs step h",
    "error O(h²)",
]
TYPESET = [
    "$K^{(1)}$ and $\\Sigma^{(1)}$ vs $x \\cdot x'/n_0 + \\beta^2$",
    "jacfwd vs sympy Jacobian at 16 random points",
    "kernel_map and nngp_kernel at widths 32..512 (key 440)",
    "error 1.0e-13 ≤ tol 1e-12 (rounding level)",
    "the source's statement, as written",
    "mean over 2000 networks · width 32",
    "$\\lVert \\Delta\\theta \\rVert$ vs width 2^k",  # the caret after a word: flagged below
]


@pytest.mark.parametrize("text", PLAIN_MATH)
def test_plain_text_math_is_found(text):
    assert untypeset_math(text), text


@pytest.mark.parametrize("text", TYPESET[:-1])
def test_words_and_typeset_math_pass(text):
    assert untypeset_math(text) == [], untypeset_math(text)


def test_only_what_is_outside_the_dollars_counts():
    assert strip_math("a $x^2$ b $$y_1$$ c") == "a   b   c"
    assert strip_math("price $5") == "price $5"  # an unpaired dollar: nothing is math
    found = untypeset_math(TYPESET[-1])
    assert len(found) == 1 and found[0].startswith("caret")


def test_bad_input_is_refused():
    with pytest.raises(TypeError, match="text"):
        untypeset_math(None)


def test_claim_titles_and_stored_check_texts_typeset_their_math():
    """Every claim title and every check text and detail the chapters store writes its math in TeX."""
    import ntkbook.chapters  # noqa: F401 (registers the claims)

    found = untypeset_texts()
    assert not found, f"{len(found)} fragments of untypeset math, e.g.:\n" + "\n".join(found[:30])
