"""Command line: ``python -m ntkbook verify`` runs every registered claim without the notebooks;
``python -m ntkbook source-map [--json]`` prints the source map (:mod:`ntkbook.claims.source_map`).

(``python -m ntkbook`` calls :func:`main` here.)

It prints one row per check (claim, chapter, kind, measured error, tolerance, status) under a
header naming the JAX backend and devices, and exits non-zero if any check did not come out as
expected. ``--chapter`` restricts to chapters whose name contains the given text; ``--json``
writes the results as JSON too (the claims ledger of the book is generated from it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time


def _fmt(x: float | None) -> str:
    # Full precision, for the command line (`python -m ntkbook verify`): never stored in the book.
    if x is None:
        return "-"
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    if x == 0:
        return "0"
    return f"{x:.2e}"


def _rows(results):
    from .checks import CheckResult

    rows = []
    for c, res in results:
        if isinstance(res, BaseException):
            rows.append(
                dict(
                    id=c.id,
                    chapter=c.chapter,
                    kind="-",
                    error="-",
                    tolerance="-",
                    status=f"ERROR: {type(res).__name__}: {str(res).splitlines()[0] if str(res) else ''}",
                    ok=False,
                    what=c.title,
                    source_holds=c.source_holds,
                )
            )
            continue
        for r in res:
            assert isinstance(r, CheckResult)
            rows.append(
                dict(
                    id=c.id,
                    chapter=c.chapter,
                    kind=r.kind,
                    error=_fmt(r.error),
                    tolerance=_fmt(r.tolerance),
                    status=r.status,
                    ok=r.ok,
                    what=r.what,
                    source_holds=c.source_holds,
                )
            )
    return rows


def verify(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ntkbook verify", description="Run every registered claim.")
    parser.add_argument("--chapter", default="", help="only chapters whose name contains this text")
    parser.add_argument("--json", dest="json_path", default=None, help="also write the results to this JSON file")
    parser.add_argument("--list", action="store_true", help="list the registered claims without running them")
    args = parser.parse_args(argv)

    import jax

    from ._registry import registry, run_all

    jax.config.update("jax_enable_x64", True)
    # The command line is an entry point: it sets float64 for its own process (the claims require it).
    claims = [c for c in registry().values() if args.chapter in c.chapter]
    if not claims:
        chapters = sorted({c.chapter for c in registry().values()})
        print(f"no chapter matches --chapter {args.chapter!r}; chapters: {', '.join(chapters)}", file=sys.stderr)
        return 2
    if args.list:
        for c in claims:
            print(f"{c.id:55s} {c.title}")
        return 0
    devices = ", ".join(f"{d.platform}:{d.id} ({d.device_kind})" for d in jax.devices())
    print(
        f"ntkbook verify: {len(claims)} claims | JAX {jax.__version__} | backend {jax.default_backend()} | devices {devices}"
    )
    t0 = time.perf_counter()
    rows = _rows(run_all(claims))
    wid = max([len(r["id"]) for r in rows] + [5])
    print(f"{'claim':{wid}s}  {'kind':11s}  {'error':>9s}  {'tolerance':>9s}  status")
    for r in rows:
        print(f"{r['id']:{wid}s}  {r['kind']:11s}  {r['error']:>9s}  {r['tolerance']:>9s}  {r['status']}")
    n_bad = sum(not r["ok"] for r in rows)
    n_src = sum(r["status"].startswith("SOURCE WRONG") for r in rows)
    print(
        f"{len(rows)} checks in {len(claims)} claims: {len(rows) - n_bad} as expected "
        f"({n_src} of them show the source is wrong), {n_bad} not as expected; {time.perf_counter() - t0:.1f} s"
    )
    if args.json_path:
        meta = dict(jax=jax.__version__, backend=jax.default_backend(), devices=devices)
        with open(args.json_path, "w") as fh:
            json.dump(dict(meta=meta, rows=rows), fh, indent=1)
    return 1 if n_bad else 0


def source_map(argv: list[str] | None = None) -> int:
    """Print the source map: a summary (counts per verdict and severity, the wrong entries), or all as JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m ntkbook source-map", description="Print the source map: every statement of the source."
    )
    parser.add_argument("--json", action="store_true", help="print every entry as a JSON list")
    args = parser.parse_args(argv)
    from . import source_map as sm

    if args.json:
        json.dump(sm.as_json(), sys.stdout, indent=1, ensure_ascii=False)
        print()
        return 0
    counts = sm.summary()
    print(f"source map: {len(sm.ENTRIES)} statements of {sm.SOURCE_NAME}")
    for v in sm.VERDICTS:
        print(f"  {v:9s} {counts[v]:3d}")
        if v == "wrong":
            for s in sm.SEVERITIES:
                print(f"    {s:10s} {counts['wrong/' + s]:3d}")
    print("wrong statements (lines, severity, claims):")
    for e in sm.ENTRIES:
        if e.verdict == "wrong":
            a, b = e.lines
            where = f"{a}" if a == b else f"{a}-{b}"
            print(f"  {where:8s} {e.severity:10s} {', '.join(e.claims) or '-'}")
    return 0


USAGE = "usage: python -m ntkbook verify [--chapter TEXT] [--list] [--json FILE]\n       python -m ntkbook source-map [--json]"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in {"-h", "--help"}:
        print(USAGE)
        return 0 if argv else 2
    if argv[0] == "source-map":
        try:
            return source_map(argv[1:])
        except BrokenPipeError:  # `source-map --json | head`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    if argv[0] == "verify":
        try:
            return verify(argv[1:])
        except BrokenPipeError:  # `verify --list | head`: the reader left, which is not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    print(
        f"unknown command {argv[0]!r}; try: python -m ntkbook verify, or python -m ntkbook source-map", file=sys.stderr
    )
    return 2


if __name__ == "__main__":
    sys.exit(main())
