"""Tests of the chapter module ntkbook.chapters.c03_clt: its exact Kolmogorov--Smirnov distances and
its correlated vector sampler, against independent computations (scipy), and their bad inputs.
The claims themselves are run by nbval on book/03-clt.ipynb."""

import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from ntkbook import clt
from ntkbook.chapters import c03_clt as ch
from ntkbook.claims import rate_checks, registry


def test_distributions_are_the_library_ones():
    assert [d.name for d in ch.DISTRIBUTIONS] == [clt.exponential().name, clt.uniform().name, clt.bernoulli().name]
    assert all(isinstance(d, clt.Distribution) for d in ch.DISTRIBUTIONS)


def test_ks_exact_against_scipy_cdfs():
    for N in (5, 40):
        z = np.linspace(-8, 8, 20001)
        F = stats.gamma(N).cdf(N + math.sqrt(N) * z)
        assert abs(ch.ks_to_normal_exact("exponential", N) - np.max(np.abs(F - stats.norm.cdf(z)))) < 1e-12
        k = np.arange(N + 1)
        zk = (k - N * 0.3) / math.sqrt(N * 0.21)
        Fk = stats.binom(N, 0.3).cdf(k)
        Fl = np.concatenate([[0.0], Fk[:-1]])
        ref = np.max(np.maximum(np.abs(Fk - stats.norm.cdf(zk)), np.abs(Fl - stats.norm.cdf(zk))))
        assert abs(ch.ks_to_normal_exact("bernoulli", N, p=0.3) - ref) < 1e-12


def test_chapter_registers_its_claims():
    assert len([c for c in registry().values() if c.chapter == ch.CHAPTER]) == 9


def test_ks_rate_holds_for_the_derived_exponent_and_fails_for_others():
    # The exact distances of the exponential through the book's criterion, with the chapter's grid noise.
    sizes = np.array(ch.KS_SIZES, dtype=float)
    ks = np.array([ch.ks_to_normal_exact("exponential", n, grid=ch.KS_GRID) for n in ch.KS_SIZES])
    noise = 0.4 / math.sqrt(sizes[-1]) * (16.0 / (ch.KS_GRID - 1)) ** 2 / 8

    def verdict(expected):
        return rate_checks("ks", sizes, ks, expected, next_order=-1.0, y_noise=noise)[0].passed

    assert verdict(-0.5)
    for wrong in (-1.0, -0.55, -0.45, -1 / 3):
        assert not verdict(wrong), wrong


def test_ks_checks_pass():
    checks = ch.check_ks_rate()
    assert len(checks) == 4 and all(c.passed for c in checks)


def test_batch_moments_are_the_chapters_draws_in_independent_batches():
    # The uniform's batches (the cheapest draws): shape (sizes, batches), and the variance rate through the book's
    # criterion holds at -1 and fails at a wrong exponent.
    b = ch.batch_moments(1)
    assert b["var"].shape == (len(ch.SIZES), ch.RATE_BATCHES)
    xb = ch.chapter_sample_means(1)
    first = xb[: ch.REPS // ch.RATE_BATCHES]
    np.testing.assert_allclose(b["var"][:, 0], first.var(axis=0), rtol=1e-12)

    def verdict(expected):
        return rate_checks("var", ch.SIZES, b["var"], expected)[0].passed

    assert verdict(-1.0)
    for wrong in (-0.5, -0.95, -1.05):
        assert not verdict(wrong), wrong


def test_correlated_sampler_shape_mean_and_covariance():
    mu, L = jnp.array(ch.MV_MU), jnp.array(ch.MV_L)
    s = ch.correlated_sampler(mu, L)
    assert clt.sample_means(s, (1, 4), 7, key=jax.random.key(1)).shape == (7, 2, 3)
    x = np.asarray(s(jax.random.key(2), (200_000,)))
    assert x.shape == (200_000, 3)
    # Exponential(1) - 1 has mean 0 and variance 1, so x has mean mu and covariance L L^T.
    np.testing.assert_allclose(x.mean(axis=0), mu, atol=0.02)
    np.testing.assert_allclose(np.cov(x, rowvar=False), L @ L.T, atol=0.05)


@pytest.mark.parametrize(
    "call, exc, name",
    [
        (lambda: ch.ks_to_normal_exact("cauchy", 3), ValueError, "dist"),
        (lambda: ch.ks_to_normal_exact("uniform", 3), ValueError, "dist"),
        (lambda: ch.ks_to_normal_exact("exponential", 0), ValueError, "N"),
        (lambda: ch.ks_to_normal_exact("bernoulli", 3, p=1.5), ValueError, "p"),
        (lambda: ch.ks_to_normal_exact("exponential", 3, grid=2), ValueError, "grid"),
        (lambda: ch.correlated_sampler(jnp.zeros(2), jnp.eye(3)), ValueError, "L"),
    ],
)
def test_bad_inputs(call, exc, name):
    with pytest.raises(exc) as info:
        call()
    assert re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", str(info.value)), str(info.value)
