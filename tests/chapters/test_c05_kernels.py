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


def test_format_eig_ratio_tex():
    assert (
        ch.format_eig_ratio(1e-20, 1e-14, tex=True)
        == "0 up to rounding ($\\lvert\\mathrm{ratio}\\rvert \\le n\\varepsilon$)"
    )
    assert ch.format_eig_ratio(0.25, 1e-14, tex=True) == ch.format_eig_ratio(0.25, 1e-14)


def test_rff_errors_are_independent_draws_per_size():
    x = ch.random_inputs(jax.random.key(33), 5, 3)
    sizes, seeds = np.array([8, 64]), 3
    errs = ch.rff_errors(x, sizes=sizes, seeds=seeds)
    assert errs.shape == (2, seeds) and np.all(errs > 0)
    # Independently: entry [w, s] uses D features of its own key (keys split (sizes, seeds) from key 32): the
    # first D of the d_max = 64 that random_fourier_features draws with that key, rescaled to D features.
    K = np.asarray(kernels.rbf(x, x, 1.0))
    keys = jax.random.split(jax.random.key(32), (len(sizes), seeds))
    for w, D in enumerate(sizes):
        for s in range(seeds):
            F = np.asarray(kernels.random_fourier_features(keys[w, s], x, 64, 1.0))[:, :D] * np.sqrt(64 / D)
            assert errs[w, s] == pytest.approx(np.sqrt(np.mean((F @ F.T - K) ** 2)), rel=1e-10)
    # Another key, other draws.
    assert not np.any(ch.rff_errors(x, sizes=sizes, seeds=seeds, key=jax.random.key(1)) == errs)


def test_rff_mean_squared_error_is_the_per_feature_variance_over_d():
    # Each feature contributes z = 2 cos(w.x + b) cos(w.x' + b) = cos(w.(x - x')) + cos(w.(x + x') + 2b), whose
    # variance is 1 + K(2(x - x'))/2 - K(x - x')^2 (RBF, l = 1): the mean squared error of the D-feature
    # average is its mean over the Gram matrix divided by D, exactly. 5 standard errors over 400 draws.
    x = ch.random_inputs(jax.random.key(3), 4, 2)
    sizes, seeds = np.array([4, 32]), 400
    sq = ch.rff_errors(x, sizes=sizes, seeds=seeds) ** 2  # (2, seeds)
    K = np.asarray(kernels.rbf(x, x, 1.0))
    K2 = np.asarray(kernels.rbf(2 * x, 2 * x, 1.0))  # K(2(x - x'))
    expected = np.mean(1 + K2 / 2 - K**2) / sizes
    se = sq.std(axis=1, ddof=1) / np.sqrt(seeds)
    assert np.all(np.abs(sq.mean(axis=1) - expected) < 5 * se)


def test_rff_errors_rejects_bad_input():
    x = ch.random_inputs(jax.random.key(33), 5, 3)
    with pytest.raises(ValueError, match="sizes"):
        ch.rff_errors(x, sizes=np.array([0, 8]))
    with pytest.raises(ValueError, match="seeds"):
        ch.rff_errors(x, seeds=1)


def test_ridge_residual_rounding_bounds_the_computed_residual():
    # The chapter's interpolation problem at the smallest ridge of the rate check: the residual of the float64
    # solve against the exact residual of the same K and y (mpmath, 50 digits) is within the bound, and the
    # bound is far below the residual (the rate check's premise).
    import mpmath as mp

    data = ch.regression_data()
    K = kernels.rbf(data.x_train, data.x_train, ch.INTERPOLATION_LENGTHSCALE)
    y = data.y_train
    lam = float(ch.RIDGE_LAMBDAS[0])
    alpha = kernels.kernel_ridge_fit(K, y, lam)
    computed = np.asarray(K @ alpha - y)
    with mp.workdps(50):
        Km, ym = mp.matrix(np.asarray(K).tolist()), mp.matrix(np.asarray(y).tolist())
        am = mp.lu_solve(Km + lam * mp.eye(len(y)), ym)
        exact = np.array([float(v) for v in (Km * am - ym)])
    bound = ch.ridge_residual_rounding(K, y, lam, alpha)
    assert np.max(np.abs(computed - exact)) <= bound
    assert bound < 1e-3 * np.max(np.abs(exact))
