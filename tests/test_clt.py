"""Tests of the library ntkbook.clt: independent computations and bad inputs (the chapter's studies
are tested in tests/chapters/test_c03_clt.py)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from ntkbook import clt


@pytest.mark.parametrize(
    "d, ref",
    [(clt.exponential(), stats.expon()), (clt.uniform(), stats.uniform()), (clt.bernoulli(0.2), stats.bernoulli(0.2))],
)
def test_distribution_moments_match_scipy(d, ref):
    m, v, s, k = ref.stats(moments="mvsk")
    assert np.allclose([d.mean, d.var, d.skew, d.exkurt], [m, v, s, k], atol=1e-12)


def test_sample_means_shapes_and_blocks_are_means():
    # a deterministic "sampler" (0, 1, 2, ...) makes the block structure visible
    sampler = lambda key, shape: jnp.arange(shape[0], dtype=jnp.float64)  # noqa: E731
    out = clt.sample_means(sampler, (1, 2, 3), 5, key=jax.random.key(0))
    assert out.shape == (5, 3)
    np.testing.assert_allclose(out[0], [0.0, 1.5, 4.0])


def test_sample_means_vector_draws_shape():
    s = lambda key, shape: jax.random.normal(key, shape + (2,))  # noqa: E731
    assert clt.sample_means(s, (1, 4), 7, key=jax.random.key(1)).shape == (7, 2, 2)


def test_moments_against_scipy():
    x = jax.random.normal(jax.random.key(2), (1000, 2)) ** 2
    m = clt.moments(x)
    xn = np.asarray(x)
    np.testing.assert_allclose(m["var"], xn.var(axis=0), rtol=1e-12)
    np.testing.assert_allclose(m["skew"], stats.skew(xn, axis=0), rtol=1e-10)
    np.testing.assert_allclose(m["exkurt"], stats.kurtosis(xn, axis=0), rtol=1e-10)


def test_batch_stderr_of_mean_matches_formula():
    x = jax.random.normal(jax.random.key(3), (40_000,))
    est, se = clt.batch_stderr(x, jnp.mean)
    assert abs(float(se) - 1 / math.sqrt(40_000)) < 0.3 / math.sqrt(40_000)


def test_propagated_slope_stderr_matches_simulation():
    x = np.array([1.0, 2, 4, 8, 16])
    rel = np.full(5, 0.05)
    rng = np.random.default_rng(0)
    lx = np.log(x)
    slopes = [np.polyfit(lx, -lx + rel * rng.standard_normal(5), 1)[0] for _ in range(4000)]
    assert abs(np.std(slopes) - clt.propagated_slope_stderr(x, rel)) < 0.05 * clt.propagated_slope_stderr(x, rel)


@pytest.mark.parametrize(
    "call, exc, name",
    [
        (lambda: clt.sample_means("f", (1,), 3, key=jax.random.key(0)), TypeError, "sampler"),
        (lambda: clt.sample_means(clt.uniform().sampler, (0,), 3, key=jax.random.key(0)), ValueError, "sizes"),
        (lambda: clt.sample_means(clt.uniform().sampler, (), 3, key=jax.random.key(0)), ValueError, "sizes"),
        (lambda: clt.sample_means(clt.uniform().sampler, (1,), 0, key=jax.random.key(0)), ValueError, "reps"),
        (lambda: clt.sample_means(clt.uniform().sampler, (1,), 3, key=0), TypeError, "key"),
        (lambda: clt.bernoulli(1.5), ValueError, "p"),
        (lambda: clt.exponential(-1.0), ValueError, "rate"),
        (lambda: clt.batch_stderr(jnp.ones(10), jnp.mean, n_batches=40), ValueError, "x"),
        (lambda: clt.standardized_moments("exp", (1,), 10, key=jax.random.key(0)), TypeError, "dist"),
        (lambda: clt.propagated_slope_stderr([1.0, 2.0], [0.1]), ValueError, "rel_stderr"),
    ],
)
def test_bad_inputs(call, exc, name):
    with pytest.raises(exc, match=name):
        call()
