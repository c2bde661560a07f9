"""Tests of ntkbook.lazy: independent computations, bad inputs, and every chapter claim."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkbook import lazy, mlp


def test_ntk_parameterization_is_mlp_apply():
    p = mlp.init(jax.random.key(0), (2, 16, 3))
    x = jax.random.normal(jax.random.key(1), (5, 2))
    np.testing.assert_allclose(lazy.apply(p, x), mlp.apply(p, x, activation=lazy.ACTIVATION, beta=lazy.BETA), atol=1e-14)


def test_mean_field_is_ntk_divided_by_sqrt_width():
    p = mlp.init(jax.random.key(0), (2, 16, 1))
    x = jax.random.normal(jax.random.key(1), (5, 2))
    np.testing.assert_allclose(lazy.apply(p, x, parameterization="mean_field"), lazy.apply(p, x) / 4.0, atol=1e-14)


def _brute_force_hessian_norm(f, theta):
    # Full Hessian tensor of a two-output f, then sup over unit w = (cos a, sin a) of the spectral
    # norm of w_1 H_1 + w_2 H_2 on a dense grid of angles refined around the best one.
    H = np.asarray(jax.hessian(f)(theta))  # (2, P, P)
    g = lambda a: np.max(np.abs(np.linalg.eigvalsh(np.cos(a) * H[0] + np.sin(a) * H[1])))  # noqa: E731
    grid = np.linspace(0, np.pi, 2001)
    best = grid[np.argmax([g(a) for a in grid])]
    fine = np.linspace(best - np.pi / 2000, best + np.pi / 2000, 2001)
    return max(g(a) for a in fine)


def test_hessian_norm_matches_brute_force_on_a_small_network():
    p = mlp.init(jax.random.key(3), (2, 4, 1))
    x = jax.random.normal(jax.random.key(4), (2, 2))
    flat, unravel = jax.flatten_util.ravel_pytree(p)
    f = lambda th: lazy.apply(unravel(th), x).reshape(-1)  # noqa: E731
    brute = _brute_force_hessian_norm(f, flat)
    est = float(lazy.hessian_norm(lazy.apply, p, x, key=jax.random.key(5), iterations=200))
    # The refined grid resolves the angle to ~1e-6 rad, so the sup is known to ~1e-10 relative.
    assert est == pytest.approx(brute, rel=1e-8)


def test_hessian_norm_of_a_quadratic_is_its_matrix_norm():
    A = jnp.array([[2.0, 1.0, 0.0], [1.0, -3.0, 0.5], [0.0, 0.5, 1.0]])
    model = lambda p, x: (0.5 * p["t"] @ A @ p["t"] * jnp.ones((x.shape[0],)))[:, None]  # noqa: E731
    p = {"t": jnp.array([0.3, -0.2, 0.1])}
    est = float(lazy.hessian_norm(model, p, jnp.ones((1, 1)), key=jax.random.key(0), iterations=200))
    assert est == pytest.approx(float(np.max(np.abs(np.linalg.eigvalsh(A)))), rel=1e-10)


def test_jacobian_norm_and_kappa_of_a_linear_model():
    # f = X w: J = X, D²f = 0, so κ = 0 and ||Df|| = σ_max(X).
    X = jnp.array([[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]])
    model = lambda p, x: x @ p  # noqa: E731
    w = jnp.zeros((2, 1))
    assert float(lazy.jacobian_norm(model, w, X)) == pytest.approx(float(np.linalg.svd(X, compute_uv=False)[0]), rel=1e-12)
    assert float(lazy.kappa(model, w, X, jnp.ones((3, 1)), key=jax.random.key(0))) == pytest.approx(0.0, abs=1e-12)


def test_bad_inputs():
    p = mlp.init(jax.random.key(0), (2, 8, 1))
    x = jnp.ones((3, 2))
    with pytest.raises(ValueError, match="parameterization"):
        lazy.apply(p, x, parameterization="standard")
    with pytest.raises(ValueError, match="two-layer"):
        lazy.apply(mlp.init(jax.random.key(0), (2, 4, 4, 1)), x)
    with pytest.raises(ValueError, match="x"):
        lazy.apply(p, jnp.ones((3, 5)))
    with pytest.raises(TypeError, match="key"):
        lazy.hessian_norm(lazy.apply, p, x, key=0)
    with pytest.raises(ValueError, match="iterations"):
        lazy.hessian_norm(lazy.apply, p, x, key=jax.random.key(0), iterations=0)
    with pytest.raises(ValueError, match="y"):
        lazy.kappa(lazy.apply, p, x, jnp.ones((2, 1)), key=jax.random.key(0))
    with pytest.raises(TypeError, match="apply_fn"):
        lazy.jacobian_norm(None, p, x)
