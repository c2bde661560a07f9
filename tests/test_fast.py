"""Tests of ntkbook._fast: the vectorisable arccos/arcsin against a long-double reference and
jnp.arccos, and the fused analytic kernels against the straightforward recursion (the oracles of
tests/oracles.py: a numpy implementation for values, the former JAX maps for the diagonal and
gradients)."""

import functools
import re

import jax
import jax.numpy as jnp
import numpy as np
import oracles
import pytest

from ntkbook import _fast

LD = np.longdouble


def _grid(dtype):
    edge = [
        1.0,
        -1.0,
        0.5,
        -0.5,
        0.0,
        np.nextafter(dtype(1), dtype(0)),
        np.nextafter(dtype(-1), dtype(0)),
        np.nextafter(dtype(0.5), dtype(1)),
        np.nextafter(dtype(0.5), dtype(0)),
        np.finfo(dtype).tiny,
        1e-30,
    ]
    return np.concatenate([np.linspace(-1, 1, 1_000_001), edge]).astype(dtype)


def _ulps(got, ref, dtype):
    """|got - ref| in units in the last place of the correctly rounded result (ref in long double)."""
    ulp = np.spacing(np.abs(ref.astype(dtype))).astype(LD)
    ulp = np.maximum(ulp, LD(np.finfo(dtype).smallest_subnormal))
    return np.abs(got.astype(LD) - ref) / ulp


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_acos_within_bound_of_long_double_and_jnp(dtype):
    x = _grid(dtype)
    got = np.asarray(jax.jit(_fast.acos)(jnp.asarray(x)))
    assert got.dtype == dtype
    ref = np.arccos(x.astype(LD))
    # bound: 1.5 ulp of the long-double reference (measured 1.10 in float64, 1.15 in float32)
    assert _ulps(got, ref, dtype).max() <= _fast.ACOS_ULP_BOUND
    # and within 2 ulp of XLA's own arccos (which is itself 1.25 / 2.3 ulp off)
    jn = np.asarray(jnp.arccos(jnp.asarray(x)))
    assert _ulps(got, jn.astype(LD), dtype).max() <= 2.0
    # the endpoints are exact
    assert float(_fast.acos(jnp.asarray(1.0, dtype))) == 0.0
    assert float(_fast.acos(jnp.asarray(-1.0, dtype))) == float(np.asarray(np.pi, dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_asin_within_bound(dtype):
    x = _grid(dtype)
    got = np.asarray(jax.jit(_fast.asin)(jnp.asarray(x)))
    ref = np.arcsin(x.astype(LD))
    assert _ulps(got, ref, dtype).max() <= _fast.ASIN_ULP_BOUND  # measured 2.12 / 2.32
    assert np.all(np.sign(got) == np.sign(x))  # odd, exact 0 at 0


def test_gradients_finite_and_exact_away_from_endpoints():
    x = jnp.linspace(-0.999, 0.999, 101)
    g = jax.vmap(jax.grad(_fast.acos))(x)
    gs = jax.vmap(jax.grad(_fast.asin))(x)
    want = -1 / np.sqrt(1 - np.asarray(x) ** 2)
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(gs))
    np.testing.assert_allclose(g, want, rtol=1e-13)
    np.testing.assert_allclose(gs, -want, rtol=1e-13)
    # second derivative through the custom jvp: d²/dx² arccos = -x (1 - x²)^(-3/2)
    h = jax.vmap(jax.grad(jax.grad(_fast.acos)))(x)
    np.testing.assert_allclose(h, -np.asarray(x) * (1 - np.asarray(x) ** 2) ** -1.5, rtol=1e-12, atol=1e-15)


def test_acos_promotes_integers():
    np.testing.assert_allclose(_fast.acos(jnp.array([0, 1])), [np.pi / 2, 0.0], atol=1e-15)


# --------------------------------------------------------------------------- the fused kernels


@pytest.fixture(scope="module")
def data():
    k1, k2 = jax.random.split(jax.random.key(11))
    return np.asarray(jax.random.normal(k1, (128, 40))), np.asarray(jax.random.normal(k2, (96, 40)))


@pytest.mark.parametrize("activation", ["relu", "erf", "identity"])
@pytest.mark.parametrize("depth, beta", [(1, 0.3), (4, 0.0), (8, 0.5)])
def test_kernels_match_straightforward_recursion(data, activation, depth, beta):
    x1, x2 = data
    got = _fast.kernels(x1, x2, depth=depth, activation=activation, beta=beta)
    ref = oracles.numpy_kernels(x1, x2, depth, beta, activation)
    d1 = oracles.numpy_kernels(x1, x1, depth, beta, activation)
    d2 = oracles.numpy_kernels(x2, x2, depth, beta, activation)
    for g, r, a, b in zip(got, ref, d1, d2):
        # float64: two computations of the same O(1) quantity by different formulas agree to ~1e-15;
        # 1e-12 is the target stated for the fast path
        assert oracles.scaled_error(g, r, np.diag(a), np.diag(b)) <= 1e-12
    if activation == "relu":  # ReLU kernels are positive: plain relative error off the diagonal
        for g, r in zip(got, ref):
            assert float(np.max(np.abs(np.asarray(g) - r) / np.abs(r))) <= 1e-12


@pytest.mark.parametrize("symmetric", [False, True, None])
@pytest.mark.parametrize("activation", ["relu", "erf", "identity"])
def test_same_batch_diagonal_exact_and_agrees_with_oracle(data, activation, symmetric):
    x = data[0]
    sigma, k = _fast.kernels(x, depth=5, activation=activation, beta=0.2, symmetric=symmetric, block=48)
    ls, lk = oracles.jax_kernels(x, None, 0.2, depth=5, activation=activation)
    off = ~np.eye(len(x), dtype=bool)
    d = np.diag(np.asarray(ls))
    scale = np.sqrt(np.outer(d, d))
    assert float(np.max((np.abs(np.asarray(sigma) - ls) / scale)[off])) <= 1e-12
    assert float(np.max((np.abs(np.asarray(k) - lk) / scale)[off])) <= 1e-12
    # the diagonal from the vector recursion (arccos at c = 1 would cost ~1e-8 here: δθ ~ sqrt(δc));
    # relu: Σ(x,x) = Σ/2 + β² and Σ̇(x,x) = 1/2 per layer, written out independently
    if activation == "relu":
        v = np.sum(x**2, 1) / 40 + 0.04
        kd = v.copy()
        for _ in range(4):
            v = v / 2 + 0.04
            kd = v + kd / 2
        ref_s, ref_k = v, kd
    else:  # the oracle's diagonal (its correlation is 1 bit for bit there: the Gram matrix's own diagonal)
        ref_s, ref_k = np.diag(np.asarray(ls)), np.diag(np.asarray(lk))
    # 5 layers of O(1) arithmetic (erf: arcsin of 2v/(1 + 2v) each layer): a few units of rounding --
    # measured 2.7 eps (relu), 5.1 eps (erf), 0 (identity); the bound is 18 eps
    np.testing.assert_allclose(np.diag(np.asarray(sigma)), ref_s, rtol=4e-15)
    np.testing.assert_allclose(np.diag(np.asarray(k)), ref_k, rtol=4e-15)
    # the mirrored path (the default for x2 = None; 48 does not divide N = 128: the last block overlaps):
    # symmetric to the last bit
    if symmetric is not False:
        for m in (sigma, k):
            np.testing.assert_array_equal(np.asarray(m), np.asarray(m).T)


@pytest.mark.parametrize("activation", ["relu", "erf", "identity"])
def test_mirrored_equals_plain_bit_for_bit(data, activation):
    # the mirrored blocks (x2 = None, the default) against every entry by row tiles (symmetric=False) and
    # against x2 = x1: the layer maps are symmetric in (x, x') to the last bit, so wherever the Gram matrix is
    # (here: N = 128, n0 = 40, blocks of 48 that overlap at the end) the results are the same bits
    x = data[0]
    kw = dict(depth=4, beta=0.1, activation=activation)
    mirrored = _fast.kernels(x, block=48, **kw)
    for other in (_fast.kernels(x, symmetric=False, **kw), _fast.kernels(x, x, **kw)):
        for p, q in zip(mirrored, other):
            np.testing.assert_array_equal(p, q)


def test_float32_and_identity_closed_form(data):
    x1, x2 = data
    s, k = _fast.kernels(x1.astype(np.float32), depth=3)
    assert s.dtype == jnp.float32 and k.dtype == jnp.float32
    r = oracles.numpy_kernels(x1, x1, 3, 0.0, "relu")
    off = ~np.eye(len(x1), dtype=bool)
    assert float(np.max(np.abs(np.asarray(k, np.float64) - r[1])[off] / r[1][off])) < 1e-5  # float32 rounding
    L, b = 4, 0.5
    s, k = _fast.kernels(x1, x2, depth=L, activation="identity", beta=b)
    np.testing.assert_allclose(s, x1 @ x2.T / 40 + L * b**2, atol=1e-13)
    np.testing.assert_allclose(k, L * x1 @ x2.T / 40 + b**2 * L * (L + 1) / 2, atol=1e-13)


@pytest.mark.parametrize("activation", ["relu", "erf", "identity"])
def test_jit_vmap_grad(data, activation):
    x1, x2 = data[0][:8], data[1][:5]
    kw = dict(depth=3, activation=activation)
    f = jax.jit(functools.partial(_fast.kernels, beta=0.1, **kw))
    np.testing.assert_allclose(f(x1, x2)[1], _fast.kernels(x1, x2, beta=0.1, **kw)[1], rtol=1e-14)
    # gradient with respect to the inputs and a traced beta, against the straightforward JAX recursion
    g_fast = jax.grad(lambda x, b: jnp.sum(_fast.kernels(x, beta=b, **kw)[1]), argnums=(0, 1))(x1, 0.3)
    g_ref = jax.grad(lambda x, b: jnp.sum(oracles.jax_kernels(x, None, b, **kw)[1]), argnums=(0, 1))(x1, 0.3)
    for a, b in zip(g_fast, g_ref):
        assert np.all(np.isfinite(a))
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "erf", "identity"])
def test_inside_jit_and_vmap_agree_to_rounding(data, activation):
    # the fused pass is one program whether called directly or inlined in the caller's jit; there β is a
    # constant, and XLA folds the layers' β² into the Gram entries' scaling (identity: one rounding apart);
    # under vmap over rows the Gram products are batched (XLA may sum them in another order). Also for one
    # row and for row counts that are not a multiple of the tile: a few units of rounding of the largest entry
    from ntkbook import infinite_ntk

    x1, x2 = data
    for a, b in ((x1, None), (x1[:37], x2), (x1[:1], None), (x1[:1], x2[:3])):
        kw = dict(depth=4, activation=activation, beta=0.1)
        direct = infinite_ntk.infinite_width_kernels(a, b, **kw)
        in_jit = jax.jit(functools.partial(infinite_ntk.infinite_width_kernels, **kw))(a, b)
        other = a if b is None else b  # x2 = None: the same as x2 = x1, to the last bit
        rows = jax.vmap(lambda r: _fast.kernels(r[None], other, **kw))(a)  # one row at a time
        for d, j, r in zip(direct, in_jit, rows):
            tol = 4 * np.finfo(np.float64).eps * float(np.max(np.abs(np.asarray(d))))
            np.testing.assert_allclose(np.asarray(j), d, rtol=0, atol=tol)
            np.testing.assert_allclose(np.asarray(r)[:, 0], d, rtol=0, atol=tol)
    # vmap over a traced beta: each slice is the call with that beta
    betas = jnp.array([0.0, 0.3])
    vs = jax.vmap(lambda b: _fast.kernels(x1[:20], depth=3, activation=activation, beta=b))(betas)
    for i, b in enumerate([0.0, 0.3]):
        for v, d in zip(vs, _fast.kernels(x1[:20], depth=3, activation=activation, beta=b)):
            np.testing.assert_allclose(v[i], d, rtol=4 * np.finfo(np.float64).eps, atol=0)


