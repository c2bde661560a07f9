"""Tests of the chapter module ntkbook.chapters.c04_taylor: its symbolic Taylor series (sympy), its
example functions and its network example, against independent computations, and their bad input.
The claims themselves are run by nbval on book/04-taylor.ipynb."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from ntkbook import taylor
from ntkbook.chapters import c04_taylor as ch

# --------------------------------------------------------------------------- sympy helpers


def test_taylor_term_and_polynomial_match_known_series():
    x = sp.Symbol("x")
    # exp about 0: x^k / k!
    for k in range(5):
        assert sp.simplify(ch.taylor_term(sp.exp(x), x, 0, k) - x**k / sp.factorial(k)) == 0
    # a polynomial is its own Taylor polynomial of high enough order, about any point
    p = 3 * x**3 - x + 2
    assert sp.expand(ch.taylor_polynomial(p, x, sp.Rational(5, 2), 3) - p) == 0


def test_integral_remainder_closes_the_gap():
    x = sp.Symbol("x", real=True)
    f = sp.sin(x)
    for n in (0, 2):
        lhs = f - ch.taylor_polynomial(f, x, 0, n)
        assert sp.simplify(lhs - ch.integral_remainder(f, x, 0, n)) == 0


def test_sympy_helpers_reject_bad_input():
    x = sp.Symbol("x")
    with pytest.raises(TypeError, match="x must be a sympy Symbol"):
        ch.taylor_term(sp.exp(x), "x", 0, 1)
    with pytest.raises(ValueError, match="k must be >= 0"):
        ch.taylor_term(sp.exp(x), x, 0, -1)
    with pytest.raises(TypeError, match="order must be an integer"):
        ch.taylor_polynomial(sp.exp(x), x, 0, 1.5)
    with pytest.raises(TypeError, match="expr must be a scalar sympy expression"):
        ch.taylor_polynomial(sp.Matrix([x]), x, 0, 1)


# --------------------------------------------------------------------------- the chapter's examples


def test_example_function_jax_matches_sympy():
    ex = ch.example_function()
    a = jnp.array(ch.EXAMPLE_POINT)
    ref = float(ex.expr.subs(dict(zip(ex.symbols, ch.EXAMPLE_POINT))))
    np.testing.assert_allclose(ex.fn(a), ref, rtol=1e-14)
    # the gradient of the lambdified function is the sympy gradient
    grad = [float(sp.diff(ex.expr, s).subs(dict(zip(ex.symbols, ch.EXAMPLE_POINT)))) for s in ex.symbols]
    np.testing.assert_allclose(jax.grad(ex.fn)(a), grad, rtol=1e-13)


def test_unit_direction_is_a_unit_vector():
    u = ch.unit_direction(jax.random.key(0), 5)
    assert u.shape == (5,)
    np.testing.assert_allclose(jnp.linalg.norm(u), 1.0, rtol=1e-15)


def test_network_example_and_errors():
    f, theta0, x = ch.network_example()
    assert theta0.shape == (161,) and x.shape == (3,)
    assert jnp.shape(f(theta0)) == ()
    errs = ch.network_errors(4)
    assert errs.shape == (2, len(ch.NETWORK_RADII), 4)
    # Independent: the remainders along the first direction at the largest radius, recomputed from the keys.
    keys = jax.random.split(jax.random.key(23), (len(ch.NETWORK_RADII), 4))
    u = ch.unit_direction(keys[-1, 0], 161)
    r = ch.NETWORK_RADII[-1]
    lin = f(theta0) + r * jax.grad(f)(theta0) @ u
    np.testing.assert_allclose(errs[0, -1, 0], abs(float(f(theta0 + r * u) - lin)), rtol=1e-8)
    # The cached result is returned as a copy.
    errs[:] = 0
    assert np.all(ch.network_errors(4) > 0)
    # Remainder rates along one direction: order 1 ~ r^2, order 2 ~ r^3.
    fits = taylor.remainder_slopes(f, theta0, u, ch.RADII)
    assert abs(fits[0].slope - 2) < 0.1 and abs(fits[1].slope - 3) < 0.1


def test_network_errors_rejects_bad_input():
    with pytest.raises(ValueError, match="num_directions"):
        ch.network_errors(0)
