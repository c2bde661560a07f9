"""Tests of the library ntkbook.jacobians: independent computations and bad inputs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkbook import jacobians as jac


def quadratic_map(x):
    # f(x) = A x + (x . x) c, whose Jacobian is A + 2 c x^T: an independent formula.
    A = jnp.arange(12.0).reshape(4, 3)
    c = jnp.array([1.0, -2.0, 0.5, 3.0])
    return A @ x + jnp.dot(x, x) * c


def quadratic_jacobian(x):
    A = np.arange(12.0).reshape(4, 3)
    c = np.array([1.0, -2.0, 0.5, 3.0])
    return A + 2 * np.outer(c, np.asarray(x))


@pytest.mark.parametrize("mode", ["auto", "fwd", "rev"])
def test_jacobian_matches_hand_derivative(mode):
    x = jnp.array([0.3, -1.2, 2.0])
    J = jac.jacobian(quadratic_map, x, mode=mode)
    assert J.shape == (4, 3)
    np.testing.assert_allclose(J, quadratic_jacobian(x), rtol=0, atol=1e-13)


def test_scalar_function_jacobian_is_a_row_and_gradient_a_vector():
    f = lambda x: jnp.sum(jnp.sin(x))  # noqa: E731
    x = jnp.array([0.1, 0.2])
    assert jac.jacobian(f, x).shape == (1, 2)
    np.testing.assert_allclose(jac.gradient(f, x), jnp.cos(x), atol=1e-15)


def test_gradient_columns_are_output_gradients():
    x = jnp.array([0.3, -1.2, 2.0])
    G = jac.gradient(quadratic_map, x)
    assert G.shape == (3, 4)
    np.testing.assert_allclose(G, quadratic_jacobian(x).T, atol=1e-13)


def test_finite_differences_close_to_exact():
    x = jnp.array([0.3, -1.2, 2.0])
    # A quadratic has zero third derivative: only rounding remains, ~eps * |f| / h.
    fd = jac.finite_difference_jacobian(quadratic_map, x)
    np.testing.assert_allclose(fd, quadratic_jacobian(x), atol=1e-8)


def test_vjp_and_jvp_against_explicit_matrix():
    x = jnp.array([0.3, -1.2, 2.0])
    J = quadratic_jacobian(x)
    u = jnp.array([1.0, 2.0, 3.0])
    v = jnp.array([1.0, 0.0, -1.0, 2.0])
    np.testing.assert_allclose(jac.jvp(quadratic_map, x, u), J @ np.asarray(u), atol=1e-12)
    np.testing.assert_allclose(jac.vjp(quadratic_map, x, v), J.T @ np.asarray(v), atol=1e-12)


def test_chain_rule_product():
    g = lambda y: jnp.array([jnp.sum(y**2), y[0] * y[1]])  # noqa: E731
    x = jnp.array([0.3, -1.2, 2.0])
    direct = jac.jacobian(lambda x: g(quadratic_map(x)), x)
    np.testing.assert_allclose(jac.chain_rule_jacobian(g, quadratic_map, x), direct, atol=1e-10)


def test_jacobian_is_jittable_under_vmap():
    xs = jnp.linspace(-1, 1, 12).reshape(4, 3)
    Js = jax.jit(jax.vmap(lambda x: jac.jacobian(quadratic_map, x)))(xs)
    assert Js.shape == (4, 4, 3)


@pytest.mark.parametrize(
    "call, err, needle",
    [
        (lambda: jac.jacobian("nope", jnp.ones(3)), TypeError, "f must be callable"),
        (lambda: jac.jacobian(quadratic_map, jnp.ones((3, 1))), ValueError, "x must have 1 dimension"),
        (lambda: jac.jacobian(quadratic_map, jnp.ones(0)), ValueError, "x must have at least one entry"),
        (lambda: jac.jacobian(quadratic_map, jnp.array([1.0, jnp.nan, 0.0])), ValueError, "x must be finite"),
        (lambda: jac.jacobian(quadratic_map, "abc"), TypeError, "x must be an array"),
        (lambda: jac.jacobian(quadratic_map, jnp.ones(3), mode="sideways"), ValueError, "mode must be"),
        (lambda: jac.jacobian(lambda x: jnp.outer(x, x), jnp.ones(3)), ValueError, "f must map a vector"),
        (lambda: jac.jvp(quadratic_map, jnp.ones(3), jnp.ones(2)), ValueError, "u must have the shape of x"),
        (lambda: jac.vjp(quadratic_map, jnp.ones(3), jnp.ones(3)), ValueError, "v must have the shape of f(x)"),
        (lambda: jac.finite_difference_jacobian(quadratic_map, jnp.ones(3), step=-1.0), ValueError, "step must be"),
        (lambda: jac.chain_rule_jacobian(3, quadratic_map, jnp.ones(3)), TypeError, "g must be callable"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, err, needle):
    with pytest.raises(err, match=needle.replace("(", r"\(").replace(")", r"\)")):
        call()
