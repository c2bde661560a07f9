"""Tests of ntkbook.tiling: tiled kernels equal untiled ones, the sharded path equals the unsharded
one (in a subprocess with 4 forced host devices), bad inputs."""

import functools
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from ntkbook import _fast, infinite_ntk, mlp, ntk, tiling


@pytest.fixture(scope="module")
def data():
    k1, k2 = jax.random.split(jax.random.key(21))
    return np.asarray(jax.random.normal(k1, (150, 12))), np.asarray(jax.random.normal(k2, (70, 12)))


FAST = functools.partial(_fast.kernels, depth=3, beta=0.1)


@pytest.mark.parametrize("tile_size", [1, 32, 64, 150, 1000])
def test_fast_kernels_tiled_equal_untiled_bit_for_bit(data, tile_size):
    # every entry comes from the same elementwise code; the row norms are summed in a shape-independent
    # order and the Gram entries of a block equal those of the full product (for blocks of >= 2 rows):
    # exact equality
    x1, x2 = data
    for xb in (None, x2):
        want = FAST(x1, xb)
        got = tiling.tiled(FAST, x1, xb, tile_size=tile_size, devices=None)
        for g, w in zip(got, want):
            assert isinstance(g, np.ndarray) and g.shape == w.shape
            if tile_size == 1:
                # a 1 x 1 "product" is compiled as a reduction, summed in another order: 1 ulp at most
                np.testing.assert_allclose(g, np.asarray(w), rtol=2 * np.finfo(np.float64).eps, atol=0)
            else:
                np.testing.assert_array_equal(g, np.asarray(w))


def test_library_kernels_tiled(data):
    # the library's entry point (for erf the fused pass of FAST above, behind its validation), tiled:
    # entries agree to rounding at least
    x1, _ = data
    fn = functools.partial(infinite_ntk.infinite_width_kernels, depth=4, activation="erf", beta=0.2)
    want = fn(x1)
    got = tiling.tiled(fn, x1, tile_size=40)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=4 * np.finfo(np.float64).eps, atol=1e-15)


def test_empirical_ntk_tiled_and_symmetric(data):
    x1, x2 = data
    params = mlp.init(jax.random.key(3), (12, 16, 16, 2))
    fn = lambda a, b: ntk.mlp_ntk(params, a, b, activation="tanh", beta=0.3)  # noqa: E731
    want = np.asarray(fn(x1, None))
    np.testing.assert_array_equal(tiling.tiled(fn, x1, tile_size=64, devices=None), want)
    np.testing.assert_array_equal(tiling.tiled(fn, x1, x2, tile_size=64, devices=None), np.asarray(fn(x1, x2)))
    # mirrored tiles: K(x', x) = K(x, x')ᵀ; entries equal to rounding of the contraction order
    sym = tiling.tiled(fn, x1, tile_size=64, symmetric=True, devices=None)
    np.testing.assert_allclose(sym, want, rtol=0, atol=1e-14 * np.abs(want).max())


def test_symmetric_analytic_and_out_memmap(data, tmp_path):
    x1, _ = data
    want = FAST(x1)
    outs = tuple(
        np.lib.format.open_memmap(tmp_path / f"{n}.npy", mode="w+", dtype=np.float64, shape=(150, 150))
        for n in ("nngp", "ntk")
    )
    got = tiling.tiled(FAST, x1, tile_size=64, symmetric=True, out=outs, devices=None)
    assert got[0] is outs[0] and got[1] is outs[1]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=4 * np.finfo(np.float64).eps, atol=0)


def test_tile_plan():
    assert tiling.tile_plan(5, None, 2) == [(i, j, i == j) for i in range(3) for j in range(3)]
    assert tiling.tile_plan(5, None, 2, symmetric=True) == [
        (0, 0, True),
        (0, 1, False),
        (0, 2, False),
        (1, 1, True),
        (1, 2, False),
        (2, 2, True),
    ]
    assert tiling.tile_plan(3, 4, 3) == [(0, 0, False), (0, 1, False)]


_SHARDED = textwrap.dedent("""
    import functools, jax, numpy as np
    jax.config.update("jax_enable_x64", True)
    from ntkbook import _fast, infinite_ntk, mlp, ntk, tiling
    assert len(jax.devices()) == 4, jax.devices()
    x = np.asarray(jax.random.normal(jax.random.key(5), (96, 12)))
    x2 = np.asarray(jax.random.normal(jax.random.key(6), (40, 12)))
    fast = functools.partial(_fast.kernels, depth=3, beta=0.1)
    lib = functools.partial(infinite_ntk.infinite_width_kernels, depth=3, activation="erf", beta=0.1)
    p = mlp.init(jax.random.key(3), (12, 16, 2))
    emp = lambda a, b: ntk.mlp_ntk(p, a, b, activation="relu", beta=0.1)
    for name, fn in (("fast", fast), ("lib", lib), ("emp", emp)):
        worst = 0.0
        for xb in (None, x2):
            a = jax.tree_util.tree_leaves(tiling.tiled(fn, x, xb, tile_size=32, devices="auto"))
            b = jax.tree_util.tree_leaves(tiling.tiled(fn, x, xb, tile_size=32, devices=None))
            for u, v in zip(a, b):
                worst = max(worst, float(np.max(np.abs(u - v) / np.abs(v).max())))
        print(name, worst)
""")


def test_sharded_equals_unsharded_on_four_host_devices(project_root):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    proc = subprocess.run(
        [sys.executable, "-c", _SHARDED], cwd=project_root, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    worst = {line.split()[0]: float(line.split()[1]) for line in proc.stdout.strip().splitlines()}
    # the same tile program on every device: identical results for the library's kernels ...
    assert worst["lib"] == 0.0 and worst["emp"] == 0.0, proc.stdout
    # ... and to one rounding for the fast kernels: inside shard_map their two compiled programs (fused pass,
    # split) are traced into one, which XLA fuses differently (a multiply-add may round once or twice)
    assert worst["fast"] <= 2 * np.finfo(np.float64).eps, proc.stdout


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        (dict(tile_size=0), ValueError, "tile_size"),
        (dict(tile_size=-3), ValueError, "tile_size"),
        (dict(tile_size=2.5), TypeError, "tile_size"),
        (dict(tile_size=4, symmetric="yes"), TypeError, "symmetric"),
        (dict(tile_size=4, devices="gpu"), ValueError, "devices"),
    ],
)
def test_bad_arguments(data, kwargs, exc, words):
    with pytest.raises(exc, match=words):
        tiling.tiled(FAST, data[0], **kwargs)


def test_bad_inputs(data):
    x1, x2 = data
    with pytest.raises(TypeError, match="kernel_fn"):
        tiling.tiled("not a function", x1, tile_size=8)
    with pytest.raises(ValueError, match="x1 and x2"):
        tiling.tiled(FAST, x1, np.ones((3, 5)), tile_size=8)
    with pytest.raises(ValueError, match="symmetric"):
        tiling.tiled(FAST, x1, x2, tile_size=8, symmetric=True)
    with pytest.raises(ValueError, match="x1"):
        tiling.tiled(FAST, np.ones(4), tile_size=8)
    with pytest.raises(ValueError, match="kernel_fn must return"):
        tiling.tiled(lambda a, b: a.sum(1), x1, tile_size=8, devices=None)
    with pytest.raises(ValueError, match="out must match"):
        tiling.tiled(FAST, x1, tile_size=64, out=(np.zeros((2, 2)), np.zeros((2, 2))), devices=None)
