"""One library's side of ``make bench-peer`` (:mod:`benchmarks.peer`), run in that library's own venv.

Standalone on purpose: it imports only NumPy, JAX and the library it times (``ntkbook`` in the project's venv,
``neural_tangents`` 0.6.5 with its own JAX 0.4.23 in ``.venv-peer``), never the rest of the project, so it runs
under either JAX. It reads one JSON command per line on stdin and answers one JSON line on stdout:

* ``{"cmd": "setup", "x": path, "depth": L, "beta": b, "cases": [...], "quad_x": path, "quad_depth": L,
  "quad_cases": [...]}`` -- load the inputs (``.npy`` files, float64), build each case's function and call it
  once (compiling); answers the first-call times. The quadrature cases (activations without a closed form in
  ntkbook: tanh, gelu) run on their own, smaller inputs at their own depth. A case is
  ``gram`` (``jit(x xᵀ/n0)``, the reference subtracted in "ns per entry per layer") or ``<activation>-<call>``
  with ``call`` ``direct`` (the library's function as its users call it without ``jit``) or ``jit`` (inside the
  user's own ``jax.jit``);
* ``{"cmd": "time", "case": name}`` -- one warm call, blocked until ready: wall and CPU seconds;
* ``{"cmd": "check", "x": path, "out": path, "cases": [...], "depth": L}`` -- ``(Σ, K)`` of the cases on small
  inputs (at ``depth``, default the setup's), saved to an ``.npz`` for the driver to compare across the libraries;
* ``{"cmd": "quit"}``.

Both libraries compute the same pair: ``Σ^(1) = K^(1) = x·x'/n0 + β²`` and ``depth - 1`` layers of the
activation (neural-tangents: ``stax.serial`` of ``Dense(W_std=1, b_std=β)`` and the activation, NTK
parameterization, ``kernel_fn(x, None, ("nngp", "ntk"))``).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402


def _ntkbook(activation, depth, beta):
    from ntkbook import infinite_ntk

    return functools.partial(infinite_ntk.infinite_width_kernels, depth=depth, activation=activation, beta=beta)


def _neural_tangents(activation, depth, beta):
    from neural_tangents import stax

    act = {
        "relu": stax.Relu,
        "erf": stax.Erf,
        "identity": stax.Identity,
        # no closed form: neural-tangents' Gauss-Hermite rule at the degree its documentation uses (no error control)
        "tanh": lambda: stax.ElementwiseNumerical(jnp.tanh, deg=25),
        "gelu": stax.Gelu,
    }[activation]
    layers = []
    for _ in range(depth - 1):
        layers += [stax.Dense(1, W_std=1.0, b_std=beta), act()]
    _, _, kernel_fn = stax.serial(*layers, stax.Dense(1, W_std=1.0, b_std=beta))
    return lambda x: tuple(kernel_fn(x, None, ("nngp", "ntk")))


def _version(lib):
    if lib == "ntkbook":
        import ntkbook

        return getattr(ntkbook, "__version__", "")
    import neural_tangents

    return getattr(neural_tangents, "__version__", "")


def build(lib, case, depth, beta, n0):
    if case == "gram":
        return jax.jit(lambda x: x @ x.T / n0)
    activation, call = case.rsplit("-", 1)
    fn = (_ntkbook if lib == "ntkbook" else _neural_tangents)(activation, depth, beta)
    return fn if call == "direct" else jax.jit(fn)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", choices=("ntkbook", "neural-tangents"), required=True)
    args = ap.parse_args(argv)
    fns, inputs, params = {}, {}, {}

    def reply(**kw):
        sys.stdout.write(json.dumps(kw) + "\n")
        sys.stdout.flush()

    reply(
        ready=True,
        lib=args.lib,
        version=_version(args.lib),
        jax=jax.__version__,
        python=sys.version.split()[0],
        glibc_tunables=os.environ.get("GLIBC_TUNABLES", ""),
    )
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "quit":
            break
        if msg["cmd"] == "setup":
            x = jnp.asarray(np.load(msg["x"]))
            params = dict(depth=msg["depth"], beta=msg["beta"], n0=x.shape[1])
            first = {}
            for case in msg["cases"]:
                fns[case] = build(args.lib, case, **params)
                inputs[case] = x
            if msg.get("quad_cases"):
                xq = jnp.asarray(np.load(msg["quad_x"]))
                for case in msg["quad_cases"]:
                    fns[case] = build(args.lib, case, **dict(params, depth=msg["quad_depth"], n0=xq.shape[1]))
                    inputs[case] = xq
            for case in fns:
                t0 = time.perf_counter()
                jax.block_until_ready(fns[case](inputs[case]))
                first[case] = time.perf_counter() - t0
            reply(first=first)
        elif msg["cmd"] == "time":
            fn = fns[msg["case"]]
            c0, t0 = time.process_time(), time.perf_counter()
            jax.block_until_ready(fn(inputs[msg["case"]]))
            reply(wall=time.perf_counter() - t0, cpu=time.process_time() - c0)
        elif msg["cmd"] == "check":
            xs = jnp.asarray(np.load(msg["x"]))
            out = {}
            for case in msg["cases"]:
                s, k = build(args.lib, case, **dict(params, n0=xs.shape[1], depth=msg.get("depth", params["depth"])))(
                    xs
                )
                out[f"{case}-nngp"], out[f"{case}-ntk"] = np.asarray(s), np.asarray(k)
            np.savez(msg["out"], **out)
            reply(saved=msg["out"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
