"""Smoke tests of the benchmark suite (``make bench`` is not part of ``make test``, so this keeps it runnable):
each part runs on a tiny grid, and the report renders from the saved results."""

import json
import pathlib

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from benchmarks import __main__ as bench_main  # noqa: E402
from benchmarks import allocation, analytic, common, empirical, strategy  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
MATMUL = {"float64": 1e10, "float32": 2e10}


def test_analytic_tiny_grid_runs_and_agrees():
    grid = [
        dict(n=64, n0=8, depth=3, activation="relu", dtype="float64"),
        dict(n=32, n0=8, depth=2, activation="tanh", dtype="float64"),
    ]
    rows = analytic.run(grid, copy_bw=1e9, matmul=MATMUL, repeats=1, log=lambda *a: None)
    impls = {(r["activation"], r["impl"]) for r in rows}
    assert {("relu", "straightforward"), ("relu", "library"), ("relu", "fast"), ("tanh", "library")} <= impls
    errs = [r["rel_err"] for r in rows if r.get("rel_err") is not None]
    assert errs and max(errs) <= 1e-12, errs
    assert all(r["time"] > 0 and r["ns_entry_layer"] > 0 for r in rows)


def test_empirical_tiny_grid_judges_the_automatic_choice():
    grid = [dict(widths=(4, 8, 1), n=8, dtype="float32")]
    rows = empirical.run(grid, matmul=MATMUL, repeats=1, log=lambda *a: None)
    autos = [r for r in rows if r["strategy"].startswith("auto")]
    assert len(autos) == 2 and all("within_10pct" in r for r in autos)


def test_strategy_fit_on_a_tiny_design():
    cases = strategy.design(n_cases=4, flop_budget=1e7)
    assert len(cases) == 4 and cases[3]["dtype"] == "float64"
    rows = strategy.measure(cases, repeats=1, log=lambda *a: None)
    ev = strategy.evaluate(rows)
    assert len(ev["loo"]) == len(ev["library"]) == 4
    assert "leave-one-out" in strategy.report(rows, ev)


def test_strategy_fit_recovers_a_known_model():
    # times made exactly by a known model: the fit must give its coefficients back (to rounding)
    truth = {
        "jacobian": {"overhead": 4e-4, "per_flop": 5e-12, "per_byte": 1.5e-10},
        "products": {"overhead": 7e-4, "per_flop": 6e-12, "per_byte": 0.0},
    }
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(12):
        row = dict(itemsize=int(rng.choice([4, 8])))
        for s in strategy.GENERIC:
            row[s] = dict(flops=float(rng.uniform(1e8, 1e11)), bytes=float(rng.uniform(1e6, 1e9)))
            row[s]["time"] = strategy.predict(truth, row, s)
        rows.append(row)
    model = strategy.fit(rows)
    for s in strategy.GENERIC:
        for k in strategy.TERMS:
            assert model[s][k] == pytest.approx(truth[s][k], rel=1e-6, abs=1e-18), (s, k)


def test_timed_interleaved_runs_each_function_alike():
    calls = []
    t = common.timed_interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3)
    assert t["a"]["n"] == t["b"]["n"] >= 3
    assert calls[2:8] == ["a", "b"] * 3  # after one cold call each: round-robin


def test_bandwidths_count_faults():
    # a smoke test: the rates and the fault count depend on the machine (huge pages or not), so only
    # that the measurement runs and returns finite positive rates is checked here
    b = allocation.bandwidths(size_mb=8)
    assert set(b) == {"fresh", "in_place", "faults_per_call", "pages"}
    assert 0 < b["fresh"] < float("inf") and 0 < b["in_place"] < float("inf")


def test_machine_and_report_render_from_saved_results():
    info = common.machine()
    assert {"cpu", "cores", "jax", "glibc_tunables", "transparent_hugepage"} <= set(info)
    res = json.loads((ROOT / "benchmarks" / "results" / "latest.json").read_text())
    md = bench_main.report(res)
    assert "## Targets" in md and "## Analytic kernels" in md and "## Empirical NTK" in md
    if (ROOT / "benchmarks" / "results" / "strategy-fit.md").exists():
        assert "## The automatic strategy of the empirical NTK" in bench_main.page(md, res)
