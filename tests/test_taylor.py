"""Tests of the library ntkbook.taylor: unit tests against independent computations and bad input
(the chapter's symbolic series and examples are tested in tests/chapters/test_c04_taylor.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkbook import taylor


def _f(x):
    return jnp.exp(x[0]) * jnp.sin(x[1]) + x[0] * x[2] ** 2


def _vec(x):
    return jnp.stack([_f(x), jnp.cos(x[0] * x[1]) + x[2]])


A = jnp.array([0.2, -0.4, 0.7])


# --------------------------------------------------------------------------- JAX models


def test_linearize_at_matches_gradient_and_jacobian():
    xs = A + 0.2 * jax.random.normal(jax.random.key(0), (5, 3))
    lin = taylor.linearize_at(_f, A)
    expected = _f(A) + (xs - A) @ jax.grad(_f)(A)
    np.testing.assert_allclose(jax.vmap(lin)(xs), expected, rtol=0, atol=1e-13)
    linv = taylor.linearize_at(_vec, A)
    expected_v = _vec(A) + (xs - A) @ jax.jacfwd(_vec)(A).T
    np.testing.assert_allclose(jax.vmap(linv)(xs), expected_v, rtol=0, atol=1e-13)
    assert linv(xs[0]).shape == (2,)


def test_second_order_at_matches_hessian():
    x = A + jnp.array([0.05, -0.1, 0.02])
    u = x - A
    expected = _f(A) + jax.grad(_f)(A) @ u + 0.5 * u @ jax.hessian(_f)(A) @ u
    np.testing.assert_allclose(taylor.second_order_at(_f, A)(x), expected, rtol=0, atol=1e-13)
    np.testing.assert_allclose(taylor.taylor_model_at(_f, A, 2)(x), expected, rtol=0, atol=1e-13)


def test_directional_derivative_against_finite_differences_in_t():
    # D^k f(a)[u]^k is the k-th derivative of g(t) = f(a + t u) at 0; compare with jax.grad in t.
    u = jnp.array([0.3, 0.5, -0.2])
    g = lambda t: _f(A + t * u)  # noqa: E731
    dg = g
    for k in range(1, 4):
        dg = jax.grad(dg)
        np.testing.assert_allclose(taylor.directional_derivative(_f, A, u, k), dg(0.0), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(taylor.directional_derivative(_f, A, u, 0), _f(A), rtol=0, atol=0)


def test_nested_jvp_matches_directional_derivative_under_jit_and_vmap():
    us = jax.random.normal(jax.random.key(1), (4, 3))
    for k in (0, 1, 2, 3):
        batched = jax.jit(jax.vmap(lambda u, k=k: taylor.nested_jvp(_f, A, u, k)))(us)
        expected = jnp.stack([taylor.directional_derivative(_f, A, u, k) for u in us])
        np.testing.assert_allclose(batched, expected, rtol=1e-12, atol=1e-13)
    # k = 2 is the Hessian quadratic form u^T H u.
    H = jax.hessian(_f)(A)
    np.testing.assert_allclose(taylor.nested_jvp(_f, A, us[0], 2), us[0] @ H @ us[0], rtol=1e-12, atol=1e-13)


def test_taylor_model_is_exact_for_a_cubic():
    cubic = lambda x: x[0] ** 3 - 2 * x[0] * x[1] + x[1] ** 2  # noqa: E731
    a = jnp.array([0.5, -1.0])
    x = jnp.array([2.0, 1.5])
    np.testing.assert_allclose(taylor.taylor_model_at(cubic, a, 3)(x), cubic(x), rtol=0, atol=1e-12)


def test_remainder_errors_and_slopes():
    radii = np.logspace(-3, -1, 5)
    u = jnp.array([1.0, 2.0, -1.0])
    errs = taylor.remainder_errors(_f, A, u, radii, 1)
    assert errs.shape == (5,)
    # Independent: the error along the line is |g(r) - g(0) - r g'(0)| for g(t) = f(a + t u/|u|).
    uh = u / jnp.linalg.norm(u)
    g = lambda t: _f(A + t * uh)  # noqa: E731
    ref = jnp.array([abs(g(r) - g(0.0) - r * jax.grad(g)(0.0)) for r in radii])
    np.testing.assert_allclose(errs, ref, rtol=1e-9, atol=1e-16)
    fits = taylor.remainder_slopes(_f, A, u, radii, orders=(1, 2))
    assert [fit.order for fit in fits] == [1, 2]
    assert abs(fits[0].slope - 2) < 0.1 and abs(fits[1].slope - 3) < 0.1


def test_models_reject_bad_input():
    with pytest.raises(TypeError, match="f must be callable"):
        taylor.linearize_at("f", A)
    with pytest.raises(ValueError, match="a must have 0 or 1 dimension"):
        taylor.linearize_at(_f, jnp.ones((3, 1)))
    with pytest.raises(ValueError, match="x must have the shape of a"):
        taylor.linearize_at(_f, A)(jnp.ones(4))
    with pytest.raises(ValueError, match="u must have the shape of a"):
        taylor.directional_derivative(_f, A, jnp.ones(2), 1)
    with pytest.raises(ValueError, match="order must be >= 0"):
        taylor.taylor_model_at(_f, A, -1)
    with pytest.raises(ValueError, match="direction must be non-zero"):
        taylor.remainder_errors(_f, A, jnp.zeros(3), [0.1], 1)
    with pytest.raises(ValueError, match="radii must be"):
        taylor.remainder_errors(_f, A, jnp.ones(3), [0.1, -0.1], 1)
    with pytest.raises(ValueError, match="f must map a to a scalar or a vector"):
        taylor.linearize_at(lambda x: jnp.outer(x, x), A)
    with pytest.raises(ValueError, match="a must be finite"):
        taylor.second_order_at(_f, jnp.array([0.0, jnp.nan, 1.0]))
    with pytest.raises(TypeError, match="orders must be"):
        taylor.remainder_slopes(_f, A, jnp.ones(3), [0.1, 0.01], orders=1)
