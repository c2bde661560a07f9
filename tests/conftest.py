"""Shared test set-up: float64 JAX on the CPU (the stored notebook outputs are CPU outputs)."""

import os

# Must be set before JAX initialises a backend; notebook kernels started by nbval inherit it.
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import pathlib  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import pytest  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_root():
    return ROOT


@dataclass
class Build:
    returncode: int
    log: str


@pytest.fixture(scope="session")
def built_book():
    """Build the book once per test session, exactly as `make book` does, into _build/html."""
    from ntkbook.claims.ledger import write_pages

    # The ledger and errata pages are rendered from the chapters' stored outputs: no claim runs here.
    n, bad = write_pages(ROOT / "book")
    log = [f"ledger: {n} claims, {bad} not as expected"]
    bin_dir = pathlib.Path(sys.executable).parent
    proc = subprocess.run(
        [str(bin_dir / "jupyter-book"), "build", str(ROOT), "-W", "-n", "--keep-going"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    log.append(proc.stdout + proc.stderr)
    return Build(proc.returncode, "\n".join(log))
