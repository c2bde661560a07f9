"""The whole book: wall time of executing every notebook under nbval and of building the HTML.

Each notebook runs in its own ``pytest --nbval`` process on this machine as it is (``make nbval``;
``make test`` runs the same on two perturbed machines); the build is what ``make book`` does -- the
ledger and errata pages rendered from the stored results, then ``jupyter-book build . -W -n
--keep-going`` -- into a temporary folder, so ``_build`` is untouched.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run(log=print) -> list[dict]:
    rows = []
    bin_dir = pathlib.Path(sys.executable).parent
    env_cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--nbval",
        "--nbval-current-env",
        "--nbval-cell-timeout=300",
    ]
    total = 0.0
    for nb in sorted((ROOT / "book").glob("*.ipynb")):
        t0 = time.perf_counter()
        proc = subprocess.run([*env_cmd, str(nb.relative_to(ROOT))], cwd=ROOT, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        total += dt
        rows.append(dict(what=f"nbval {nb.name}", time=dt, ok=proc.returncode == 0))
        log(f"  book {nb.name:40s} {dt:7.1f} s  {'ok' if proc.returncode == 0 else 'FAILED'}")
    rows.append(dict(what="nbval, all notebooks", time=total, ok=all(r["ok"] for r in rows)))
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        # make book: the ledger and errata pages (rendered from the stored results), then the build.
        subprocess.run([sys.executable, "-m", "ntkbook.claims.ledger"], cwd=ROOT, capture_output=True, check=True)
        proc = subprocess.run(
            [str(bin_dir / "jupyter-book"), "build", ".", "-W", "-n", "--keep-going", "--path-output", out],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        dt = time.perf_counter() - t0
    rows.append(
        dict(
            what="make book (ledger from the stored results, jupyter-book build -W -n)",
            time=dt,
            ok=proc.returncode == 0,
        )
    )
    log(f"  book build {dt:7.1f} s  {'ok' if rows[-1]['ok'] else 'FAILED'}")
    return rows
