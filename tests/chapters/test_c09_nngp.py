"""Tests of the chapter module ntkbook.chapters.c09_nngp: its data and helpers (the claims themselves
run in the notebook, under nbval)."""

import jax.numpy as jnp
import numpy as np
import pytest

from ntkbook import nngp
from ntkbook.chapters import c09_nngp as ch
from ntkbook.claims import registry


def test_chapter_registers_its_claims():
    claims = [c for c in registry().values() if c.chapter == ch.CHAPTER]
    assert len(claims) == 23


def test_chapter_inputs():
    x = ch.chapter_inputs()
    assert x.shape == (3, 4) and x.dtype == jnp.float64
    np.testing.assert_array_equal(x[0], [1.0, 0.5, -0.3, 0.8])


def test_output_covariance_of_known_outputs():
    # two networks, one input pair, two outputs: per network the mean over outputs of f(x) f(x')
    out = np.array([[[1.0, 3.0], [2.0, -1.0]], [[0.0, 1.0], [1.0, 1.0]]])  # (S=2, N=2, n_out=2)
    mean, se = ch._output_covariance(out)
    per_net = np.array([[[5.0, -0.5], [-0.5, 2.5]], [[0.5, 0.5], [0.5, 1.0]]])
    np.testing.assert_allclose(mean, per_net.mean(0), rtol=0, atol=1e-15)
    np.testing.assert_allclose(se, per_net.std(0, ddof=1) / np.sqrt(2), rtol=0, atol=1e-15)


def test_quadrature_errors_padding_changes_nothing():
    # the study pads every rule with zero-weight nodes to the largest count: the error at 8 nodes is
    # the same whether 8 is the largest count or not, and equals the unpadded quadrature_map's
    cov, v1, v2 = ch._case_arrays()
    exact = nngp.kernel_map(cov, v1, v2, activation="erf")
    q = nngp.quadrature_map(cov, v1, v2, activation="erf", nodes=8)
    want = np.max(np.abs(np.diagonal(np.asarray(q.sigma - exact.sigma))))
    alone, _ = ch.quadrature_errors("erf", (8,))
    padded, _ = ch.quadrature_errors("erf", (8, 16))
    assert alone[0] == pytest.approx(want, rel=1e-6, abs=1e-16)
    assert padded[0] == pytest.approx(want, rel=1e-6, abs=1e-16)
    assert padded[1] < padded[0]


def test_quadrature_errors_mean_is_at_most_max():
    es_max, ed_max = ch.quadrature_errors("relu", (4, 8))
    es_mean, ed_mean = ch.quadrature_errors("relu", (4, 8), reduce="mean")
    assert np.all(es_mean <= es_max) and np.all(ed_mean <= ed_max)


def test_relu_hat_variance_against_numerical_integration():
    from scipy import integrate

    s, n = 0.7, 5
    dens = lambda u: np.exp(-(u**2) / (2 * s)) / np.sqrt(2 * np.pi * s)  # noqa: E731
    m2 = integrate.quad(lambda u: u**2 * dens(u), 0, np.inf)[0]
    m4 = integrate.quad(lambda u: u**4 * dens(u), 0, np.inf)[0]
    assert ch.relu_hat_variance(s, n) == pytest.approx((m4 - m2**2) / n, rel=1e-10)


def test_unit_pairs_shape():
    a = ch._unit_pairs(ch.UNIT_WIDTHS[0])
    assert a.shape == (ch.UNIT_SEEDS, 2)


def test_ks_distances_against_scipy():
    from scipy import stats

    z = np.random.default_rng(0).standard_t(5, size=600)
    d = ch.ks_distances(z, batches=3)
    want = [stats.kstest(b, "norm").statistic for b in z.reshape(3, -1)]
    np.testing.assert_allclose(d, want, rtol=1e-12, atol=0)


def test_standardized_outputs_have_unit_variance():
    # one hidden layer: E[f²] = E[Σ̂] = Σ^(2) exactly at every width
    z = ch.standardized_outputs(ch.UNIT_WIDTHS[0])
    assert z.shape == (ch.UNIT_SEEDS,)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 * 4.75 / z.size)  # Var(z²) = 2 + excess kurtosis (about 3.75 at width 4)
