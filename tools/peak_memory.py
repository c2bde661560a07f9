"""Peak memory of executing each chapter: what a reader's kernel needs (Binder gives 1-2 GB).

Each notebook is executed by ``python -m ntkbook.notebook`` in a process of its own (a fresh kernel, on the
CPU, as ``make execute``); the peak resident set size of that process and the kernel it started (both are
waited for, so ``wait4`` reports the largest of them) is printed per notebook, with the wall time.

Usage: ``python tools/peak_memory.py [--in-place] [NOTEBOOK ...]`` (default: every ``book/*.ipynb``).
Without ``--in-place`` a temporary copy is executed (next to the original, so relative paths resolve, and
removed afterwards); with it the notebook is re-executed in place, exactly as ``make execute`` does.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run(path: pathlib.Path, in_place: bool) -> tuple[int, float, int]:
    """(exit status, wall seconds, peak RSS in bytes) of executing one notebook."""
    target = path if in_place else path.with_name(f".peak-memory-{path.name}")
    if not in_place:
        shutil.copyfile(path, target)
    env = dict(os.environ, JAX_PLATFORMS=os.environ.get("JAX_PLATFORMS", "cpu"))
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ntkbook.notebook", str(target)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if not in_place:
            target.unlink(missing_ok=True)
    return proc.returncode, time.perf_counter() - t0, usage.ru_maxrss * 1024  # Linux: ru_maxrss in KiB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/peak_memory.py", description=__doc__.splitlines()[0])
    parser.add_argument("--in-place", action="store_true", help="re-execute in place (as make execute)")
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    failed = 0
    print(f"{'notebook':40s} {'peak RSS':>10s} {'wall':>7s}")
    for path in paths:
        rc, wall, peak = run(path.resolve(), args.in_place)
        failed += rc != 0
        print(f"{path.name:40s} {peak / 1e9:8.2f} GB {wall:6.1f} s{'  FAILED' if rc else ''}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
