"""Tests of the chapter module ntkbook.chapters.c05_kernels: its data, studies and helpers (the claims
themselves run in the notebook, under nbval)."""

import jax
import numpy as np
import pytest

from ntkbook import kernels
from ntkbook.chapters import c05_kernels as ch


def test_random_inputs_shape_and_determinism():
    x = ch.random_inputs(jax.random.key(30), 7, 2)
    assert x.shape == (7, 2)
    np.testing.assert_array_equal(x, ch.random_inputs(jax.random.key(30), 7, 2))


def test_example_grams_are_the_library_kernels():
    x = ch.random_inputs(jax.random.key(1), 6, 3)
    grams = ch.example_grams(x)
    assert list(grams) == ["linear", "polynomial p=2, c=1", "polynomial p=3, c=0.5", "rbf l=1", "rbf l=0.3"]
    assert all(K.shape == (6, 6) for K in grams.values())
    np.testing.assert_array_equal(grams["rbf l=0.3"], kernels.rbf(x, x, 0.3))
    np.testing.assert_array_equal(grams["polynomial p=3, c=0.5"], kernels.polynomial(x, x, 3, 0.5))


def test_format_eig_ratio():
    assert ch.format_eig_ratio(1e-20, 1e-14) == "0 up to rounding (|ratio| <= n eps)"
    assert ch.format_eig_ratio(-1e-15, 1e-14) == "0 up to rounding (|ratio| <= n eps)"
    assert "rounding" not in ch.format_eig_ratio(0.25, 1e-14)


def test_regression_data_shapes_and_target():
    data = ch.regression_data(n=10, m=20, noise=0.0)
    assert data.x_train.shape == (10, 1) and data.y_train.shape == (10,)
    assert data.x_test.shape == (20, 1) and data.y_test.shape == (20,)
    np.testing.assert_allclose(data.y_train, np.sin(2 * data.x_train[:, 0]) + 0.5, atol=1e-15)
    np.testing.assert_allclose(data.y_test, np.sin(2 * data.x_test[:, 0]) + 0.5, atol=1e-15)
    assert np.all(np.diff(np.asarray(data.x_train[:, 0])) >= 0)


def test_compare_predictors_names_the_three_predictors():
    errs = ch.compare_predictors(0.1)
    assert list(errs) == ["weighted sum (as written)", "Nadaraya-Watson", "kernel ridge (lambda = 0.1)"]
    assert all(np.isfinite(v) and v >= 0 for v in errs.values())


def test_rff_errors_small_study():
    x = ch.random_inputs(jax.random.key(33), 5, 3)
    seeds = 3
    means, ses = ch.rff_errors(x, sizes=np.array([8, 64]), seeds=seeds)
    assert means.shape == (2,) and ses.shape == (2,)
    assert np.all(means > 0) and np.all(ses >= 0)
    # With D = max(sizes) the estimate of each seed is phi phi^T of random_fourier_features itself.
    K = np.asarray(kernels.rbf(x, x, 1.0))
    rms = []
    for key in jax.random.split(jax.random.key(32), seeds):
        F = np.asarray(kernels.random_fourier_features(key, x, 64, 1.0))
        rms.append(np.sqrt(np.mean((F @ F.T - K) ** 2)))
    assert means[1] == pytest.approx(np.mean(rms), rel=1e-10)
    assert ses[1] == pytest.approx(np.std(rms, ddof=1) / np.sqrt(seeds), rel=1e-8)
