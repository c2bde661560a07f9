"""Tests of ntkbook.nngp: the NNGP kernel maps against independent computations (the closed forms
against the oracles of tests/oracles.py), the finite-network samplers, and bad inputs (the chapter's
helpers: tests/chapters/test_c09_nngp.py)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import oracles
import pytest

from ntkbook import nngp

EPS = np.finfo(np.float64).eps


@pytest.fixture
def pts():
    k1, k2 = jax.random.split(jax.random.key(0))
    return np.asarray(jax.random.normal(k1, (5, 3))), np.asarray(jax.random.normal(k2, (4, 3)))


def test_relu_matches_numpy_reference(pts):
    x1, x2 = pts
    for depth, beta in [(1, 0.0), (2, 0.3), (4, 0.1)]:
        got = nngp.nngp_kernel(x1, x2, depth=depth, beta=beta)
        np.testing.assert_allclose(got, oracles.numpy_kernels(x1, x2, depth, beta, "relu")[0], rtol=0, atol=1e-12)


def test_identity_activation_adds_beta_squared_per_layer(pts):
    x1, x2 = pts
    got = nngp.nngp_kernel(x1, x2, depth=4, activation="identity", beta=0.5)
    np.testing.assert_allclose(got, x1 @ x2.T / 3 + 4 * 0.25, atol=1e-12)


def test_erf_matches_williams_formula_by_hand():
    v1, v2, c = 0.7, 1.3, 0.4
    m = nngp.kernel_map(jnp.array([[c]]), jnp.array([v1]), jnp.array([v2]), activation="erf")
    want = 2 / np.pi * np.arcsin(2 * c / np.sqrt((1 + 2 * v1) * (1 + 2 * v2)))
    want_dot = 4 / np.pi / np.sqrt((1 + 2 * v1) * (1 + 2 * v2) - 4 * c**2)
    assert float(m.sigma[0, 0]) == pytest.approx(want, abs=1e-14)
    assert float(m.sigma_dot[0, 0]) == pytest.approx(want_dot, abs=1e-14)


# Inputs with the degenerate pairs: row 1 = 2.5 row 0 (c = 1), row 2 = -row 0 (c = -1), row 3 = 0 (v = 0).
XD = np.array(
    [[1.0, 0.5, -0.3, 0.8], [2.5, 1.25, -0.75, 2.0], [-1.0, -0.5, 0.3, -0.8], [0.0, 0.0, 0.0, 0.0]]
    + [[0.6, 1.1, 0.2, -0.4], [-0.9, -0.2, 0.4, -0.7], [0.2, -0.8, 1.2, 0.3]]
)


@pytest.mark.parametrize("activation", ["relu", "erf", "identity"])
def test_closed_form_maps_match_oracle(activation):
    """kernel_map's closed forms (ntkbook._fast) against the straightforward maps of tests/oracles.py:
    off the diagonal to 1e-12 of each entry's Cauchy-Schwarz scale (ReLU: plain relative error), on the
    diagonal to rounding (the snapped correlation takes θ = 0 exactly, no arccos near 1), the variances
    bit for bit, and the gradients with respect to cov, v1 and v2."""
    ref_map = oracles.MAPS[activation]
    # x2 = None (diagonal off the Gram matrix) and two arguments (row norms), β = 0 (c = ±1 and v = 0 exactly)
    for cov, v1, v2 in (
        nngp.input_covariance(XD, beta=0.0),
        nngp.input_covariance(XD, XD, beta=0.0),
        nngp.input_covariance(XD, X3, beta=0.1),
    ):
        got = nngp.kernel_map(cov, v1, v2, activation=activation, method="closed")
        ref = ref_map(cov, v1, v2)
        np.testing.assert_array_equal(got.var1, ref[2])
        np.testing.assert_array_equal(got.var2, ref[3])
        s1, s2 = np.asarray(ref[2]), np.asarray(ref[3])
        d1 = np.asarray(jnp.diagonal(ref_map(jnp.diag(v1), v1, v1)[1]))  # Σ̇(x, x) for the scale of Σ̇
        d2 = np.asarray(jnp.diagonal(ref_map(jnp.diag(v2), v2, v2)[1]))
        positive = s1[:, None] * s2[None, :] > 0
        for g, r, scale in (
            (got.sigma, ref[0], np.sqrt(np.outer(s1, s2))),
            (got.sigma_dot, ref[1], np.sqrt(np.outer(d1, d2))),
        ):
            err = np.abs(np.asarray(g) - np.asarray(r))
            assert np.all(err[positive] <= 1e-12 * scale[positive])
            assert np.all(err[~positive] <= 1e-15)  # a zero input: Σ = 0 (Σ̇ finite, from σ'(0))
            if activation == "relu":
                nz = np.asarray(r) != 0
                assert np.all(err[nz] <= 1e-12 * np.abs(np.asarray(r))[nz])
        # the gradients that the recursion's gradients are made of
        w = jnp.asarray(np.random.default_rng(0).normal(size=cov.shape))
        for part in (0, 1):

            def f(m, c, a, b, part=part):
                return jnp.sum(w * m(c, a, b)[part])

            lib = lambda c, a, b: tuple(nngp.kernel_map(c, a, b, activation=activation))  # noqa: E731
            g_lib = jax.grad(functools.partial(f, lib), argnums=(0, 1, 2))(cov, v1, v2)
            g_ref = jax.grad(functools.partial(f, ref_map), argnums=(0, 1, 2))(cov, v1, v2)
            for a, b in zip(g_lib, g_ref):
                assert np.all(np.isfinite(np.asarray(a)))
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    # the diagonal of x2 = None: exact to rounding
    cov, v, _ = nngp.input_covariance(XD, beta=0.1)
    m = nngp.kernel_map(cov, v, v, activation=activation)
    if activation == "relu":  # θ = 0: Σ(x, x) = v/2, Σ̇(x, x) = 1/2
        np.testing.assert_allclose(jnp.diagonal(m.sigma), v / 2, rtol=2 * EPS, atol=0)
        np.testing.assert_allclose(jnp.diagonal(m.sigma_dot), 0.5, rtol=2 * EPS, atol=0)
    else:
        r = oracles.MAPS[activation](cov, v, v)
        np.testing.assert_allclose(jnp.diagonal(m.sigma), jnp.diagonal(r[0]), rtol=4 * EPS, atol=0)
        np.testing.assert_allclose(jnp.diagonal(m.sigma_dot), jnp.diagonal(r[1]), rtol=4 * EPS, atol=0)


@pytest.mark.parametrize("activation", ["relu", "erf", "identity"])
def test_nngp_kernel_values_and_gradients_match_oracle(pts, activation):
    x1, x2 = pts
    for xb in (None, x2):
        got = nngp.nngp_kernel(x1, xb, depth=4, activation=activation, beta=0.2)
        ref = oracles.jax_kernels(x1, xb, 0.2, depth=4, activation=activation)[0]
        d1 = np.diag(oracles.jax_kernels(x1, None, 0.2, depth=4, activation=activation)[0])
        d2 = d1 if xb is None else np.diag(oracles.jax_kernels(xb, None, 0.2, depth=4, activation=activation)[0])
        assert oracles.scaled_error(got, ref, d1, d2) <= 1e-12
    g = jax.grad(lambda x: jnp.sum(nngp.nngp_kernel(x, depth=4, activation=activation, beta=0.2)))(x1)
    g_ref = jax.grad(lambda x: jnp.sum(oracles.jax_kernels(x, None, 0.2, depth=4, activation=activation)[0]))(x1)
    np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-12)


def test_quadrature_of_a_callable_identity_is_exact(pts):
    x1, x2 = pts
    lin = lambda t: 2.0 * t  # noqa: E731  not a named activation: goes through quadrature
    got = nngp.nngp_kernel(x1, x2, depth=3, activation=lin, nodes=4)
    np.testing.assert_allclose(got, 16 * x1 @ x2.T / 3, atol=1e-12)


def test_quadrature_tanh_agrees_with_monte_carlo():
    z = jax.random.normal(jax.random.key(1), (200_000, 2))
    mc = nngp.monte_carlo_kernel(z, np.array([[0.8, 1.2, 0.5]]), activation="tanh")
    m = nngp.kernel_map(jnp.array([[0.5]]), jnp.array([0.8]), jnp.array([1.2]), activation="tanh")
    assert abs(float(m.sigma[0, 0]) - mc["sigma"][0]) < 5 * mc["sigma_se"][0]
    assert abs(float(m.sigma_dot[0, 0]) - mc["sigma_dot"][0]) < 5 * mc["sigma_dot_se"][0]


def test_symmetric_and_x2_none_consistent(pts):
    x1, _ = pts
    a = nngp.nngp_kernel(x1, depth=3, beta=0.2)
    b = nngp.nngp_kernel(x1, x1, depth=3, beta=0.2)
    np.testing.assert_allclose(a, a.T, rtol=0, atol=1e-15)
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_relu_diagonal_and_zero_norm_exact():
    x = np.array([[1.0, 2.0, -1.0], [0.0, 0.0, 0.0], [-2.0, -4.0, 2.0]])
    k = np.asarray(nngp.nngp_kernel(x, depth=5))
    np.testing.assert_array_equal(k[1], 0.0)
    assert k[0, 0] == pytest.approx(6 / 3 / 16, abs=1e-15)
    k2 = np.asarray(nngp.nngp_kernel(x, depth=2))
    assert k2[0, 2] == pytest.approx(0.0, abs=1e-15)  # anti-parallel: E[relu(u) relu(-2u)] = 0


def test_gradients_finite_at_degenerate_inputs():
    x = jnp.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]])
    g = jax.grad(lambda p: jnp.sum(nngp.nngp_kernel(p, depth=3)))(x)
    assert bool(jnp.all(jnp.isfinite(g)))


def test_jit_and_dtype(pts):
    x1, x2 = pts
    f = jax.jit(functools.partial(nngp.nngp_kernel, depth=3, beta=0.1))
    np.testing.assert_allclose(f(x1, x2), nngp.nngp_kernel(x1, x2, depth=3, beta=0.1), atol=1e-14)
    assert nngp.nngp_kernel(x1.astype(np.float32), depth=2).dtype == jnp.float32
    assert nngp.nngp_kernel(x1, depth=2).dtype == jnp.float64


X3 = np.array([[1.0, 0.5, -0.3, 0.8], [0.6, 1.1, 0.2, -0.4], [-0.9, -0.2, 0.4, -0.7]])  # three inputs in R^4


def test_sample_networks_shapes_and_hidden_covariance():
    x = jnp.asarray(X3)
    out, sh = nngp.sample_networks(jax.random.key(2), x, widths=(4, 8, 3), seeds=5, beta=0.1)
    assert out.shape == (5, 3, 3) and sh.shape == (5, 3, 3)
    params = jax.tree_util.tree_map(lambda a: a[0], nngp.draw_networks(jax.random.key(2), (4, 8, 3), 5))
    np.testing.assert_allclose(nngp.hidden_covariance(params, x, beta=0.1), sh[0], atol=1e-12)


def test_network_outputs_of_drawn_networks_is_sample_networks():
    x = jnp.asarray(X3)
    params = nngp.draw_networks(jax.random.key(4), (4, 6, 2), 3)
    out, sh = nngp.network_outputs(params, x, beta=0.2)
    out2, sh2 = nngp.sample_networks(jax.random.key(4), x, widths=(4, 6, 2), seeds=3, beta=0.2)
    np.testing.assert_array_equal(out, out2)
    np.testing.assert_array_equal(sh, sh2)
    with pytest.raises(ValueError, match="beta"):
        nngp.network_outputs(params, x, beta=-1.0)


def test_quadrature_rule_map_with_hermite_rule_is_quadrature_map():
    cov, v1, v2 = nngp.input_covariance(X3, beta=0.1)
    z, w = nngp.hermite_rule(12)
    assert z.shape == w.shape == (12,) and w.sum() == pytest.approx(1.0, abs=1e-14)
    a = nngp.quadrature_rule_map(cov, v1, v2, z, w, activation="tanh")
    b = nngp.quadrature_map(cov, v1, v2, activation="tanh", nodes=12)
    np.testing.assert_allclose(a.sigma, b.sigma, rtol=0, atol=1e-15)
    # padding with zero-weight nodes changes nothing
    zp, wp = np.concatenate([z, np.zeros(4)]), np.concatenate([w, np.zeros(4)])
    c = nngp.quadrature_rule_map(cov, v1, v2, zp, wp, activation="tanh")
    np.testing.assert_allclose(c.sigma_dot, b.sigma_dot, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="z and w"):
        nngp.quadrature_rule_map(cov, v1, v2, z, w[:-1], activation="tanh")
    with pytest.raises(ValueError, match="nodes"):
        nngp.hermite_rule(0)


def test_canonical_activation_and_unchecked_pieces():
    assert nngp.canonical_activation("ReLU") == "relu"
    assert nngp.canonical_activation("tanh") is not None and callable(nngp.canonical_activation("tanh"))
    x = jnp.asarray(X3)
    cov, v1, v2 = nngp.input_covariance_unchecked(x, None, 0.1)
    c2, w1, w2 = nngp.input_covariance(x, beta=0.1)
    np.testing.assert_array_equal(cov, c2)
    m = nngp.kernel_map_fn("erf")(cov, v1, v2)
    np.testing.assert_array_equal(m.sigma, nngp.kernel_map(cov, v1, v2, activation="erf").sigma)


def test_truncate_keeps_leading_units():
    params = nngp.draw_networks(jax.random.key(3), (4, 10, 10, 2), 3)
    small = nngp.truncate(params, 6)
    assert [l["w"].shape for l in small] == [(3, 4, 6), (3, 6, 6), (3, 6, 2)]
    np.testing.assert_array_equal(small[1]["w"], params[1]["w"][:, :6, :6])


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        (dict(depth=0), ValueError, "depth"),
        (dict(depth=2.5), TypeError, "depth"),
        (dict(depth=2, activation="softsign"), ValueError, "activation"),
        (dict(depth=2, activation=3), TypeError, "activation"),
        (dict(depth=2, beta=-1.0), ValueError, "beta"),
        (dict(depth=2, nodes=0), ValueError, "nodes"),
        (dict(depth=2, nodes=1000), ValueError, "nodes"),
    ],
)
def test_bad_arguments(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        nngp.nngp_kernel(np.ones((2, 3)), **kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="x1"):
        nngp.nngp_kernel(np.ones(3), depth=2)
    with pytest.raises(ValueError, match="x1 and x2"):
        nngp.nngp_kernel(np.ones((2, 3)), np.ones((2, 4)), depth=2)
    with pytest.raises(ValueError, match="x1 must be finite"):
        nngp.nngp_kernel(np.array([[np.nan, 1.0]]), depth=2)
    with pytest.raises(ValueError, match="cov"):
        nngp.kernel_map(jnp.ones((2, 2)), jnp.ones(3), jnp.ones(2))
    with pytest.raises(ValueError, match="v1 and v2"):
        nngp.kernel_map(jnp.ones((1, 1)), -jnp.ones(1), jnp.ones(1))
    with pytest.raises(ValueError, match="method"):
        nngp.kernel_map(jnp.ones((1, 1)), jnp.ones(1), jnp.ones(1), method="exact")
