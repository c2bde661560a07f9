"""``make bench-peer``: ntkbook beside neural-tangents 0.6.5, each as its users call it, in one run.

The case of issue 17: ``(Σ, K)`` of ``depth`` = 4 affine layers (three ReLU or erf layers), β = 0.1, float64,
N = 4096 inputs of dimension n0 = 784 (standard normal, seeded, the same file for both), ``x2 = None``. Each
library runs in its own process and venv (:mod:`benchmarks.peer_worker`; neural-tangents needs JAX 0.4.23,
``.venv-peer``), started from a plain environment -- no ``GLIBC_TUNABLES`` -- and the two are timed turn about:
every round calls each case of each library once, the library that goes first alternating from round to
round, so a change of the machine's load falls on both alike. Reported: the median of the warm calls (after
one compiling call), their range, and ns per entry per layer beyond the Gram matrix,
``(t - t_Gram) / (N² (depth - 1))``, with ``t_Gram`` the same process's ``jit(x xᵀ/n0)``. The calls:

* ``direct``: ``infinite_width_kernels(x, depth=4, activation=..., beta=0.1)``; neural-tangents'
  ``kernel_fn(x, None, ("nngp", "ntk"))`` as returned by ``stax.serial`` (no ``jit``);
* ``jit``: the same inside the user's own ``jax.jit`` (``jax.jit(functools.partial(infinite_width_kernels,
  ...))``; ``jax.jit(kernel_fn)``).

Then the same again with ``GLIBC_TUNABLES=glibc.malloc.hugetlb=1`` (huge pages for glibc's ``malloc``, see
:mod:`benchmarks.allocation`) in both processes: what the setting adds on top. Before timing, both libraries
compute the kernels of 64 of the inputs and the driver compares them (they must agree to rounding).

Writes ``benchmarks/results/peer.json`` and ``peer.md`` (and a time-stamped copy of the JSON), and renders the
benchmark appendix again, which shows ``peer.md``. Options: ``--peer-python`` (the venv's interpreter),
``--n``, ``--repeats``, ``--no-hugepages``, ``--no-page``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
WORKER = ROOT / "benchmarks" / "peer_worker.py"
TUNABLE = "glibc.malloc.hugetlb=1"
ACTIVATIONS = ("relu", "erf")
CALLS = ("direct", "jit")
TARGET_RATIO = 3.0  # issue 17: >= 3x neural-tangents per entry per layer, directly and under jit, plain environment
# issue 17's quadrature case: an activation without a closed form, N = 256, depth 3, <= 0.2 s per call
QUAD_ACTIVATIONS = ("tanh", "gelu")
QUAD_N, QUAD_DEPTH, QUAD_TARGET_S = 256, 3, 0.2
LIBS = ("neural-tangents", "ntkbook")


class Worker:
    """One library's process (:mod:`benchmarks.peer_worker`), spoken to by JSON lines."""

    def __init__(self, python: str, lib: str, tunables: str):
        env = {k: v for k, v in os.environ.items() if k not in ("GLIBC_TUNABLES", "XLA_FLAGS")}
        if tunables:
            env["GLIBC_TUNABLES"] = tunables
        env.update(JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3")
        self.lib = lib
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [python, str(WORKER), "--lib", lib],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
            cwd=str(ROOT),
        )
        self.info = self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.log.seek(0)
            raise RuntimeError(f"the {self.lib} worker stopped:\n{self.log.read()[-4000:]}")
        return json.loads(line)

    def ask(self, **msg) -> dict:
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        try:
            self.proc.stdin.write('{"cmd": "quit"}\n')
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait(timeout=60)
        self.proc.stdout.close()
        self.log.close()


