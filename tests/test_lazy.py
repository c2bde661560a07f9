"""Tests of ntkbook.lazy: independent computations and bad inputs (the chapter's studies are tested in
tests/chapters/test_c12_lazy_training.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkbook import lazy, mlp


def test_ntk_parameterization_is_mlp_apply():
    p = mlp.init(jax.random.key(0), (2, 16, 3))
    x = jax.random.normal(jax.random.key(1), (5, 2))
    np.testing.assert_allclose(lazy.apply_parameterized(p, x), mlp.apply(p, x, activation="tanh", beta=0.5), atol=1e-14)


def test_mean_field_is_ntk_divided_by_sqrt_width():
    p = mlp.init(jax.random.key(0), (2, 16, 1))
    x = jax.random.normal(jax.random.key(1), (5, 2))
    np.testing.assert_allclose(
        lazy.apply_parameterized(p, x, parameterization="mean_field"), lazy.apply_parameterized(p, x) / 4.0, atol=1e-14
    )


def test_scaled_apply_is_the_parameterized_network_with_its_scale():
    p = mlp.init(jax.random.key(0), (2, 16, 2))
    x = jax.random.normal(jax.random.key(1), (5, 2))
    for name, s in (("ntk", 16**-0.5), ("mean_field", 1 / 16)):
        np.testing.assert_array_equal(lazy.scaled_apply(p, x, s), lazy.apply_parameterized(p, x, parameterization=name))
    # A traced scale: vmap over the two parameterizations at once.
    both = jax.vmap(lambda s: lazy.scaled_apply(p, x, s))(jnp.array([16**-0.5, 1 / 16]))
    np.testing.assert_allclose(both[1], lazy.apply_parameterized(p, x, parameterization="mean_field"), atol=1e-15)
    np.testing.assert_allclose(
        lazy.scaled_apply(p, x, 3.0, activation="erf", beta=0.0),
        3.0 * 4.0 * mlp.apply(p, x, activation="erf", beta=0.0),
        atol=1e-13,
    )


def test_flat_outputs_stacks_the_outputs_of_the_raveled_parameters():
    p = mlp.init(jax.random.key(0), (2, 3, 2))
    x = jnp.ones((4, 2))
    f, theta = lazy.flat_outputs(mlp.apply, p, x)
    assert theta.shape == (mlp.num_params((2, 3, 2)),)
    np.testing.assert_array_equal(f(theta), mlp.apply(p, x).reshape(-1))
    assert jax.jacrev(f)(theta).shape == (8, theta.size)


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
    f = lambda th: lazy.apply_parameterized(unravel(th), x).reshape(-1)  # noqa: E731
    brute = _brute_force_hessian_norm(f, flat)
    est = float(lazy.hessian_norm(lazy.apply_parameterized, p, x, key=jax.random.key(5), iterations=200))
    # The refined grid resolves the angle to ~1e-6 rad, so the sup is known to ~1e-10 relative.
    assert est == pytest.approx(brute, rel=1e-8)


def test_hessian_norm_of_a_quadratic_is_its_matrix_norm():
    A = jnp.array([[2.0, 1.0, 0.0], [1.0, -3.0, 0.5], [0.0, 0.5, 1.0]])
    model = lambda p, x: (0.5 * p["t"] @ A @ p["t"] * jnp.ones((x.shape[0],)))[:, None]  # noqa: E731
    p = {"t": jnp.array([0.3, -0.2, 0.1])}
    est = float(lazy.hessian_norm(model, p, jnp.ones((1, 1)), key=jax.random.key(0), iterations=200))
    assert est == pytest.approx(float(np.max(np.abs(np.linalg.eigvalsh(A)))), rel=1e-10)


def test_hessian_norm_from_a_given_start_is_the_keyed_estimate():
    p = mlp.init(jax.random.key(3), (2, 4, 1))
    x = jax.random.normal(jax.random.key(4), (2, 2))
    start = jax.random.normal(jax.random.key(5), (mlp.num_params((2, 4, 1)),))
    keyed = lazy.hessian_norm(mlp.apply, p, x, key=jax.random.key(5), iterations=7)
    np.testing.assert_array_equal(lazy.hessian_norm(mlp.apply, p, x, start=start, iterations=7), keyed)
    np.testing.assert_allclose(lazy.hessian_norm(mlp.apply, p, x, start=3.0 * start, iterations=7), keyed, rtol=1e-13)


def test_jacobian_norm_and_kappa_of_a_linear_model():
    # f = X w: J = X, D²f = 0, so κ = 0 and ||Df|| = σ_max(X).
    X = jnp.array([[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]])
    model = lambda p, x: x @ p  # noqa: E731
    w = jnp.zeros((2, 1))
    assert float(lazy.jacobian_norm(model, w, X)) == pytest.approx(
        float(np.linalg.svd(X, compute_uv=False)[0]), rel=1e-12
    )
    assert float(lazy.kappa(model, w, X, jnp.ones((3, 1)), key=jax.random.key(0))) == pytest.approx(0.0, abs=1e-12)


def test_bad_inputs():
    p = mlp.init(jax.random.key(0), (2, 8, 1))
    x = jnp.ones((3, 2))
    with pytest.raises(ValueError, match="parameterization"):
        lazy.apply_parameterized(p, x, parameterization="standard")
    with pytest.raises(ValueError, match="two-layer"):
        lazy.apply_parameterized(mlp.init(jax.random.key(0), (2, 4, 4, 1)), x)
    with pytest.raises(ValueError, match="x"):
        lazy.apply_parameterized(p, jnp.ones((3, 5)))
    with pytest.raises(ValueError, match="scale"):
        lazy.scaled_apply(p, x, 0.0)
    with pytest.raises(ValueError, match="two-layer"):
        lazy.scaled_apply(mlp.init(jax.random.key(0), (2, 4, 4, 1)), x, 1.0)
    with pytest.raises(TypeError, match="key"):
        lazy.hessian_norm(lazy.apply_parameterized, p, x, key=0)
    with pytest.raises(TypeError, match="exactly one of key"):
        lazy.hessian_norm(lazy.apply_parameterized, p, x)
    with pytest.raises(TypeError, match="exactly one of key"):
        lazy.hessian_norm(lazy.apply_parameterized, p, x, key=jax.random.key(0), start=jnp.ones(33))
    with pytest.raises(ValueError, match="start"):
        lazy.hessian_norm(lazy.apply_parameterized, p, x, start=jnp.ones(5))
    with pytest.raises(ValueError, match="iterations"):
        lazy.hessian_norm(lazy.apply_parameterized, p, x, key=jax.random.key(0), iterations=0)
    with pytest.raises(ValueError, match="y"):
        lazy.kappa(lazy.apply_parameterized, p, x, jnp.ones((2, 1)), key=jax.random.key(0))
    with pytest.raises(TypeError, match="apply_fn"):
        lazy.flat_outputs(None, p, x)
    with pytest.raises(TypeError, match="apply_fn"):
        lazy.jacobian_norm(None, p, x)
