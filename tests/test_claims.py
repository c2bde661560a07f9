"""Tests of the claims framework: each kind of check can pass and can fail."""

import math

import numpy as np
import pytest
import sympy as sp

from ntkbook import claims as C


def test_check_close_passes_and_fails():
    ok = C.check_close("a", [1.0, 2.0], [1.0, 2.0 + 1e-12], atol=1e-11)
    bad = C.check_close("a", [1.0, 2.0], [1.0, 2.1], atol=1e-11)
    assert ok.passed and ok.ok and not bad.passed and not bad.ok
    assert math.isclose(bad.error, 0.1, rel_tol=1e-9)


def test_check_close_relative_and_nonfinite():
    r = C.check_close("r", [200.0], [100.0], atol=1.5, relative=True)
    assert r.error == pytest.approx(1.0) and r.passed
    nan = C.check_close("n", [np.nan], [1.0], atol=1e9)
    assert math.isnan(nan.error) and not nan.passed


def test_check_close_refuses_shape_mismatch_and_negative_tolerance():
    with pytest.raises(ValueError, match="same shape"):
        C.check_close("s", [1.0, 2.0], [1.0], atol=0)
    with pytest.raises(ValueError, match="atol"):
        C.check_close("s", [1.0], [1.0], atol=-1)


def test_expected_failure_is_ok_only_when_it_fails():
    wrong_as_expected = C.check_close("src", [1.0], [2.0], atol=1e-3, expect=False)
    unexpectedly_right = C.check_close("src", [1.0], [1.0], atol=1e-3, expect=False)
    assert wrong_as_expected.ok and wrong_as_expected.status.startswith("SOURCE WRONG")
    assert not unexpectedly_right.ok and unexpectedly_right.status == "UNEXPECTED PASS"


def test_check_symbolic():
    x = sp.symbols("x", real=True)
    assert C.check_symbolic("trig", sp.sin(x) ** 2 + sp.cos(x) ** 2, 1).passed
    bad = C.check_symbolic("bad", sp.sin(x), sp.cos(x))
    assert not bad.passed and "residual" in bad.detail
    assert C.check_symbolic("matrix", sp.Matrix([[x, 1]]) * 2, sp.Matrix([[2 * x, 2]])).passed


def test_check_monte_carlo_uses_standard_error():
    assert C.check_monte_carlo("mc", [1.04], [1.0], [0.01], sigmas=5).passed
    res = C.check_monte_carlo("mc", [1.06], [1.0], [0.01], sigmas=5)
    assert not res.passed and res.tolerance == pytest.approx(0.05)
    with pytest.raises(ValueError, match="stderr"):
        C.check_monte_carlo("mc", [1.0], [1.0], [-1.0])


def test_fit_slope_and_check_slope():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    y = 3 * x**-0.5
    slope, se, intercept = C.fit_loglog_slope(x, y)
    assert slope == pytest.approx(-0.5) and se == pytest.approx(0, abs=1e-12) and intercept == pytest.approx(np.log(3))
    assert C.check_slope("s", x, y, -0.5, atol=0.05).passed
    assert not C.check_slope("s", x, y, -1.0, atol=0.05).passed
    with pytest.raises(ValueError, match="positive"):
        C.fit_loglog_slope([1.0, 2.0], [0.0, 1.0])


def test_repr_is_one_stable_line_and_html_exists():
    r = C.check_close("thing", [1.0], [1.0 + 3e-16], atol=1e-12)
    assert "\n" not in repr(r) and "<1e-13" in repr(r)
    assert "PASS" in r._repr_html_()


def test_registered_claim_raises_when_not_as_expected():
    @C.claim("99-test", "always wrong")
    def check_always_wrong():
        return C.check_close("1 vs 2", [1.0], [2.0], atol=0.1)

    try:
        with pytest.raises(C.ClaimFailed, match="did not come out as expected"):
            check_always_wrong()
    finally:
        C._REGISTRY.pop("99-test/always_wrong")


def test_source_error_claim_needs_an_erratum_and_an_expected_failure():
    with pytest.raises(ValueError, match="erratum"):
        C.claim("99-test", "x", source_holds=False)

    @C.claim("99-test", "source wrong", source_holds=False, where="s", source_says="a", truth="b")
    def check_src():
        return C.check_close("as written", [1.0], [1.0], atol=0.1)  # forgot expect=False

    try:
        with pytest.raises(TypeError, match="expect=False"):
            check_src()
    finally:
        C._REGISTRY.pop("99-test/src")


def test_registry_ids_are_unique_and_claims_complete():
    reg = C.registry()
    assert reg, "no claims registered"
    for cid, c in reg.items():
        assert cid == c.id and cid.startswith(c.chapter + "/")
        if c.source_holds is False:
            assert c.where and c.source_says and c.truth