def _scaled_error(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """max |a - b| / sqrt(b_ii b_jj) (the error relative to each entry's scale): off the diagonal, on it."""
    d = np.sqrt(np.abs(np.diag(b)))
    err = np.abs(a - b) / np.outer(d, d)
    on = np.eye(len(err), dtype=bool)
    return float(err[~on].max()), float(err[on].max())


def run_setting(
    peer_python: str,
    tunables: str,
    x_path: str,
    small_path: str,
    *,
    n: int,
    depth: int,
    beta: float,
    repeats: int,
    log,
    nt_direct: bool = True,
    quad_path: str | None = None,
) -> dict:
    """Both workers under one allocator setting: compile, cross-check, then ``repeats`` interleaved rounds.
    ``nt_direct=False`` leaves out neural-tangents' calls without jit (several times slower than its jit)."""
    cases = ["gram"] + [f"{a}-{c}" for a in ACTIVATIONS for c in CALLS]
    quad_cases = [f"{a}-{c}" for a in QUAD_ACTIVATIONS for c in CALLS] if quad_path else []
    lib_cases = {
        "neural-tangents": [c for c in cases if nt_direct or not c.endswith("-direct")],
        "ntkbook": cases,
    }
    workers = {
        "neural-tangents": Worker(peer_python, "neural-tangents", tunables),
        "ntkbook": Worker(sys.executable, "ntkbook", tunables),
    }
    try:
        first = {
            lib: w.ask(
                cmd="setup",
                x=x_path,
                depth=depth,
                beta=beta,
                cases=lib_cases[lib],
                quad_x=quad_path,
                quad_depth=QUAD_DEPTH,
                quad_cases=quad_cases,
            )["first"]
            for lib, w in workers.items()
        }
        for lib in workers:
            lib_cases[lib] = lib_cases[lib] + quad_cases
        with tempfile.TemporaryDirectory() as tmp:
            outs = {}
            for lib, w in workers.items():
                w.ask(cmd="check", x=small_path, out=f"{tmp}/{lib}.npz", cases=cases[1:])
                outs[lib] = dict(np.load(f"{tmp}/{lib}.npz"))
            if quad_cases:
                for lib, w in workers.items():
                    w.ask(cmd="check", x=quad_path, out=f"{tmp}/{lib}-q.npz", cases=quad_cases, depth=QUAD_DEPTH)
                    outs[lib].update(np.load(f"{tmp}/{lib}-q.npz"))
        agree = {k: _scaled_error(outs["ntkbook"][k], outs["neural-tangents"][k]) for k in outs["ntkbook"]}
        times = {lib: {c: [] for c in lib_cases[lib]} for lib in workers}
        cpu = {lib: {c: [] for c in lib_cases[lib]} for lib in workers}
        for r in range(repeats):
            order = LIBS if r % 2 == 0 else LIBS[::-1]
            for case in cases + quad_cases:
                for lib in order:
                    if case not in lib_cases[lib]:
                        continue
                    t = workers[lib].ask(cmd="time", case=case)
                    times[lib][case].append(t["wall"])
                    cpu[lib][case].append(t["cpu"])
            log(f"  {tunables or 'plain':24s} round {r + 1}/{repeats} done, load {os.getloadavg()[0]:.2f}")
        info = {lib: w.info for lib, w in workers.items()}
    finally:
        for w in workers.values():
            w.close()
    per = n * n * (depth - 1)
    rows = []
    for lib in LIBS:
        g, gc = times[lib]["gram"], cpu[lib]["gram"]
        for case in lib_cases[lib]:
            ts = times[lib][case]
            row = dict(
                lib=lib,
                case=case,
                median=statistics.median(ts),
                min=min(ts),
                max=max(ts),
                n=len(ts),
                cpu=statistics.median(cpu[lib][case]),
                first=first[lib][case],
            )
            if case != "gram" and case not in quad_cases:
                row["ns_entry_layer"] = (row["median"] - statistics.median(g)) / per * 1e9
                # the same quantity round by round (each round's own Gram time): its spread
                row["ns_rounds"] = [(t - tg) / per * 1e9 for t, tg in zip(ts, g)]
                # and by CPU time (both threads; less sensitive to other processes sharing the cores)
                row["cpu_ns_entry_layer"] = (row["cpu"] - statistics.median(gc)) / per * 1e9
            rows.append(row)
    return dict(tunables=tunables, info=info, rows=rows, agree=agree)


def ratios(setting: dict) -> list[dict]:
    """For each activation and call: ntkbook against neural-tangents called the same way, and against
    neural-tangents' ``jax.jit(kernel_fn)`` (the reference of issue 17); per round as well (min..max)."""
    by = {(r["lib"], r["case"]): r for r in setting["rows"]}
    out = []
    for act in ACTIVATIONS:
        ref = by[("neural-tangents", f"{act}-jit")]
        for call in CALLS:
            nt, nb = by.get(("neural-tangents", f"{act}-{call}")), by[("ntkbook", f"{act}-{call}")]
            per_round = [a / b for a, b in zip(ref["ns_rounds"], nb["ns_rounds"]) if b > 0]
            out.append(
                dict(
                    activation=act,
                    call=call,
                    nt=nt,
                    ntkbook=nb,
                    same_call=nt and nt["ns_entry_layer"] / nb["ns_entry_layer"],
                    vs_nt_jit=ref["ns_entry_layer"] / nb["ns_entry_layer"],
                    vs_nt_jit_range=(min(per_round), max(per_round)) if per_round else None,
                    vs_nt_jit_cpu=ref["cpu_ns_entry_layer"] / nb["cpu_ns_entry_layer"],
                    per_call=ref["median"] / nb["median"],
                )
            )
    return out


def report(res: dict) -> str:
    from .common import table

    m = res["machine"]
    p = res["params"]
    first = res["settings"][0]["info"]
    out = [
        "## ntkbook beside neural-tangents",
        "",
        f"`make bench-peer`: $(\\Sigma, K)$ for x2 = None, N = {p['n']}, n0 = {p['n0']}, depth {p['depth']} ({p['depth'] - 1} "
        f"activation layers), $\\beta$ = {p['beta']}, float64, each library in its own process and venv, timed turn about "
        f"({p['repeats']} rounds; median of warm calls, range over rounds in brackets). ns/e/l: ns per entry per "
        "layer beyond the Gram matrix, $(t - t_{\\mathrm{Gram}})/(N^2(\\mathrm{depth} - 1))$. direct: the library's function as called "
        "without jit; jit: inside the user's own jax.jit. × NT jit: neural-tangents' jax.jit(kernel_fn) ns/e/l over "
        "ntkbook's (per round: min..max); the same ratio of CPU time (both threads of each process), less "
        "sensitive to other work sharing the cores; per call: the ratio of whole calls, Gram matrix included. "
        "For x2 = None ntkbook computes only the blocks on and above the diagonal, Gram products included, "
        "so its ns/e/l (which subtracts a whole Gram matrix) also holds that saving; the per-call ratio shows "
        "the two together.",
        "",
        table(
            [
                dict(k=k, v=v)
                for k, v in [
                    ("CPU", f"{m['cpu']}, {m['cores']} cores"),
                    ("load average at start / end (1, 5, 15 min)", f"{m['load_start']} / {m['load_end']}"),
                    (
                        "neural-tangents",
                        f"{first['neural-tangents']['version']} (JAX {first['neural-tangents']['jax']}, "
                        f"Python {first['neural-tangents']['python']})",
                    ),
                    ("ntkbook", f"JAX {first['ntkbook']['jax']}, Python {first['ntkbook']['python']}"),
                    ("date, wall time of the run", f"{m['date']}, {m['wall_seconds']:.0f} s"),
                ]
            ],
            [("k", "what"), ("v", "value")],
        ),
        "",
    ]
    rows = []
    for s in res["settings"]:
        for q in ratios(s):
            lo_hi = q["vs_nt_jit_range"]
            rows.append(
                dict(
                    env=s["tunables"] or "(none)",
                    case=f"{q['activation']}, {q['call']}",
                    nt=f"{q['nt']['median'] * 1e3:.0f} ms, {q['nt']['ns_entry_layer']:.1f}"
                    if q["nt"]
                    else "(not timed)",
                    nb=f"{q['ntkbook']['median'] * 1e3:.0f} ms [{q['ntkbook']['min'] * 1e3:.0f}-{q['ntkbook']['max'] * 1e3:.0f}], "
                    f"{q['ntkbook']['ns_entry_layer']:.1f}",
                    same=f"{q['same_call']:.1f}×" if q["same_call"] else "–",
                    ref=f"{q['vs_nt_jit']:.1f}×" + (f" [{lo_hi[0]:.1f}-{lo_hi[1]:.1f}]" if lo_hi else ""),
                    cpu=f"{q['vs_nt_jit_cpu']:.1f}×",
                    call=f"{q['per_call']:.1f}×",
                )
            )
    out += [
        table(
            rows,
            [
                ("env", "GLIBC_TUNABLES"),
                ("case", "activation, call"),
                ("nt", "neural-tangents: time/call, ns/e/l"),
                ("nb", "ntkbook: time/call, ns/e/l"),
                ("same", "× NT, same call"),
                ("ref", "× NT jit"),
                ("cpu", "× NT jit, CPU time"),
                ("call", "× NT jit, per call"),
            ],
        ),
        "",
    ]
    plain = res["settings"][0]
    tgt = [q for q in ratios(plain) if q["activation"] == "relu"]
    valid = all(q["ntkbook"]["ns_entry_layer"] > 0 and q["vs_nt_jit"] > 0 for q in tgt)
    met = valid and all(q["vs_nt_jit"] >= TARGET_RATIO for q in tgt)
    met_cpu = all(q["vs_nt_jit_cpu"] >= TARGET_RATIO for q in tgt)
    gram = {r["lib"]: r["median"] for r in plain["rows"] if r["case"] == "gram"}
    busy = max(float(m["load_start"].split()[0]), float(m["load_end"].split()[0])) > m["cores"]
    out += [
        f"Target (issue 17): ntkbook $\\ge {TARGET_RATIO:g}\\times$ neural-tangents' jit per entry per layer, ReLU, called directly "
        f"and under jit, without GLIBC_TUNABLES -- by the wall-clock medians: "
        + (
            ("met" if met else "NOT met") + " (" + ", ".join(f"{q['call']} {q['vs_nt_jit']:.1f}×" for q in tgt) + ")"
            if valid
            else "not measurable (a warm call took less than the Gram matrix alone: the timings are noise)"
        )
        + f"; by CPU time: {'met' if met_cpu else 'NOT met'} ("
        + ", ".join(f"{q['call']} {q['vs_nt_jit_cpu']:.1f}×" for q in tgt)
        + f"). Gram matrix alone: {gram['neural-tangents'] * 1e3:.0f} ms (JAX {first['neural-tangents']['jax']}), "
        f"{gram['ntkbook'] * 1e3:.0f} ms (JAX {first['ntkbook']['jax']}).",
        "",
    ]
    if busy:
        out += [
            f"**The machine was busy** (load average above its {m['cores']} cores at the start or the end): other "
            "processes took most of the cores, the wall-clock times are several times their value on a quiet "
            "machine and their ratios scatter widely (see the ranges); the CPU-time ratios are the steadier "
            "estimate. Run `make bench-peer` on a quiet machine for wall-clock figures.",
            "",
        ]
    out += _quadrature_report(res)
    out += [
        "The two libraries agree ($\\max \\lvert\\Delta\\rvert/\\sqrt{\\Sigma(x,x)\\Sigma(x',x')}$ over 64 of the inputs, off the diagonal / on it): "
        + ", ".join(f"{k} {v[0]:.0e} / {v[1]:.0e}" for k, v in sorted(plain["agree"].items()))
        + " -- on the diagonal of the ReLU NTK neural-tangents takes arccos of a correlation a rounding away from 1 "
        "(about $\\sqrt{\\epsilon}$); ntkbook's is exact there.",
    ]
    return "\n".join(out)


def _quadrature_report(res: dict) -> list[str]:
    """The quadrature case (issue 17): time per call against ``QUAD_TARGET_S``, beside neural-tangents."""
    p = res["params"]
    if "quad_n" not in p:
        return []
    from .common import table

    rows, met = [], []
    for s in res["settings"]:
        by = {(r["lib"], r["case"]): r for r in s["rows"]}
        for act in QUAD_ACTIVATIONS:
            for call in CALLS:
                nb, nt = by.get(("ntkbook", f"{act}-{call}")), by.get(("neural-tangents", f"{act}-{call}"))
                if nb is None:
                    continue
                if not s["tunables"]:
                    met.append(nb["median"] <= QUAD_TARGET_S)
                err = s["agree"].get(f"{act}-{call}-ntk")
                rows.append(
                    dict(
                        env=s["tunables"] or "(none)",
                        case=f"{act}, {call}",
                        nb=f"{nb['median'] * 1e3:.0f} ms [{nb['min'] * 1e3:.0f}-{nb['max'] * 1e3:.0f}], CPU {nb['cpu'] * 1e3:.0f} ms",
                        nt=f"{nt['median'] * 1e3:.0f} ms, CPU {nt['cpu'] * 1e3:.0f} ms" if nt else "(not timed)",
                        err=f"{err[0]:.0e} / {err[1]:.0e}" if err else "–",
                    )
                )
    nt_rule = "ElementwiseNumerical(tanh, deg=25)"
    return [
        f"**Activations without a closed form: N = {p['quad_n']}, depth {p['quad_depth']}.**",
        "",
        f"ntkbook's quadrature with its accuracy contract (relative error $\\le 10^{{-10}}$, or a refusal) beside neural-tangents' "
        f"(tanh: its fixed Gauss-Hermite rule `{nt_rule}`, no error control; gelu: its closed form). $\\Delta$: the NTKs' "
        "difference over 64 of the inputs, scaled as below (off the diagonal / on it).",
        "",
        table(
            rows,
            [
                ("env", "GLIBC_TUNABLES"),
                ("case", "activation, call"),
                ("nb", "ntkbook: time/call"),
                ("nt", "neural-tangents: time/call"),
                ("err", "$\\Delta$ NTK"),
            ],
        ),
        "",
        f"Target (issue 17): $\\le$ {QUAD_TARGET_S:g} s per call, without GLIBC_TUNABLES: "
        + ("met" if met and all(met) else "NOT met")
        + ".",
        "",
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.peer", description=__doc__.split("\n\n")[0])
    ap.add_argument("--peer-python", default=str(ROOT / ".venv-peer" / "bin" / "python"))
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--n0", type=int, default=784)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--no-hugepages", action="store_true", help="only the plain environment")
    ap.add_argument("--no-page", action="store_true", help="do not render the appendix again")
    ap.add_argument("--out", default=None, help="results name (default peer: benchmarks/results/peer.{json,md})")
    ap.add_argument("--no-nt-direct", action="store_true", help="time neural-tangents under jit only")
    ap.add_argument("--no-quadrature", action="store_true", help="leave out the tanh/gelu cases (N = 256)")
    ap.add_argument("--from-json", default=None, help="render the report (and the appendix) from saved results")
    args = ap.parse_args(argv)
    if args.from_json:
        res = json.loads(pathlib.Path(args.from_json).read_text())
        return _write(res, args.out or "peer", page=not args.no_page, stamp=None)
    if not pathlib.Path(args.peer_python).exists():
        print(f"no {args.peer_python}: run `make bench-peer` (it builds .venv-peer)", file=sys.stderr)
        return 2
    from .common import machine

    t_start = time.perf_counter()
    info = machine()
    info["load_start"] = info.pop("load_average")
    print(f"bench-peer | {info['cpu']} | {info['cores']} cores | load {info['load_start']}")
    params = dict(n=args.n, n0=args.n0, depth=args.depth, beta=args.beta, repeats=args.repeats)
    if not args.no_quadrature:
        params.update(quad_n=QUAD_N, quad_depth=QUAD_DEPTH)
    with tempfile.TemporaryDirectory() as tmp:
        x = np.random.default_rng(0).standard_normal((args.n, args.n0))
        np.save(f"{tmp}/x.npy", x)
        np.save(f"{tmp}/small.npy", x[:64])
        np.save(f"{tmp}/quad.npy", x[:QUAD_N])
        settings = []
        for tunables in ("",) if args.no_hugepages else ("", TUNABLE):
            settings.append(
                run_setting(
                    args.peer_python,
                    tunables,
                    f"{tmp}/x.npy",
                    f"{tmp}/small.npy",
                    n=args.n,
                    depth=args.depth,
                    beta=args.beta,
                    repeats=args.repeats,
                    log=print,
                    # neural-tangents without jit (several times slower than with it) in the plain environment only
                    nt_direct=not args.no_nt_direct and not tunables,
                    quad_path=None if args.no_quadrature else f"{tmp}/quad.npy",
                )
            )
    info["load_end"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    info["wall_seconds"] = time.perf_counter() - t_start
    info["date"] = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    res = dict(machine=info, params=params, settings=settings)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return _write(res, args.out or "peer", page=not args.no_page, stamp=stamp)


def _write(res: dict, name: str, *, page: bool, stamp: str | None) -> int:
    """Print the report; write ``<name>.json``/``.md`` (and ``<name>-<stamp>.json``); render the appendix again."""
    md = report(res)
    print()
    print(md)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(res, indent=1, default=str))
    if stamp:
        (RESULTS / f"{name}-{stamp}.json").write_text(json.dumps(res, indent=1, default=str))
    (RESULTS / f"{name}.md").write_text(md + "\n")
    if page and name == "peer":
        from . import __main__ as bench

        latest = RESULTS / "latest.json"
        if latest.exists():
            main_res = json.loads(latest.read_text())
            bench.PAGE.write_text(bench.page(bench.report(main_res), main_res))
            print(f"wrote {bench.PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
