"""Tests of ntkbook.quadrature: the accuracy contract (relative error <= 1e-10 of every layer
expectation and of the NNGP and NTK, input standard deviations 1e-3 .. 1e3, depths up to 10) against
the arbitrary-precision oracles of tests/oracles_mp.py (mpmath: numerical integration, no closed form),
for every activation the library names; and the refusals (ValueError, nan under jit).

Errors are relative to the Cauchy--Schwarz scale of each entry, ``sqrt(K(x, x) K(x', x'))`` (the
entry itself can be 0). The mpmath results are cached at module scope (a few seconds per activation).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import oracles_mp as om
import pytest

from ntkbook import activations, infinite_ntk, nngp, quadrature

SCALES = (1e-3, 1.0, 1e3)  # input standard deviations: variances 1e-6 .. 1e6
CONTRACT = 1e-10
# one 3x3 map covers every pair of scales: correlation 0.6 on and above the diagonal, -0.45 below
CORR = np.where(np.triu(np.ones((3, 3), bool)), 0.6, -0.45)
SMOOTH = ("tanh", "sigmoid", "gelu")


@functools.cache
def oracle_maps(activation):
    """The four expectations for the pairs of SCALES, as float arrays, by mpmath."""
    s = np.array(SCALES)
    out = np.zeros((4, 3, 3))
    for i in range(3):
        for j in range(3):
            r = om.layer_map(activation, s[i] ** 2, s[j] ** 2, CORR[i, j] * s[i] * s[j])
            out[:, i, j] = [float(t) for t in r]
    d = np.array([[float(t) for t in om.diagonal(activation, x)] for x in s])  # E[σ²], E[σ'²]
    return out, d


def _map(activation, method):
    s = jnp.asarray(SCALES)
    return nngp.kernel_map(CORR * np.outer(SCALES, SCALES), s**2, s**2, activation=activation, method=method)


@pytest.mark.parametrize(
    "activation, method, tol",
    [(a, "auto", CONTRACT) for a in ("tanh", "sigmoid", "gelu")]
    + [("erf", "auto", 1e-12), ("relu", "auto", 1e-12), ("identity", "auto", 1e-12)],
)
def test_layer_map_matches_mpmath_at_every_scale(activation, method, tol):
    """Each expectation of one layer, at every pair of input scales 1e-3, 1, 1e3 (the fixed 64-node rule
    is off by up to 86% here): the quadrature to its contract, the closed forms to 1e-12."""
    ref, d = oracle_maps(activation)
    got = _map(activation, method)
    _compare(got, ref, d, tol)


def _compare(got, ref, d, tol, k=3):
    ref, d = ref[:, :k, :k], d[:k]
    cs = np.sqrt(np.outer(d[:, 0], d[:, 0]))
    cs_dot = np.sqrt(np.outer(d[:, 1], d[:, 1]))
    assert np.max(np.abs(np.asarray(got.sigma) - ref[0]) / cs) <= tol
    assert np.max(np.abs(np.asarray(got.sigma_dot) - ref[1]) / cs_dot) <= tol
    np.testing.assert_allclose(got.var1, ref[2][:, 0], rtol=tol, atol=0)
    np.testing.assert_allclose(got.var2, ref[3][0], rtol=tol, atol=0)


def test_erf_by_quadrature_meets_the_contract_at_every_scale():
    """erf forced through the quadrature, at standard deviations 1e-3, 1 and 1e3, against mpmath (at 1e3 its
    derivative is a Gaussian spike of width 1e-3, which the fixed 64-node rule misses by 86%)."""
    ref, d = oracle_maps("erf")
    _compare(_map("erf", "quadrature"), ref, d, CONTRACT)


def _erf_near_one():
    """Entries with |c| near 1 at every scale: what the series leaves to the nested rule."""
    s = jnp.asarray([1e-3, 1.0, 30.0, 1e3])
    c = jnp.asarray(np.resize([0.999, -0.9999, 0.99999999, 0.5, -1.0, 1.0 - 1e-6], (4, 4)))
    c = c.at[jnp.diag_indices(4)].set(1.0)
    return s, c


def test_series_leaves_correlations_near_one_at_large_scale_to_the_nested_rule():
    """The series' Cauchy--Schwarz bound refuses the entries with |c| near 1 at scale >= 30 (and takes the
    diagonal, c = 1 with equal variances, as a one-dimensional integral)."""
    s, c = _erf_near_one()
    unsure = np.asarray(quadrature.series_map(s, s, c, activation=activations.get("erf"))[4])
    assert unsure[2:, 2:].sum() >= 2 and not np.any(np.diagonal(unsure))
    assert not np.any(unsure[:2, :2])  # at unit scale and below, every entry from the series


@pytest.mark.parametrize("chunk", [2, quadrature.FALLBACK_CHUNK])
def test_erf_fallback_matches_the_closed_form(chunk):
    """Series plus nested fallback against the erf closed form (an independent formula), |c| near 1 at
    every scale, mixed scales included; ``chunk=2`` makes the fallback loop run several passes."""
    s, c = _erf_near_one()
    erf = activations.get("erf")
    unsure = np.asarray(quadrature.series_map(s, s, c, activation=erf)[4])
    es, ed, var1, _ = quadrature.gaussian_map(s, s, c, activation=erf, chunk=chunk)
    v = s**2
    ref = nngp.kernel_map(c * jnp.outer(s, s), v, v, activation="erf")
    dot_diag = np.asarray(nngp.kernel_map(jnp.diag(v), v, v, activation="erf").sigma_dot).diagonal()
    err_s = np.abs(np.asarray(es - ref.sigma)) / np.sqrt(np.outer(ref.var1, ref.var1))
    err_d = np.abs(np.asarray(ed - ref.sigma_dot)) / np.sqrt(np.outer(dot_diag, dot_diag))
    assert unsure.sum() >= 2  # the fallback is exercised
    assert np.max(np.maximum(err_s, err_d)) <= CONTRACT  # nan fails this too
    np.testing.assert_allclose(var1, ref.var1, rtol=CONTRACT, atol=0)


def test_series_bound_is_honest_and_needed():
    """With only 32 Hermite terms at standard deviation 2 (tanh), the series' truncation is visible: the
    entries its bound accepts are within the contract of the nested rule, and some entries it refuses are
    off by more than the contract -- the bound is what stands between them and the answer."""
    tanh = activations.get("tanh")
    rng = np.random.default_rng(0)
    s = jnp.asarray(rng.uniform(1.5, 2.5, 6))
    c = jnp.asarray(np.clip(rng.uniform(-1, 1, (6, 6)), -0.98, 0.98))
    es, ed, _, _, unsure = quadrature.series_map(s, s, c, activation=tanh, terms=32)
    ns, nd, v, _ = quadrature.nested_map(s, s, c, activation=tanh)
    d = np.asarray(quadrature.nested_map(s, s, jnp.ones((6, 6)), activation=tanh)[1]).diagonal()
    err = np.maximum(
        np.abs(np.asarray(es - ns)) / np.sqrt(np.outer(v, v)), np.abs(np.asarray(ed - nd)) / np.sqrt(np.outer(d, d))
    )
    unsure = np.asarray(unsure)
    assert 0 < unsure.sum() < unsure.size
    assert np.max(err[~unsure]) <= CONTRACT
    assert np.max(err[unsure]) > CONTRACT


def test_oracle_rule_agrees_with_mpmath_quad():
    """The oracle's panel rule against mpmath's own tanh-sinh quadrature (the oracle's oracle)."""
    rule, ref = om.check_rule("tanh", 3.0)
    assert abs(rule - ref) <= 1e-18 * abs(ref)


def _inputs():
    """Three inputs in R^2 with standard deviations SCALES (v = |x|² / 2 = s²)."""
    return np.array(SCALES)[:, None] * np.array([[1.0, 1.0], [1.2, 0.75], [0.6, 1.27]])


@functools.cache
def oracle_diagonal(activation, beta, depth):
    """``(Σ(x, x), K(x, x))`` for the three inputs, by the mpmath recursion on the diagonal (1-D)."""
    out = []
    for x in _inputs():
        r = om.recursion(activation, list(x), list(x), beta, depth)
        out.append((r[2], r[3]))
    return np.array(out).T


@pytest.mark.parametrize("activation", SMOOTH)
def test_depth_ten_diagonal_matches_mpmath(activation):
    """NNGP and NTK at depth 10 (and 2) on the diagonal at every scale: nine layers of the quadrature."""
    for depth in (2, 10):
        nn, ntk = infinite_ntk.infinite_width_kernels(_inputs(), depth=depth, activation=activation, beta=0.1)
        ref = oracle_diagonal(activation, 0.1, depth)
        np.testing.assert_allclose(np.diagonal(nn), ref[0], rtol=CONTRACT, atol=0)
        np.testing.assert_allclose(np.diagonal(ntk), ref[1], rtol=CONTRACT, atol=0)


@pytest.mark.parametrize("activation", ("tanh", "gelu"))
def test_depth_three_off_diagonal_at_scale_1e3(activation):
    """The issue's case: NTK error 0.81 at input standard deviation 10 with the fixed rule. Two inputs at
    standard deviation 1e3 (correlation 0.1), depth 3, β = 0, against the mpmath recursion."""
    x1, x2 = [1e3, 1e3], [1.1e3, -0.9e3]
    ref = om.recursion(activation, x1, x2, 0.0, 3)
    nn, ntk = infinite_ntk.infinite_width_kernels(np.array([x1]), np.array([x2]), depth=3, activation=activation)
    assert abs(float(nn[0, 0]) - ref[0]) <= CONTRACT * np.sqrt(ref[2] * ref[4])
    assert abs(float(ntk[0, 0]) - ref[1]) <= CONTRACT * np.sqrt(ref[3] * ref[5])


def test_erf_quadrature_matches_closed_form_at_variance_100():
    """The book's own erf closed form against the quadrature at variance 100 (the fixed rule: off 86%)."""
    v1 = v2 = jnp.array([100.0, 64.0])
    cov = jnp.array([[100.0, 0.7 * 80.0], [-0.4 * 80.0, 64.0]])
    q = nngp.kernel_map(cov, v1, v2, activation="erf", method="quadrature")
    c = nngp.kernel_map(cov, v1, v2, activation="erf")
    d = nngp.kernel_map(jnp.diag(v1), v1, v1, activation="erf")
    np.testing.assert_allclose(q.sigma, c.sigma, rtol=0, atol=CONTRACT * float(jnp.max(d.var1)))
    scale = np.sqrt(np.outer(np.diagonal(d.sigma_dot), np.diagonal(d.sigma_dot)))
    assert np.all(np.abs(np.asarray(q.sigma_dot - c.sigma_dot)) <= CONTRACT * scale)


def test_a_user_callable_is_the_named_activation():
    x = _inputs()
    a = nngp.nngp_kernel(x, depth=3, activation="tanh", beta=0.2)
    b = nngp.nngp_kernel(x, depth=3, activation=lambda t: jnp.tanh(t), beta=0.2)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("activation", ["relu", lambda t: jnp.abs(t), lambda t: jnp.where(t > 0, 1.0, -1.0)])
def test_a_kink_or_jump_is_refused(activation):
    """The error estimate sees the algebraic convergence of a kink (relu, abs) or a jump (sign) and raises."""
    s = jnp.asarray(SCALES)
    with pytest.raises(ValueError, match="accuracy contract"):
        nngp.kernel_map(jnp.diag(s**2), s**2, s**2, activation=activation, method="quadrature")
    if not isinstance(activation, str):
        with pytest.raises(ValueError, match="accuracy contract"):
            nngp.nngp_kernel(_inputs(), depth=2, activation=activation)


def test_refusal_under_jit_is_nan():
    """Traced, the quadrature cannot raise: the entries it cannot vouch for are nan, never a number."""
    f = jax.jit(functools.partial(nngp.nngp_kernel, depth=2, activation=lambda t: jnp.abs(t)))
    k = np.asarray(f(jnp.asarray(_inputs())))
    assert np.all(np.isnan(k[~np.eye(3, dtype=bool)]))  # off the diagonal the kink shows
    np.testing.assert_allclose(np.diagonal(k), np.sum(_inputs() ** 2, 1) / 2, rtol=1e-13)  # E|u|² = v: smooth
    g = jax.jit(functools.partial(nngp.nngp_kernel, depth=2, activation="tanh"))
    np.testing.assert_array_equal(g(jnp.asarray(_inputs())), nngp.nngp_kernel(_inputs(), depth=2, activation="tanh"))


def test_acceptance_rule():
    """e1 = |I_h - I_2h|, e2 = |I_2h - I_4h| (relative): accepted at e1 <= 1e-11, or at e1 <= 1e-8 with
    e1 <= e2^1.5 (fast convergence); an algebraic O(h²) sequence is refused."""
    lv = jnp.array(
        [[1.0, 1.0 + 1e-12, 1.0], [1.0, 1.0 + 1e-9, 1.0 + 1e-5], [1.0, 1.0 + 1e-9, 1.0 + 5e-9], [1.0, 1.0, 1.0]]
    )
    np.testing.assert_array_equal(quadrature.accepted(lv, jnp.ones(4)), [True, True, False, True])
    assert bool(quadrature.accepted(jnp.zeros((1, 3)), jnp.zeros(1))[0])  # a zero integrand


def test_fixed_rule_is_still_available():
    """method="hermite" and an integer nodes: the fixed Gauss-Hermite rule (chapter 9 studies it)."""
    cov, v1, v2 = nngp.input_covariance(_inputs()[:2] / 1e3, beta=0.1)
    a = nngp.kernel_map(cov, v1, v2, activation="tanh", method="hermite", nodes=12)
    b = nngp.quadrature_map(cov, v1, v2, activation="tanh", nodes=12)
    np.testing.assert_array_equal(a.sigma, b.sigma)
    x = _inputs()[:2] / 1e3
    np.testing.assert_allclose(
        nngp.nngp_kernel(x, depth=3, activation="tanh", nodes=64),
        nngp.nngp_kernel(x, depth=3, activation="tanh"),
        rtol=1e-12,
    )
