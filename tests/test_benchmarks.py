"""Smoke tests of the benchmark suite (``make bench`` is not part of ``make test``, so this keeps it runnable):
each part runs on a tiny grid, and the report renders from the saved results."""

import json
import pathlib
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from benchmarks import __main__ as bench_main  # noqa: E402
from benchmarks import allocation, analytic, common, empirical, peer, strategy  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
MATMUL = {"float64": 1e10, "float32": 2e10}


def test_analytic_tiny_grid_runs_and_agrees():
    grid = [
        dict(n=64, n0=8, depth=3, activation="relu", dtype="float64"),
        dict(n=32, n0=8, depth=2, activation="tanh", dtype="float64"),
    ]
    rows = analytic.run(grid, copy_bw=1e9, matmul=MATMUL, repeats=1, log=lambda *a: None)
    impls = {(r["activation"], r["impl"]) for r in rows}
    want = {
        ("relu", "straightforward"),
        ("relu", "library"),
        ("relu", "library-jit"),
        ("relu", "fast"),
        ("tanh", "library"),
    }
    assert want <= impls
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


def test_peer_worker_answers_and_agrees_with_the_library(tmp_path):
    # the ntkbook side of `make bench-peer` in its own process (neural-tangents' venv is not part of the tests)
    x = np.random.default_rng(0).standard_normal((48, 8))
    np.save(tmp_path / "x.npy", x)
    w = peer.Worker(sys.executable, "ntkbook", "")
    try:
        assert w.info["ready"] and w.info["glibc_tunables"] == ""
        cases = ["gram", "relu-direct", "relu-jit", "erf-jit"]
        first = w.ask(cmd="setup", x=str(tmp_path / "x.npy"), depth=3, beta=0.1, cases=cases)["first"]
        assert set(first) == set(cases)
        t = w.ask(cmd="time", case="relu-jit")
        assert t["wall"] > 0 and t["cpu"] >= 0
        w.ask(cmd="check", x=str(tmp_path / "x.npy"), out=str(tmp_path / "o.npz"), cases=cases[1:])
        got = np.load(tmp_path / "o.npz")
    finally:
        w.close()
    from ntkbook import infinite_ntk

    want = infinite_ntk.infinite_width_kernels(x, depth=3, activation="relu", beta=0.1)
    np.testing.assert_array_equal(got["relu-direct-ntk"], np.asarray(want[1]))
    np.testing.assert_allclose(got["relu-jit-nngp"], np.asarray(want[0]), rtol=1e-14)


def _fake_setting(tunables, nt_direct=True):
    rows = []
    for lib, scale in (("neural-tangents", 5.0), ("ntkbook", 1.0)):
        rows.append(dict(lib=lib, case="gram", median=0.3, min=0.3, max=0.3, n=3, cpu=0.6, first=1.0))
        for act in peer.ACTIVATIONS:
            for call in peer.CALLS:
                if lib == "neural-tangents" and call == "direct" and not nt_direct:
                    continue
                ns = scale * (2.0 if call == "direct" and lib == "neural-tangents" else 1.0)
                rows.append(
                    dict(
                        lib=lib, case=f"{act}-{call}", median=0.3 + ns * 0.05, min=0.3, max=1.0, n=3, cpu=1.0, first=2.0,
                        ns_entry_layer=ns, ns_rounds=[ns, ns * 1.1, ns * 0.9], cpu_ns_entry_layer=ns,
                    )
                )  # fmt: skip
    info = {lib: dict(version="0.6.5" if lib != "ntkbook" else "", jax="0.x", python="3.11") for lib in peer.LIBS}
    agree = {"relu-jit-ntk": (1e-15, 3e-8)}
    return dict(tunables=tunables, info=info, rows=rows, agree=agree)


def test_peer_report_renders_ratios_and_the_target():
    res = dict(
        machine=dict(cpu="CPU", cores=2, load_start="1 1 1", load_end="1 1 1", date="today", wall_seconds=1.0),
        params=dict(n=64, n0=8, depth=4, beta=0.1, repeats=3),
        settings=[_fake_setting(""), _fake_setting(peer.TUNABLE, nt_direct=False)],
    )
    q = {(r["activation"], r["call"]): r for r in peer.ratios(res["settings"][0])}
    assert q[("relu", "jit")]["vs_nt_jit"] == pytest.approx(5.0) and q[("relu", "direct")][
        "same_call"
    ] == pytest.approx(10.0)
    assert peer.ratios(res["settings"][1])[0]["same_call"] is None  # neural-tangents without jit not timed there
    md = peer.report(res)
    assert "## ntkbook beside neural-tangents" in md and "met (direct 5.0×, jit 5.0×)" in md
    assert "(not timed)" in md
