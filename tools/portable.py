"""The portable pass: nbval over every chapter on machines that differ from the one that stored it.

The stored outputs of the chapters were written on one CPU. A reader's machine, CI's runner or the
Pages workflow computes them again with other rounding: XLA compiles for another instruction set,
OpenBLAS picks another kernel, a different number of threads sums in another order. This runs nbval
(strict: every stored output compared) under such perturbed machines, so an output that prints a
digit another machine changes fails here, on the day it is stored:

* ``avx``:    ``XLA_FLAGS=--xla_cpu_max_isa=AVX``    (no AVX2, no FMA, no AVX-512)
* ``sse4_2``: ``XLA_FLAGS=--xla_cpu_max_isa=SSE4_2`` (no AVX at all)

and in both NumPy's OpenBLAS forced to its Sandy Bridge kernel (``OPENBLAS_CORETYPE``) and one
thread per process, pinned to one core (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, CPU
affinity). With two or more cores the variants run side by side, one core each.

With ``--alongside CMD`` (what ``make test`` does) the variants run one after the other on the first
core while ``CMD`` (the unit tests) runs on the others, its output shown as it comes; ``--then CMD2`` runs
``CMD2`` (the build and browser tests) on the first core once the variants are done. On two cores the whole
of ``make test`` then takes about as long as its longer half.

Usage: ``python tools/portable.py [--variant avx|sse4_2 ...] [--alongside CMD] [--then CMD2] [NOTEBOOK ...]``
(default: both variants, every ``book/*.ipynb``). Exits non-zero if any pass (or ``CMD``) fails;
each pass's log is written to ``_build/portable-<variant>.log``.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shlex
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]

VARIANTS = {
    "avx": "--xla_cpu_max_isa=AVX",
    "sse4_2": "--xla_cpu_max_isa=SSE4_2",
}

# The same in every variant: another BLAS kernel, one thread.
COMMON_ENV = {
    "OPENBLAS_CORETYPE": "Sandybridge",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "JAX_PLATFORMS": "cpu",
    "PYTHONHASHSEED": "0",
}


def variant_env(variant: str) -> dict[str, str]:
    """The environment of one perturbed machine (added to the current one)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
    env = dict(os.environ)
    env.update(COMMON_ENV)
    env["XLA_FLAGS"] = " ".join(filter(None, [os.environ.get("XLA_FLAGS", ""), VARIANTS[variant]]))
    return env


def _cores() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux: no pinning
        return []


def start(variant: str, notebooks: list[str], core: int | None, log: pathlib.Path) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        "-q",
        "--no-header",
        "--nbval",
        "--nbval-current-env",
        "--nbval-cell-timeout=300",
        *notebooks,
    ]
    # The notebook kernels that nbval starts inherit the environment and the affinity.
    pin = (lambda: os.sched_setaffinity(0, {core})) if core is not None else None
    return subprocess.Popen(
        cmd, cwd=ROOT, env=variant_env(variant), stdout=log.open("w"), stderr=subprocess.STDOUT, preexec_fn=pin
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/portable.py", description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS), help="default: all of them")
    parser.add_argument("--alongside", default=None, help="a command to run on the other cores meanwhile")
    parser.add_argument("--then", default=None, help="a command to run on the first core once the variants are done")
    parser.add_argument("notebooks", nargs="*", help="default: every book/*.ipynb")
    args = parser.parse_args(argv)
    variants = args.variant or list(VARIANTS)
    notebooks = args.notebooks or sorted(str(p.relative_to(ROOT)) for p in (ROOT / "book").glob("*.ipynb"))
    cores = _cores()
    (ROOT / "_build").mkdir(exist_ok=True)
    t0 = time.perf_counter()
    alongside = None
    if args.alongside:
        # The command keeps every core but the first; alone on one core it would run first.
        others = cores[1:] or None
        pin_others = (lambda: os.sched_setaffinity(0, set(others))) if others else None
        if others is None:
            print(f"one core: running {args.alongside!r} first", flush=True)
            rc = subprocess.run(shlex.split(args.alongside), cwd=ROOT).returncode
            if rc != 0:
                return rc
        else:
            alongside = subprocess.Popen(shlex.split(args.alongside), cwd=ROOT, preexec_fn=pin_others)
    # Side by side when there is a core for each variant and nothing else to run; else one after the other.
    parallel = alongside is None and len(cores) >= len(variants)
    print(
        f"portable pass: {len(notebooks)} notebooks under {', '.join(variants)} "
        f"({'side by side, one core each' if parallel else 'one after the other, on one core'}); "
        f"OpenBLAS {COMMON_ENV['OPENBLAS_CORETYPE']}, one thread",
        flush=True,
    )
    failed = []
    if parallel:
        running = [(v, start(v, notebooks, cores[i], _log(v)), _log(v)) for i, v in enumerate(variants)]
        for _, proc, _ in running:
            proc.wait()
        failed += _report(running)
    else:
        for v in variants:
            proc = start(v, notebooks, cores[0] if cores else None, _log(v))
            proc.wait()
            failed += _report([(v, proc, _log(v))])
    print(
        f"portable pass: {'FAILED: ' + ', '.join(failed) if failed else 'passed'} in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    if args.then:
        # The first core is free again: the rest of the tests use it while CMD finishes on the others.
        pin_first = (lambda: os.sched_setaffinity(0, {cores[0]})) if cores else None
        t1 = time.perf_counter()
        if subprocess.run(shlex.split(args.then), cwd=ROOT, preexec_fn=pin_first).returncode != 0:
            failed.append(args.then)
        print(f"then: {args.then!r} took {time.perf_counter() - t1:.0f} s", flush=True)
    if alongside is not None and alongside.wait() != 0:
        failed.append(args.alongside)
    return 1 if failed else 0


def _log(variant: str) -> pathlib.Path:
    return ROOT / "_build" / f"portable-{variant}.log"


def _report(done) -> list[str]:
    failed = []
    for v, proc, log in done:
        text = log.read_text()
        # The failures in full, then pytest's closing line.
        if proc.returncode != 0:
            failed.append(v)
            print(f"--- {v}: nbval failed (log {log.relative_to(ROOT)}):\n{text[-12000:]}")
        last = [line for line in text.splitlines() if line.strip()][-1:] or ["(no output)"]
        print(f"[{v}] {last[0]}", flush=True)
    return failed


if __name__ == "__main__":
    sys.exit(main())
