"""Tests of the chapter module ntkbook.chapters.c01_jacobians: its examples and helpers (the claims
themselves run in the notebook, under nbval)."""

import jax
import jax.numpy as jnp
import numpy as np

from ntkbook import jacobians
from ntkbook.chapters import c01_jacobians as ch
from ntkbook.claims import rate_checks, registry


def test_chapter_registers_its_claims():
    claims = [c for c in registry().values() if c.chapter == ch.CHAPTER]
    assert len(claims) == 8
    # The rate claim is the book's one criterion: the exponent, and the one-sided difference's h^1 rejected.
    assert len(ch.check_finite_difference_rate()) == 2


def test_example_function_is_the_stated_map():
    # f(x) = (x1 x2^2 + sin x3, exp(x1) x3 - x2), evaluated independently in numpy.
    ex = ch.example_function()
    x = np.array([0.3, -1.2, 0.7])
    want = [x[0] * x[1] ** 2 + np.sin(x[2]), np.exp(x[0]) * x[2] - x[1]]
    np.testing.assert_allclose(ex.fn(jnp.asarray(x)), want, rtol=0, atol=1e-14)
    assert ex.exprs.shape == (2, 1) and len(ex.symbols) == 3


def test_outer_function_is_the_stated_map():
    # g(y) = (y1 y2, tanh y1 + y2^3)
    out = ch.outer_function()
    y = np.array([0.4, -0.9])
    np.testing.assert_allclose(out.fn(jnp.asarray(y)), [y[0] * y[1], np.tanh(y[0]) + y[1] ** 3], rtol=0, atol=1e-14)


def test_sympy_jacobian_at_matches_hand_derivative():
    ex = ch.example_function()
    pts = jnp.array([[0.3, -1.2, 0.7], [-1.0, 0.5, 1.4]])
    got = ch.sympy_jacobian_at(ex, pts)
    assert got.shape == (2, 2, 3)
    for p, J in zip(np.asarray(pts), np.asarray(got)):
        x1, x2, x3 = p
        want = [[x2**2, 2 * x1 * x2, np.cos(x3)], [np.exp(x1) * x3, -1.0, np.exp(x1)]]
        np.testing.assert_allclose(J, want, rtol=0, atol=1e-14)
        np.testing.assert_allclose(J, jacobians.jacobian(ex.fn, jnp.asarray(p)), rtol=0, atol=1e-13)


def test_example_works_under_jit_and_vmap():
    ex = ch.example_function()
    xs = jax.random.uniform(jax.random.key(0), (4, 3), dtype=jnp.float64)
    Js = jax.jit(jax.vmap(lambda x: jacobians.jacobian(ex.fn, x)))(xs)
    np.testing.assert_allclose(Js, ch.sympy_jacobian_at(ex, xs), rtol=0, atol=1e-13)


def _fd_rate(expected):
    steps = ch.FD_RATE_STEPS
    noise = jacobians.finite_difference_error_bound(float(steps.min()), third_derivative=0.0, value=5.0)
    return rate_checks("fd", steps, ch.finite_difference_errors(steps), expected, next_order=2.0, y_noise=noise)[0]


def test_finite_difference_rate_holds_for_h2_and_fails_for_other_exponents():
    # The same data through the same criterion: the derived exponent 2 passes, a wrong one does not.
    assert _fd_rate(2.0).passed
    for wrong in (1.0, 1.9, 2.1, 3.0):
        assert not _fd_rate(wrong).passed, wrong


def test_finite_difference_errors_fall_like_h_squared():
    errs = ch.finite_difference_errors(np.array([1e-2, 5e-3]))
    np.testing.assert_allclose(errs[0] / errs[1], 4.0, rtol=1e-3)
