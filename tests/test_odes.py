"""Tests of the library ntkbook.odes: independent computations and bad inputs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from scipy.integrate import solve_ivp

from ntkbook import odes


def psd(key=None, n=5, rank=3):
    """A symmetric PSD n x n matrix of rank ``rank``, ``B B^T / rank`` with ``B`` standard normal."""
    B = jax.random.normal(jax.random.key(0) if key is None else key, (n, rank), dtype=jnp.float64)
    return B @ B.T / rank


def test_rk4_matches_scipy_solve_ivp_on_nonlinear_ode():
    # y' = -y^2 + sin t, an independent solver (scipy's DOP853) as oracle
    rhs = lambda y, t: -(y**2) + jnp.sin(t)  # noqa: E731
    ts = np.linspace(0.0, 3.0, 7)
    ours = odes.integrate(rhs, jnp.array([0.5]), jnp.array(ts), steps=200)
    ref = solve_ivp(
        lambda t, y: -(y**2) + np.sin(t), (0, 3), [0.5], t_eval=ts, rtol=1e-12, atol=1e-12, method="DOP853"
    ).y.T
    np.testing.assert_allclose(ours, ref, atol=1e-9)


def test_odeint_path_and_args():
    A = psd()
    g0 = jnp.arange(5.0)
    ts = jnp.linspace(0.0, 1.0, 3)
    ref = np.stack([scipy.linalg.expm(-np.asarray(A) * t) @ np.asarray(g0) for t in ts])
    np.testing.assert_allclose(odes.integrate(odes.linear_rhs, g0, ts, A, method="odeint"), ref, atol=1e-7)
    np.testing.assert_allclose(odes.integrate(odes.linear_rhs, g0, ts, A, steps=50), ref, atol=1e-8)


def test_integrate_output_shape_matrix_state():
    A = psd()
    G0 = jnp.ones((5, 2))
    out = odes.integrate(odes.linear_rhs, G0, jnp.linspace(0, 1, 4), A)
    assert out.shape == (4, 5, 2)


def test_linear_flow_against_scipy_expm_and_shapes():
    A = psd(key=jax.random.key(3), n=4, rank=4)
    G0 = jax.random.normal(jax.random.key(4), (4, 3))
    ts = jnp.array([0.0, 0.5, 2.0])
    out = odes.linear_flow(A, G0, ts)
    assert out.shape == (3, 4, 3)
    ref = np.stack([scipy.linalg.expm(-np.asarray(A) * t) @ np.asarray(G0) for t in ts])
    np.testing.assert_allclose(out, ref, atol=1e-12)
    assert odes.linear_flow(A, G0[:, 0], 0.7).shape == (4,)
    np.testing.assert_allclose(odes.linear_flow(A, G0, 0.0), G0, atol=1e-13)


def test_expm_flow_general_matrix():
    M = jnp.array([[0.0, 1.0], [-1.0, 0.0]])  # rotation generator, not symmetric
    out = odes.expm_flow(M, jnp.array([1.0, 0.0]), jnp.pi / 2)
    np.testing.assert_allclose(out, [0.0, 1.0], atol=1e-12)


def test_rk4_stability_polynomial_is_one_step():
    a, h = -0.7, 0.1
    y1 = odes.integrate(odes.scalar_rhs, jnp.array(1.0), jnp.array([0.0, h]), jnp.array(a), steps=1)[-1]
    assert abs(float(y1) - float(odes.rk4_stability_polynomial(a * h))) < 1e-15


def test_rk4_error_bound_is_a_bound():
    for a in (-3.0, -0.5, 0.5, 2.0):
        for n in (1, 5, 40):
            h = 0.1
            z = a * h
            R = 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24
            err = abs(R**n - np.exp(n * z))
            assert err <= odes.rk4_global_error_bound(a, h, n) * (1 + 1e-12)


def test_as_symmetric_matrix_accepts_rounding_level_asymmetry_only():
    A = jnp.array([[2.0, 1.0], [1.0 + 1e-12, 3.0]])
    np.testing.assert_array_equal(odes.as_symmetric_matrix(A), A)
    with pytest.raises(ValueError, match="symmetric"):
        odes.as_symmetric_matrix(A, tol=1e-14)
    # An indefinite symmetric matrix passes: definiteness is linear_flow's check.
    np.testing.assert_array_equal(odes.as_symmetric_matrix(-jnp.eye(2)), -jnp.eye(2))


@pytest.mark.parametrize(
    "call, exc, name",
    [
        (lambda: odes.linear_flow(jnp.ones((2, 3)), jnp.ones(2), 1.0), ValueError, "A"),
        (lambda: odes.linear_flow(jnp.array([[1.0, 2.0], [0.0, 1.0]]), jnp.ones(2), 1.0), ValueError, "symmetric"),
        (lambda: odes.linear_flow(-jnp.eye(2), jnp.ones(2), 1.0), ValueError, "positive semi-definite"),
        (lambda: odes.linear_flow(jnp.eye(2), jnp.ones(3), 1.0), ValueError, "g0"),
        (lambda: odes.linear_flow(jnp.eye(2), jnp.ones(2), jnp.ones((2, 2))), ValueError, "ts"),
        (lambda: odes.linear_flow("A", jnp.ones(2), 1.0), TypeError, "A"),
        (lambda: odes.integrate("f", 1.0, jnp.array([0.0, 1.0])), TypeError, "rhs"),
        (lambda: odes.integrate(odes.scalar_rhs, 1.0, jnp.array([1.0, 0.0]), 1.0), ValueError, "ts"),
        (lambda: odes.integrate(odes.scalar_rhs, 1.0, jnp.array([0.0]), 1.0), ValueError, "ts"),
        (lambda: odes.integrate(odes.scalar_rhs, 1.0, jnp.array([0.0, 1.0]), 1.0, steps=0), ValueError, "steps"),
        (
            lambda: odes.integrate(odes.scalar_rhs, 1.0, jnp.array([0.0, 1.0]), 1.0, method="euler"),
            ValueError,
            "method",
        ),
        (lambda: odes.integrate(lambda y, t: jnp.ones(3), jnp.ones(2), jnp.array([0.0, 1.0])), ValueError, "rhs"),
        (lambda: odes.expm_flow(jnp.ones((2, 3)), jnp.ones(2), 1.0), ValueError, "A"),
        (lambda: odes.rk4_global_error_bound(1.0, -0.1, 3), ValueError, "h"),
        (lambda: odes.as_symmetric_matrix(jnp.ones((2, 3))), ValueError, "A"),
        (lambda: odes.as_symmetric_matrix(jnp.ones((0, 0))), ValueError, "A"),
        (lambda: odes.as_symmetric_matrix(jnp.array([[1.0, 2.0], [0.0, 1.0]])), ValueError, "symmetric"),
        (lambda: odes.as_symmetric_matrix(jnp.full((2, 2), jnp.nan)), ValueError, "A"),
        (lambda: odes.as_symmetric_matrix(jnp.eye(2), tol=0.0), ValueError, "tol"),
    ],
)
def test_bad_inputs(call, exc, name):
    with pytest.raises(exc, match=name):
        call()
