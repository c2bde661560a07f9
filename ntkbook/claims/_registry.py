"""The registry of claims: every statement the book checks, with where it comes from.

A *claim* is a zero-argument function, registered with :func:`claim`, that runs one or more checks
(:mod:`ntkbook.claims.checks`). Calling a registered claim runs it and **raises**
:class:`ClaimFailed` unless every check came out as expected. Claims of the source text *as written*
that are known to be wrong are registered with ``source_holds=False``: their check must *fail* (the
source is wrong), and the claim raises if it unexpectedly passes.

The claims live in the chapter modules (:mod:`ntkbook.chapters`); :func:`registry` imports those,
never the package face. Claims are stated in float64: calling one with JAX in float32 raises
instead of switching the caller's JAX to float64 behind their back.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

from .checks import CheckResult, ClaimFailed

__all__ = ["Claim", "Results", "claim", "registry", "require_x64", "run_all"]


@dataclasses.dataclass(frozen=True)
class Claim:
    """A registered claim: a zero-argument function returning one or more check results.

    Attributes:
      id: ``"<chapter>/<name>"``, unique.
      chapter: the chapter's document name, e.g. ``"01-jacobians"``.
      title: a short statement of the claim, in words.
      equation: the label of the equation it checks in the chapter (``{eq}`` target), if any.
      source_holds: ``True`` if this checks the source text as written and it holds, ``False``
        if it checks the source as written and the source is wrong (the check must fail),
        ``None`` for claims the book adds or derives itself.
      where: where the statement is in the source (section, equation) -- for source claims.
      source_says, truth: for an erratum, what the source says, in brief and in plain text, and what is true.
        Neither is shown to the reader: the book quotes the source verbatim from
        :mod:`ntkbook.claims.source_map` (its ``quote``), which also holds what is true as the reader reads it.
      fn: the check function.
    """

    id: str
    chapter: str
    title: str
    fn: Callable[[], Any]
    equation: str | None = None
    source_holds: bool | None = None
    where: str = ""
    source_says: str = ""
    truth: str = ""

    def run(self) -> list[CheckResult]:
        """Run the checks; return the results without raising.

        Claims are deterministic (explicit keys, fixed data), so within one process each claim is
        run once and its results reused: the ledger page and the tests of one ``make test`` session
        then share a single run instead of repeating every Monte Carlo study.
        """
        if self.id in _RESULTS:
            return list(_RESULTS[self.id])
        out = self.fn()
        results = [out] if isinstance(out, CheckResult) else list(out)
        if not results or not all(isinstance(r, CheckResult) for r in results):
            raise TypeError(f"claim {self.id} must return CheckResult(s), got {out!r}")
        if self.source_holds is False and not any(not r.expected for r in results):
            raise TypeError(f"claim {self.id} is registered as a source error but no check has expect=False")
        _RESULTS[self.id] = tuple(results)
        return results


_REGISTRY: dict[str, Claim] = {}
_RESULTS: dict[str, tuple[CheckResult, ...]] = {}


def registry() -> dict[str, Claim]:
    """All registered claims, in registration order (importing every chapter module first)."""
    from .. import chapters

    chapters.import_all()
    return dict(_REGISTRY)


def require_x64() -> None:
    """Raise unless JAX computes in float64: the checks' tolerances are float64 tolerances."""
    import jax

    if not jax.config.jax_enable_x64:
        raise RuntimeError(
            "ntkbook's claims are stated in float64: call ntkbook.notebook.setup() (a notebook) or "
            "jax.config.update('jax_enable_x64', True) before running them"
        )


def claim(
    chapter: str,
    title: str,
    *,
    equation: str | None = None,
    source_holds: bool | None = None,
    where: str = "",
    source_says: str = "",
    truth: str = "",
) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Register a zero-argument check function as a claim of ``chapter``.

    Calling the decorated function (with JAX in float64, see :func:`require_x64`) runs the checks
    and returns them as :class:`Results`, which display as one line each.
    It raises :class:`ClaimFailed` if any check did not come out as expected -- so a notebook
    cell, a test and ``python -m ntkbook verify`` all fail on the same thing.
    """
    if source_holds is False and not (where and source_says and truth):
        raise ValueError("a claim with source_holds=False needs where, source_says and truth (the erratum)")

    def decorate(fn: Callable[[], Any]) -> Callable[[], Any]:
        cid = f"{chapter}/{fn.__name__.removeprefix('check_')}"
        if cid in _REGISTRY and _REGISTRY[cid].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"claim id {cid!r} registered twice")
        c = Claim(cid, chapter, title, fn, equation, source_holds, where, source_says, truth)
        _REGISTRY[cid] = c

        @functools.wraps(fn)
        def run_and_assert():
            require_x64()
            results = c.run()
            bad = [r for r in results if not r.ok]
            if bad:
                raise ClaimFailed(f"claim {cid} did not come out as expected:\n" + "\n".join(map(repr, bad)))
            return Results(results, claim_id=cid)

        run_and_assert.claim = c  # type: ignore[attr-defined]
        return run_and_assert

    return decorate


class Results(list):
    """The check results of one claim: prints one line each (and as HTML, one box each).

    In a notebook the display also carries, in its output metadata under ``"ntkbook"``, the claim's
    id and the stored fields of each check (:meth:`CheckResult.shown_fields`). The claims ledger and
    the errata page are rendered from those stored outputs (``python -m ntkbook.claims.ledger``), which nbval
    re-validates on every test run: the book never re-runs the claims to build.
    """

    def __init__(self, results=(), claim_id: str | None = None):
        super().__init__(results)
        self.claim_id = claim_id

    def __repr__(self) -> str:
        return "\n".join(map(repr, self))

    def _repr_html_(self) -> str:
        return "".join(r._repr_html_() for r in self)

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = {"text/plain": repr(self), "text/html": self._repr_html_()}
        meta = {"ntkbook": {"claim": self.claim_id, "checks": [r.shown_fields() for r in self]}}
        return data, meta


def run_all(claims: Sequence[Claim] | None = None) -> list[tuple[Claim, list[CheckResult] | BaseException]]:
    """Run claims (default: all registered) and collect results or the exception each raised."""
    require_x64()
    claims = list(registry().values()) if claims is None else list(claims)
    out: list[tuple[Claim, list[CheckResult] | BaseException]] = []
    for c in claims:
        try:
            out.append((c, c.run()))
        except Exception as exc:  # a broken check is a failure to report, not a crash
            out.append((c, exc))
    return out