def _loop_fusions(hlo: str, shape: str) -> list[str]:
    """Names of the loop fusions of the compiled ``hlo`` whose result has ``shape`` (e.g. ``c128[32,64]``)."""
    pat = re.compile(rf"^\s*(%\S+) = {re.escape(shape)}\{{[^}}]*\}} fusion\(.*kind=kLoop")
    return [m.group(1) for m in map(pat.match, hlo.splitlines()) if m]


@pytest.mark.parametrize("activation", ["relu", "erf", "identity"])
@pytest.mark.parametrize("same_batch", [True, False])
def test_fused_pass_is_one_fusion_inside_jit(activation, same_batch):
    # the performance contract of the module docstring (point 2), held on XLA's own output: inside the
    # caller's jit, each tile's whole recursion (mirrored blocks for x2 = None, row tiles otherwise) is one
    # loop fusion with a single (complex) root, and no tile-shaped float intermediate is materialised --
    # what a tuple-valued pass gets instead: a sqrt/arccos with users in both roots, written out once per
    # layer (measured: 8 such arrays at depth 4, ReLU)
    from ntkbook import infinite_ntk

    n, n0 = 800, 8
    side = _fast.block_side(n, _fast.DEFAULT_BLOCK)
    tile = f"{side},{side}" if same_batch else f"{_fast.tile_rows(n, n)},{n}"
    fn = jax.jit(functools.partial(infinite_ntk.infinite_width_kernels, depth=4, activation=activation, beta=0.1))
    x = jnp.ones((n, n0))
    hlo = fn.lower(x, None if same_batch else x).compile().as_text()
    assert _loop_fusions(hlo, f"f64[{tile}]") == []
    passes = [f for f in _loop_fusions(hlo, f"c128[{tile}]") if "broadcast" not in f]
    assert len(passes) == 1, passes


