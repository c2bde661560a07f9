"""Math written as plain text where a reader expects it typeset.

Claim titles, check texts and the book's prose write their mathematics as TeX between ``$...$``
(typeset by MathJax in the book and in JupyterLab; the text output shows the TeX). What is left outside
the dollars must not be mathematics in disguise: ``K^(1)``, ``sigma^2/n``, ``||Δθ||``, ``f_i``, ``x·x'``.
:func:`untypeset_math` finds such fragments; the tests apply it to every claim title, every stored check
text and the visible text of every page of the built book.

The patterns are heuristics chosen for the texts this book writes: they flag Greek letters and math
symbols in Unicode, carets, one-letter subscripts, norm and absolute-value bars, ASCII operators
(``->``, ``!=``, ``>=``), primes and elementary functions applied with parentheses. Words, numbers,
code identifiers (``kernel_map``, ``x_test``: more than one letter on a side of the underscore) and the check
line's own ``≤`` pass.
"""

from __future__ import annotations

import re

__all__ = ["UNTYPESET_PATTERNS", "strip_math", "untypeset_math"]

# (name, pattern): what each pattern catches, for the message.
UNTYPESET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Greek letter", re.compile(r"[\u0391-\u03a9\u03b1-\u03c9\u03d1\u03d5\u03f5]")),
    ("math symbol", re.compile(r"[²³¹⁰⁴⁵⁶⁷⁸⁹⁻⁺₀₁₂₃₄ₗₙₘₖᵢⱼᵀ√∑∏∫∞∂∇≈≠∈∉⊗⊙⟨⟩‖→←↦∘̂̃̇]")),
    ("caret", re.compile(r"[\w)\]}]\^")),
    ("subscript", re.compile(r"(?<![\w.\\])[A-Za-z]_(?:[A-Za-z0-9](?![\w])|[{(])")),
    ("norm bars", re.compile(r"\|\||\|[\w(][^|\n]{0,40}\|")),
    ("ASCII operator", re.compile(r"->|!=|>=|<=|\+/-")),
    ("prime", re.compile(r"(?<![A-Za-z])[A-Za-z]['’](?![A-Za-z])")),
    ("function call", re.compile(r"\b(?:sqrt|exp|log|ln|arcsin|arccos|tanh|erf|relu)\(")),
)

_MATH_SPANS = re.compile(r"\$\$.*?\$\$|\$[^$]*\$", re.S)


def strip_math(text: str) -> str:
    """``text`` with its ``$...$`` and ``$$...$$`` spans removed (an unpaired ``$`` removes nothing)."""
    if text.count("$") % 2:
        return text
    return _MATH_SPANS.sub(" ", text)


def untypeset_math(text: str, *, context: int = 25) -> list[str]:
    """The fragments of ``text``, outside ``$...$``, that look like mathematics written as plain text.

    Returns ``["<pattern name>: ...context..."]``, one per match, in order of position.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    plain = strip_math(text)
    found = []
    for name, pattern in UNTYPESET_PATTERNS:
        for m in pattern.finditer(plain):
            a, b = max(0, m.start() - context), m.end() + context
            found.append((m.start(), f"{name}: ...{plain[a:b]}..."))
    return [msg for _, msg in sorted(found)]
