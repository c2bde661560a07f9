"""Tests of the chapter module ntkbook.chapters.c06_gaussian_processes: its toy problem, symbolic
derivation and Monte Carlo studies (the claims themselves run in the notebook, under nbval)."""

import re

import jax
import numpy as np
import pytest

from ntkbook import gp
from ntkbook.chapters import c06_gaussian_processes as ch


def test_symbolic_conditional_one_observation():
    import sympy as sp

    k, q, c, y, f, mu, s2 = ch.symbolic_conditional(1)
    assert sp.simplify(mu - q[0] * y[0] / k[0, 0]) == 0
    assert sp.simplify(s2 - (c - q[0] ** 2 / k[0, 0])) == 0


def test_toy_problem():
    x = ch.toy_inputs(jax.random.key(5))
    assert x.shape == (8,)
    assert np.all(np.diff(x) >= 0) and x.min() >= -3.0 and x.max() <= 3.0
    np.testing.assert_array_equal(x, ch.toy_inputs(jax.random.key(5)))
    x = ch.toy_inputs(jax.random.key(1), 4, low=0.0, high=0.5)
    assert x.shape == (4,) and x.min() >= 0.0 and x.max() <= 0.5
    np.testing.assert_allclose(ch.toy_function(np.array([0.0, np.pi / 4])), [0.0, 1.0 + 0.3 * np.pi / 4], atol=1e-15)


@pytest.mark.parametrize(
    "call, exc, arg",
    [
        (lambda: ch.toy_inputs(jax.random.key(0), 0), ValueError, "n"),
        (lambda: ch.toy_function(float("nan")), ValueError, "x"),
    ],
    ids=["toy_inputs/n", "toy_function/nan"],
)
def test_toy_problem_refuses_bad_input(call, exc, arg):
    with pytest.raises(exc) as info:
        call()
    assert re.search(rf"(?<![\w]){re.escape(arg)}(?![\w])", str(info.value))


def test_regression_check_is_unbiased_for_the_posterior():
    # A small study (S = 2000): the fitted coefficients and residual covariance are within 5 standard
    # errors of (K + noise I)^-1 K* and of the posterior covariance of gp.posterior.
    B_hat, B_se, B, R_hat, R_se, C = map(np.asarray, ch.regression_check(jax.random.key(10), 0.1, 2000))
    assert B_hat.shape == B.shape == B_se.shape == (3, 2)
    assert R_hat.shape == C.shape == R_se.shape == (2, 2)
    assert np.max(np.abs(B_hat - B) / B_se) < 5
    assert np.max(np.abs(R_hat - C) / R_se) < 5
    x, xs = np.linspace(-1.5, 1.5, 3), np.linspace(-1.2, 1.8, 2)
    K = lambda a, b: gp.rbf_kernel(a, b)  # noqa: E731
    post = gp.posterior(K(x, x), K(x, xs), K(xs, xs), np.zeros(3), 0.1)
    np.testing.assert_allclose(C, post.cov, atol=1e-13)


def test_risk_check_shapes_and_ratio():
    mse_mean, mse_draw, c = map(np.asarray, ch.risk_check(jax.random.key(11), 4000))
    assert mse_mean.shape == mse_draw.shape == c.shape == (2,)
    assert np.all(c > 0)
    # The mean's error is N(0, c), a draw's N(0, 2c): 5 standard errors of sqrt(2 / S) relative.
    tol = 5 * np.sqrt(2 / 4000)
    np.testing.assert_allclose(mse_mean / c, 1.0, atol=tol)
    np.testing.assert_allclose(mse_draw / (2 * c), 1.0, atol=tol)
