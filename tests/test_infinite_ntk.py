"""Tests of ntkbook.infinite_ntk: the infinite-width kernels against independent computations (the
oracles of tests/oracles.py) and finite networks, and bad inputs (the chapter's helpers:
tests/chapters/test_c10_deterministic_ntk.py)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import oracles
import pytest

from ntkbook import _fast, mlp, nngp, ntk
from ntkbook import infinite_ntk as intk

X4 = np.array([[1.0, 0.5, -0.3, 0.8], [0.6, 1.1, 0.2, -0.4], [-0.9, -0.2, 0.4, -0.7], [0.2, -0.8, 1.2, 0.3]])  # in R^4


@pytest.fixture
def pts():
    k1, k2 = jax.random.split(jax.random.key(5))
    return np.asarray(jax.random.normal(k1, (6, 3))), np.asarray(jax.random.normal(k2, (3, 3)))


def test_relu_matches_numpy_reference(pts):
    x1, x2 = pts
    for depth, beta in [(1, 0.2), (2, 0.0), (5, 0.3)]:
        s, k = intk.infinite_width_kernels(x1, x2, depth=depth, beta=beta)
        rs, rk = oracles.numpy_kernels(x1, x2, depth, beta, "relu")
        np.testing.assert_allclose(s, rs, atol=1e-12)
        np.testing.assert_allclose(k, rk, atol=1e-12)


def test_identity_closed_form(pts):
    # σ = id: Σ^(l) = x·x'/n0 + l β², K^(L) = sum_l Σ^(l) = L x·x'/n0 + β² L(L+1)/2
    x1, x2 = pts
    L, b = 4, 0.5
    s, k = intk.infinite_width_kernels(x1, x2, depth=L, activation="identity", beta=b)
    np.testing.assert_allclose(s, x1 @ x2.T / 3 + L * b**2, atol=1e-12)
    np.testing.assert_allclose(k, L * x1 @ x2.T / 3 + b**2 * L * (L + 1) / 2, atol=1e-12)


def test_nngp_part_agrees_with_nngp_module(pts):
    x1, x2 = pts
    s, _ = intk.infinite_width_kernels(x1, x2, depth=3, activation="erf", beta=0.1)
    np.testing.assert_allclose(s, nngp.nngp_kernel(x1, x2, depth=3, activation="erf", beta=0.1), atol=1e-13)


@pytest.mark.parametrize("activation", ["relu", "erf", "identity"])
def test_closed_forms_take_the_fused_path(pts, activation):
    # every closed form is the fused pass of ntkbook._fast (bit for bit), which agrees with the
    # straightforward JAX oracle (its diagonal exact too: the oracle's correlation is snapped like the library's)
    x1, x2 = pts
    kw = dict(depth=4, activation=activation)
    d1 = np.diag(oracles.jax_kernels(x1, None, 0.3, **kw)[0])
    for xb in (None, x2):
        s, k = intk.infinite_width_kernels(x1, xb, beta=0.3, **kw)
        fs, fk = _fast.kernels(x1, xb, beta=0.3, **kw)
        np.testing.assert_array_equal(s, fs)
        np.testing.assert_array_equal(k, fk)
        rs, rk = oracles.jax_kernels(x1, xb, 0.3, **kw)
        d2 = d1 if xb is None else np.diag(oracles.jax_kernels(xb, None, 0.3, **kw)[0])
        assert oracles.scaled_error(s, rs, d1, d2) <= 1e-12
        assert oracles.scaled_error(k, rk, d1, d2) <= 1e-12 * 4  # K^(L) is a sum of L terms of Σ's scale


def test_jit_partial_and_traced_beta(pts):
    x1, x2 = pts
    f = jax.jit(functools.partial(intk.infinite_width_kernels, depth=3, activation="relu", beta=0.1))
    a = f(x1, x2)
    b = intk.infinite_width_kernels(x1, x2, depth=3, beta=0.1)
    np.testing.assert_allclose(a[1], b[1], atol=1e-14)
    g = jax.jit(lambda x, beta: intk.infinite_width_kernels(x, depth=2, beta=beta)[1])
    np.testing.assert_allclose(g(x1, 0.1), intk.infinite_width_kernels(x1, depth=2, beta=0.1)[1], atol=1e-14)


def test_dtype_follows_inputs(pts):
    x1, _ = pts
    s, k = intk.infinite_width_kernels(x1.astype(np.float32), depth=3)
    assert s.dtype == jnp.float32 and k.dtype == jnp.float32
    assert intk.infinite_width_kernels(x1, depth=3)[1].dtype == jnp.float64


def test_finite_width_identity_matches_layerwise_ntk():
    x = jnp.asarray(X4)
    p = mlp.init(jax.random.key(7), (4, 5, 6, 2))
    a = intk.finite_width_ntk(p, x, activation="erf", beta=0.2)
    b = ntk.layerwise_ntk(p, x, activation="erf", beta=0.2)
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_sub_network_ntk_is_the_ntk_below_the_last_layer():
    x = jnp.asarray(X4)
    p = mlp.init(jax.random.key(7), (4, 5, 6, 2))
    k_sub = intk.sub_network_ntk(p, x, activation="erf", beta=0.2)
    assert k_sub.shape == (4, 4, 6, 6)
    np.testing.assert_allclose(k_sub, ntk.layerwise_ntk(p[:-1], x, activation="erf", beta=0.2), atol=1e-12)
    np.testing.assert_array_equal(
        intk.finite_width_ntk(p, x, activation="erf", beta=0.2, sub_ntk=k_sub),
        intk.finite_width_ntk(p, x, activation="erf", beta=0.2),
    )
    with pytest.raises(ValueError, match="params"):
        intk.sub_network_ntk(p[:1], x)


def test_wide_network_close_to_limit():
    x = jnp.asarray(X4)
    p = mlp.init(jax.random.key(9), (4, 2048, 1))
    emp = ntk.layerwise_ntk(p, x, activation="relu", beta=0.1)[:, :, 0, 0]
    _, k = intk.infinite_width_kernels(x, depth=2, beta=0.1)
    # one hidden layer: relative fluctuation ~ a few / sqrt(2048) ~ 5%
    assert float(jnp.linalg.norm(emp - k) / jnp.linalg.norm(k)) < 0.15


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        (dict(depth=0), ValueError, "depth"),
        (dict(depth=None), TypeError, "depth"),
        (dict(depth=2, activation="swish"), ValueError, "activation"),
        (dict(depth=2, beta=-0.1), ValueError, "beta"),
        (dict(depth=2, beta="big"), TypeError, "beta"),
        (dict(depth=2, activation="tanh", nodes=500), ValueError, "nodes"),
    ],
)
def test_bad_arguments(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        intk.infinite_width_kernels(np.ones((2, 3)), **kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="x1 and x2"):
        intk.infinite_width_kernels(np.ones((2, 3)), np.ones((2, 4)), depth=2)
    with pytest.raises(ValueError, match="x2 must be finite"):
        intk.infinite_width_kernels(np.ones((2, 3)), np.array([[1.0, np.inf, 0.0]]), depth=2)
    with pytest.raises(ValueError, match="x1"):
        intk.infinite_width_kernels(np.ones((2, 3, 1)), depth=2)
    with pytest.raises(TypeError, match="x1"):
        intk.infinite_width_kernels("abc", depth=2)
    with pytest.raises(ValueError, match="params"):
        intk.finite_width_ntk(mlp.init(jax.random.key(0), (3, 2)), np.ones((2, 3)))
