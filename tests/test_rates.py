"""ntkbook.rates (the fitted exponent and the book's one rate criterion, :func:`~ntkbook.rates.rate_test`)
and its checks (:func:`ntkbook.claims.rate_checks`)."""

import numpy as np
import pytest

from ntkbook.claims import rate_checks
from ntkbook.rates import rate_test, standard_error


def test_rate_checks_pass_the_true_exponent_and_reject_the_alternative():
    rng = np.random.default_rng(0)
    x = np.logspace(1, 3, 5)
    samples = x[:, None] ** -1.0 * (1 + 0.3 / np.sqrt(x[:, None])) * rng.lognormal(0, 0.1, (5, 64))
    rate, alt = rate_checks("y vs x", x, samples, -1.0, next_order=-0.5, alternative=-0.5)
    assert rate.passed and rate.kind == "rate" and alt.passed
    wrong = rate_checks("y vs x", x, samples, -0.5, next_order=-0.5)[0]
    assert not wrong.passed
    # The same data with the claimed and the alternative exponent swapped: the alternative is not rejected.
    assert not rate_checks("y vs x", x, samples, -0.5, next_order=-0.5, alternative=-1.0)[1].passed


def test_rate_test_standard_error_is_the_delta_method():
    rng = np.random.default_rng(1)
    x = np.array([1.0, 2.0, 4.0, 8.0])
    samples = rng.lognormal(0, 0.2, (4, 1000)) * x[:, None] ** 2
    t = rate_test(x, samples, 2.0)
    # Var log mean_w = se_w^2 / mean_w^2; the slope is sum c_w log mean_w with c_w = (lx_w - mean lx) / S_xx.
    lx = np.log(x)
    c = (lx - lx.mean()) / np.sum((lx - lx.mean()) ** 2)
    var = samples.var(1, ddof=1) / 1000 / samples.mean(1) ** 2
    assert t.stderr == pytest.approx(np.sqrt(np.sum(c**2 * var)), rel=1e-10)
    assert t.passed and t.allowance == 0.0 and np.isnan(t.z_alternative)
    with pytest.raises(ValueError, match="at least 2 draws"):
        rate_test(x, samples[:, :1], 2.0)
    with pytest.raises(ValueError, match="positive"):
        rate_test(x, -samples, 2.0)


def test_standard_error_against_the_textbook_formula():
    import statistics

    rng = np.random.default_rng(2)
    a = rng.normal(1.0, 2.0, (3, 7))
    # statistics.stdev is the sample standard deviation (n - 1 in the denominator), computed independently
    want_rows = [statistics.stdev(row) / np.sqrt(7) for row in a.tolist()]
    want_cols = [statistics.stdev(col) / np.sqrt(3) for col in a.T.tolist()]
    np.testing.assert_allclose(standard_error(a), want_rows, rtol=1e-12, atol=0)
    np.testing.assert_allclose(standard_error(a, axis=0), want_cols, rtol=1e-12, atol=0)
    one = standard_error(a[0])
    assert one.shape == () and float(one) == pytest.approx(want_rows[0], rel=1e-12)
    with pytest.raises(ValueError, match="at least 2 draws"):
        standard_error(a[:, :1])
    with pytest.raises(TypeError, match="real numbers"):
        standard_error(["a", "b"])
