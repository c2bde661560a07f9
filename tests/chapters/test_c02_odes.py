"""Tests of the chapter module ntkbook.chapters.c02_odes: its examples, derivation and studies (the
claims themselves run in the notebook, under nbval)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import sympy as sp

from ntkbook import odes
from ntkbook.chapters import c02_odes as ch
from ntkbook.claims import rate_checks, registry
from ntkbook.claims.checks import EPS


def test_chapter_registers_its_claims():
    ids = {c.id for c in registry().values() if c.chapter == ch.CHAPTER}
    assert len(ids) == 9
    # The source's definition of an ODE (line 54) has slips of wording only ("random variable", no F):
    # nothing to compute, so no claim (counting the columns of an array tested nothing the source says).
    assert f"{ch.CHAPTER}/ode_definition" not in ids


@pytest.mark.parametrize("n, rank", [(5, 3), (4, 4), (3, 1)])
def test_psd_example_is_symmetric_psd_of_the_given_rank(n, rank):
    A = np.asarray(ch.psd_example(key=jax.random.key(2), n=n, rank=rank))
    assert A.shape == (n, n)
    np.testing.assert_allclose(A, A.T, atol=1e-15)
    lam = np.linalg.eigvalsh(A)
    assert np.all(lam > -1e-12)
    assert int(np.sum(lam > 1e-10)) == rank


def test_psd_example_default_is_the_chapters_matrix():
    np.testing.assert_array_equal(ch.psd_example(), ch.psd_example(key=jax.random.key(0), n=5, rank=3))
    A, g0, ts = ch.linear_example()
    np.testing.assert_array_equal(A, ch.psd_example())
    assert g0.shape == (5,) and ts.shape == (7,)


def test_commuting_example_integral_is_the_integral():
    A0 = ch.psd_example(n=3, rank=2)
    A = ch.commuting_example(A0)
    t = 1.3
    num = scipy.integrate.quad_vec(lambda s: np.asarray(A(s)), 0.0, t, epsabs=1e-13)[0]
    np.testing.assert_allclose(ch.commuting_example_integral(A0, t), num, atol=1e-11)
    # Its values commute, and commuting_rhs is -A(t) g.
    np.testing.assert_allclose(A(0.4) @ A(2.0), A(2.0) @ A(0.4), atol=1e-12)
    g = jnp.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(ch.commuting_rhs(g, 0.7, A0), -A(0.7) @ g, atol=1e-14)


def test_noncommuting_example_does_not_commute():
    A0, A1 = ch.noncommuting_example()
    assert float(jnp.max(jnp.abs(A0 @ A1 - A1 @ A0))) > 0.1
    for M in (A0, A1):
        assert float(jnp.min(jnp.linalg.eigvalsh(M))) >= 0.0
    g = jnp.array([1.0, 2.0])
    np.testing.assert_allclose(ch.affine_rhs(g, 0.5, A0, A1), -(A0 + 0.5 * A1) @ g, atol=1e-15)


def test_separation_of_variables_returns_the_ode_and_its_solution():
    s = ch.separation_of_variables()
    x, a, C = s["x"], s["a"], s["C"]
    assert sp.simplify(s["dsolve"] - C * sp.exp(a * x)) == 0
    assert s["antiderivative"] == sp.log(s["Y"])
    assert s["ode"].lhs == s["y"](x).diff(x)


def test_rk4_errors_fall_with_the_step():
    hs, errs = ch.rk4_errors(steps=(10, 20, 40))
    np.testing.assert_allclose(hs, [0.2, 0.1, 0.05])
    assert np.all(np.diff(errs) < 0)
    # Each error is within the rigorous RK4 bound.
    for h, e in zip(hs, errs):
        assert e <= float(odes.rk4_global_error_bound(-1.5, h, int(round(2 / h)), 2.0))


def _rk4_rate(expected):
    hs, errs = ch.rk4_errors(steps=ch.RK4_RATE_STEPS)
    noise = 4 * EPS * max(ch.RK4_RATE_STEPS) * 2.0
    return rate_checks("rk4", hs, errs, expected, next_order=1.0, y_noise=noise)[0]


def test_rk4_rate_holds_for_h4_and_fails_for_other_exponents():
    # The same data through the same criterion: the derived exponent 4 passes, a wrong one does not.
    assert _rk4_rate(4.0).passed
    for wrong in (3.0, 3.8, 4.2, 5.0):
        assert not _rk4_rate(wrong).passed, wrong


def test_rate_claims_are_the_books_criterion_with_the_alternative_rejected():
    rk4 = ch.check_rk4_order()
    gap = ch.check_noncommuting_fails()
    assert [c.kind for c in rk4] == ["rate", "rate"] and all(c.passed for c in rk4)
    assert len(gap) == 4 and [c.kind for c in gap[:2]] == ["rate", "rate"] and all(c.passed for c in gap)


def test_richardson_tolerance_covers_the_error():
    ts = jnp.array([0.0, 1.0])
    fine, tol = ch.richardson_tolerance(odes.scalar_rhs, jnp.array(1.0), ts, jnp.array(-2.0), steps=4)
    assert abs(float(fine[-1]) - math.exp(-2.0)) < tol


def test_noncommuting_gap_grows_like_t_cubed():
    gaps, preds, err = ch.noncommuting_gap([0.02, 0.04])
    assert gaps.shape == preds.shape == (2,)
    assert err < 1e-3 * gaps[0]
    np.testing.assert_allclose(gaps[1] / gaps[0], 8.0, rtol=0.1)


NAN = float("nan")


@pytest.mark.parametrize(
    "call, exc, name",
    [
        (lambda: ch.psd_example(n=0), ValueError, "n"),
        (lambda: ch.psd_example(n=3, rank=5), ValueError, "rank"),
        (lambda: ch.psd_example(key=3), TypeError, "key"),
        (lambda: ch.commuting_example(jnp.full((2, 2), NAN)), ValueError, "A"),
        (lambda: ch.commuting_example_integral(ch.psd_example(), NAN), ValueError, "t"),
    ],
    ids=[
        "psd_example/n",
        "psd_example/rank-above-n",
        "psd_example/key",
        "commuting_example/A0-nan",
        "commuting_example_integral/t-nan",
    ],
)
def test_bad_inputs(call, exc, name):
    with pytest.raises(exc, match=rf"(?<![\w]){name}(?![\w])"):
        call()