def test_zero_input_gives_finite_kernels():
    x = np.zeros((4, 3))
    x[1, 0] = 1.0
    s, k = _fast.kernels(x, depth=3, beta=0.0)
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(k))


def test_supports():
    assert _fast.supports("relu") and _fast.supports("erf") and _fast.supports("linear")
    assert not _fast.supports("tanh") and not _fast.supports(lambda t: t**3) and not _fast.supports(3)


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        (dict(depth=0), ValueError, "depth"),
        (dict(depth=2.0), TypeError, "depth"),
        (dict(depth=2, activation="tanh"), ValueError, "activation"),
        (dict(depth=2, beta=-1.0), ValueError, "beta"),
        (dict(depth=2, block=0), ValueError, "block"),
        (dict(depth=2, symmetric="yes"), TypeError, "symmetric"),
    ],
)
def test_bad_arguments(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        _fast.kernels(np.ones((4, 3)), **kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="symmetric"):
        _fast.kernels(np.ones((4, 3)), np.ones((2, 3)), depth=2, symmetric=True)
    with pytest.raises(ValueError, match="x2"):
        _fast.kernels(np.ones((2, 3)), np.ones((2, 4)), depth=2)
    with pytest.raises(ValueError, match="x1"):
        _fast.kernels(np.ones(3), depth=2)
    with pytest.raises(TypeError, match="x1"):
        _fast.kernels("abc", depth=2)
    with pytest.raises(ValueError, match="x1 must be finite"):
        _fast.kernels(np.array([[np.nan, 1.0]]), depth=2)


def test_block_side_tiles_evenly():
    # the mirrored pass's block side: ceil(n / block) blocks as equal as possible, a multiple of 8, at most n;
    # the blocks cover n, the last one overlapping by fewer than 8 rows per block, and no side exceeds max(block, 8)
    for n in (1, 7, 8, 9, 100, 385, 512, 1000, 4096, 4097):
        for block in (1, 8, 48, 384):
            side = _fast.block_side(n, block)
            nb = -(-n // side)
            assert side == n or side % 8 == 0
            assert side <= max(block, 8) or side == n
            assert 0 <= nb * side - n < 8 * nb
    assert _fast.block_side(512, 384) == 256 and _fast.block_side(4096, 384) == 376
