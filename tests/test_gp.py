"""Tests of the library ntkbook.gp: independent computations, bad inputs and property tests.

The chapter's toy problem and studies are tested in tests/chapters/test_c06_gaussian_processes.py."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ntkbook import gp


def _problem(n=5, m=3, seed=0):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-2, 2, n))
    xs = rng.uniform(-2.5, 2.5, m)
    K = np.exp(-0.5 * (x[:, None] - x[None, :]) ** 2)
    Kc = np.exp(-0.5 * (x[:, None] - xs[None, :]) ** 2)
    Ks = np.exp(-0.5 * (xs[:, None] - xs[None, :]) ** 2)
    y = rng.normal(size=n)
    return x, xs, K, Kc, Ks, y


# --------------------------------------------------------------------------- unit tests


def test_rbf_kernel_matches_numpy_and_shapes():
    x1 = np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]])
    x2 = np.array([[1.0, 1.0], [0.0, 0.0]])
    K = gp.rbf_kernel(x1, x2, lengthscale=1.3, variance=2.0)
    d2 = ((x1[:, None, :] - x2[None, :, :]) ** 2).sum(-1)
    assert K.shape == (3, 2)
    np.testing.assert_allclose(K, 2.0 * np.exp(-d2 / (2 * 1.3**2)), rtol=1e-14)
    assert gp.rbf_kernel(np.arange(4.0), np.arange(2.0)).shape == (4, 2)


@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_posterior_matches_explicit_inverse(noise):
    _, _, K, Kc, Ks, y = _problem()
    mean, cov = gp.posterior(K, Kc, Ks, y, noise)
    Kinv = np.linalg.inv(K + noise * np.eye(len(y)))
    np.testing.assert_allclose(mean, Kc.T @ Kinv @ y, atol=1e-9)
    np.testing.assert_allclose(cov, Ks - Kc.T @ Kinv @ Kc, atol=1e-9)
    assert mean.shape == (3,) and cov.shape == (3, 3)


def test_posterior_multi_output_columns_are_independent_problems():
    _, _, K, Kc, Ks, y = _problem()
    Y = np.stack([y, 2 * y - 1], axis=1)
    mean, _ = gp.posterior(K, Kc, Ks, Y, 0.1)
    assert mean.shape == (3, 2)
    for j in range(2):
        np.testing.assert_allclose(mean[:, j], gp.posterior(K, Kc, Ks, Y[:, j], 0.1).mean, atol=1e-13)


def test_posterior_of_independent_test_point_is_the_prior():
    _, _, K, _, _, y = _problem()
    mean, cov = gp.posterior(K, np.zeros((5, 1)), np.array([[2.5]]), y)
    np.testing.assert_allclose(mean, [0.0], atol=0)
    np.testing.assert_allclose(cov, [[2.5]], atol=1e-15)


def test_posterior_is_jittable_and_vmappable():
    _, _, K, Kc, Ks, y = _problem()
    ys = np.stack([y, -y, 2 * y])
    means = jax.jit(jax.vmap(lambda yy: gp.posterior(K, Kc, Ks, yy, 0.1).mean))(ys)
    np.testing.assert_allclose(means[1], -means[0], atol=1e-13)
    noises = jnp.array([0.0, 0.1, 1.0])
    covs = jax.vmap(lambda s2: gp.posterior(K, Kc, Ks, y, s2).cov)(noises)
    np.testing.assert_allclose(covs[1], gp.posterior(K, Kc, Ks, y, 0.1).cov, atol=1e-12)


def test_log_marginal_likelihood_matches_direct_formula():
    _, _, K, _, _, y = _problem()
    Ky = K + 0.1 * np.eye(5)
    sign, logdet = np.linalg.slogdet(Ky)
    direct = -0.5 * y @ np.linalg.solve(Ky, y) - 0.5 * logdet - 2.5 * np.log(2 * np.pi)
    assert sign > 0
    np.testing.assert_allclose(gp.log_marginal_likelihood(K, y, 0.1), direct, atol=1e-11)


def test_psd_factor_handles_singular_matrices_without_jitter():
    v = np.array([1.0, 2.0, -1.0])
    K = np.outer(v, v)  # rank 1: Cholesky fails, eigh does not
    A = gp.psd_factor(K)
    np.testing.assert_allclose(A @ A.T, K, atol=1e-13)


def test_sample_prior_shape_and_exact_rank_one_structure():
    v = np.array([1.0, 2.0, -1.0])
    f = gp.sample_prior(jax.random.key(0), np.outer(v, v), 50)
    assert f.shape == (50, 3)
    # Every sample of N(0, v v^T) is a multiple of v, up to the square roots of the zero
    # eigenvalues as computed (rounding ~ eps |K|, so sqrt ~ 1e-8 each).
    np.testing.assert_allclose(f - np.outer(f[:, 0], v), 0, atol=1e-6)


def test_sample_prior_covariance_within_standard_errors():
    _, _, K, _, _, _ = _problem()
    S = 4000
    f = gp.sample_prior(jax.random.key(11), K, S)
    z = np.abs(np.asarray(gp.second_moment(f)) - K) / np.asarray(gp.covariance_stderr(K, S))
    assert z.max() < 5


def test_sample_posterior_noise_free_passes_through_data():
    x, _, K, _, _, y = _problem()
    draws = gp.sample_posterior(jax.random.key(1), K, K, K, y, 4)
    assert draws.shape == (4, 5)
    # The posterior covariance at the data is 0 up to rounding; its factor (eigh) is the square
    # root of those rounding-level eigenvalues, ~ sqrt(n eps) ~ 1e-7.
    np.testing.assert_allclose(draws, np.broadcast_to(y, (4, 5)), atol=1e-5)


def test_covariance_stderr_formula_against_simulation_free_values():
    K = np.array([[2.0, 0.5], [0.5, 1.0]])
    se = gp.covariance_stderr(K, 100)
    np.testing.assert_allclose(se, np.sqrt(np.array([[8.0, 2.25], [2.25, 2.0]]) / 100), rtol=1e-14)


@pytest.mark.parametrize("noise", [0.0, 0.1])
def test_cholesky_factor(noise):
    _, _, K, _, _, _ = _problem()
    L = np.asarray(gp.cholesky_factor(K, noise))
    np.testing.assert_array_equal(L, np.tril(L))
    np.testing.assert_allclose(L @ L.T, K + noise * np.eye(5), atol=1e-13)
    # Under jit, with a traced noise, it is the same factor.
    np.testing.assert_allclose(jax.jit(gp.cholesky_factor)(K, noise), L, atol=1e-14)


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "call, err, needle",
    [
        (
            lambda: gp.posterior(np.ones((2, 3)), np.ones((2, 1)), np.ones((1, 1)), np.ones(2)),
            ValueError,
            "K_train must be square",
        ),
        (
            lambda: gp.posterior(np.array([[1.0, 0.5], [0.2, 1.0]]), np.ones((2, 1)), np.ones((1, 1)), np.ones(2)),
            ValueError,
            "K_train must be symmetric",
        ),
        (
            lambda: gp.posterior(np.eye(2), np.ones((3, 1)), np.ones((1, 1)), np.ones(2)),
            ValueError,
            "K_cross must have shape",
        ),
        (
            lambda: gp.posterior(np.eye(2), np.ones((2, 2)), np.ones((1, 1)), np.ones(2)),
            ValueError,
            "K_test must have shape",
        ),
        (
            lambda: gp.posterior(np.eye(2), np.ones((2, 1)), np.ones((1, 1)), np.ones(3)),
            ValueError,
            "y must have n = 2 rows",
        ),
        (
            lambda: gp.posterior(np.eye(2), np.ones((2, 1)), np.ones((1, 1)), np.array([1.0, np.nan])),
            ValueError,
            "y must be finite",
        ),
        (
            lambda: gp.posterior(np.eye(2), np.ones((2, 1)), np.ones((1, 1)), np.ones(2), noise=-1.0),
            ValueError,
            "noise must be >= 0",
        ),
        (
            lambda: gp.posterior(np.eye(2), np.ones((2, 1)), np.ones((1, 1)), np.ones(2), noise="a"),
            TypeError,
            "noise must be a real",
        ),
        (
            lambda: gp.posterior(np.ones((2, 2)), np.ones((2, 1)), np.ones((1, 1)), np.ones(2)),
            ValueError,
            "K_train + noise * I must be positive definite",
        ),
        (
            lambda: gp.posterior("K", np.ones((2, 1)), np.ones((1, 1)), np.ones(2)),
            TypeError,
            "K_train must be an array",
        ),
        (
            lambda: gp.sample_prior(jax.random.key(0), np.array([[1.0, 2.0], [2.0, 1.0]]), 3),
            ValueError,
            "K must be positive semi-definite",
        ),
        (lambda: gp.sample_prior(0, np.eye(2), 3), TypeError, "key must be a JAX PRNG key"),
        (lambda: gp.sample_prior(jax.random.key(0), np.eye(2), 0), ValueError, "num_samples must be >= 1"),
        (
            lambda: gp.sample_posterior(
                jax.random.key(0), np.eye(2), np.ones((2, 1)), np.ones((1, 1)), np.ones((2, 2)), 3
            ),
            ValueError,
            "y must have 1 dimension",
        ),
        (lambda: gp.log_marginal_likelihood(np.eye(2), np.ones(3)), ValueError, "y must have shape (n,)"),
        (lambda: gp.cholesky_factor(np.ones((2, 2))), ValueError, "K_train + noise * I must be positive definite"),
        (lambda: gp.cholesky_factor(np.eye(2), noise=-1.0), ValueError, "noise must be >= 0"),
        (lambda: gp.cholesky_factor(np.ones((2, 3))), ValueError, "K_train must be square"),
        (lambda: gp.rbf_kernel(np.ones((2, 2)), np.ones((2, 3))), ValueError, "same input dimension"),
        (lambda: gp.rbf_kernel(np.ones(2), np.ones(2), lengthscale=0.0), ValueError, "lengthscale must be > 0"),
    ],
)
def test_bad_inputs_raise_naming_the_argument(call, err, needle):
    with pytest.raises(err) as info:
        call()
    assert needle in str(info.value)


# --------------------------------------------------------------------------- property tests (hypothesis)

_settings = settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def gp_problems(draw):
    """A random joint RBF covariance on distinct-enough inputs, split into train and test."""
    n = draw(st.integers(1, 6))
    m = draw(st.integers(1, 5))
    lengthscale = draw(st.floats(0.3, 2.0))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    # Training inputs at least 0.25 length scales apart, so K_train is invertible in float64.
    x = np.cumsum(rng.uniform(0.25, 1.0, n)) * lengthscale
    xs = rng.uniform(x.min() - 1, x.max() + 1, m)
    k = lambda a, b: np.exp(-0.5 * (a[:, None] - b[None, :]) ** 2 / lengthscale**2)  # noqa: E731
    y = rng.normal(size=n)
    noise = draw(st.sampled_from([0.0, 1e-3, 0.1, 1.0]))
    return k(x, x), k(x, xs), k(xs, xs), y, noise


@_settings
@given(gp_problems())
def test_property_posterior_covariance_symmetric_psd(problem):
    K, Kc, Ks, y, noise = problem
    _, cov = gp.posterior(K, Kc, Ks, y, noise)
    cov = np.asarray(cov)
    np.testing.assert_array_equal(cov, cov.T)
    # PSD up to rounding: the Schur complement is PSD; its computed eigenvalues may dip by
    # ~cond(K) eps below 0.
    lam = np.linalg.eigvalsh(cov)
    tol = 1e3 * np.linalg.cond(K + noise * np.eye(len(y))) * np.finfo(float).eps
    assert lam.min() >= -tol
    # ... and the posterior variance never exceeds the prior variance.
    assert np.all(np.diag(cov) <= np.diag(Ks) + 1e-12)


@_settings
@given(gp_problems())
def test_property_noise_free_posterior_interpolates(problem):
    K, _, _, y, _ = problem
    mean, cov = gp.posterior(K, K, K, y, 0.0)
    alpha = np.linalg.solve(K, y)
    n = len(y)
    eps = np.finfo(float).eps
    np.testing.assert_allclose(mean, y, atol=10 * n**2 * eps * np.abs(alpha).max())
    np.testing.assert_allclose(cov, 0, atol=10 * n**2 * eps)


@_settings
@given(gp_problems())
def test_property_posterior_mean_linear_in_y(problem):
    K, Kc, Ks, y, noise = problem
    m1 = np.asarray(gp.posterior(K, Kc, Ks, y, noise).mean)
    m2 = np.asarray(gp.posterior(K, Kc, Ks, 3 * y, noise).mean)
    np.testing.assert_allclose(m2, 3 * m1, atol=1e-8 * max(1.0, np.abs(m2).max()))
