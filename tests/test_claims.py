"""Tests of the claims framework: each kind of check can pass and can fail."""

import math

import numpy as np
import pytest
import sympy as sp

from ntkbook import claims as C
from ntkbook.claims import _registry


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


def test_check_definitional_is_an_exact_comparison_of_its_own_kind():
    from ntkbook.claims.checks import KINDS

    ok = C.check_definitional("inner dimensions", 3, 3)
    bad = C.check_definitional("inner dimensions", 1, 3, expect=False)
    assert ok.kind == bad.kind == "definitional" and "definitional" in KINDS
    assert ok.passed and ok.ok and not bad.passed and bad.ok and bad.error == 2 and bad.tolerance == 0
    assert " | definitional | error 2.0e+00, tol 0" in repr(bad)
    assert (
        C.check_definitional("shape", (2, 3), (2, 3)).passed
        and not C.check_definitional("shape", (2, 3), (3, 2)).passed
    )


def test_check_bound_passes_fails_and_refuses():
    ok = C.check_bound("violation", [0.0, 3e-14], C.rounding())
    bad = C.check_bound("violation", [0.0, 0.2], 0.1)
    nan = C.check_bound("violation", [np.nan], 1.0)
    assert ok.passed and ok.error == 3e-14 and ok.rounding and ok.error_shown == "<= tol (rounding level)"
    assert not bad.passed and bad.error == 0.2 and bad.tolerance == 0.1 and not bad.rounding
    assert math.isnan(nan.error) and not nan.passed
    with pytest.raises(ValueError, match="bound"):
        C.check_bound("v", [1.0], -1.0)
    with pytest.raises(ValueError, match="value"):
        C.check_bound("v", [], 1.0)


def test_rounding_is_one_unit_per_stage_and_scale():
    assert C.rounding() == 1e-13
    assert C.rounding(stages=10) == pytest.approx(1e-12, rel=1e-15)
    assert C.rounding(4.0, stages=100) == pytest.approx(4e-11, rel=1e-15)
    # every allowance the book uses is a rounding level (shown without digits), far below any formula error
    assert C.rounding(stages=1000) <= C.checks.ROUNDING_LEVEL
    for bad in (dict(scale=0.0), dict(scale=float("inf")), dict(stages=0), dict(stages=1.5), dict(stages=True)):
        with pytest.raises(ValueError, match="scale|stages"):
            C.rounding(**bad)


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
    assert "\n" not in repr(r) and "error <= tol (rounding level), tol 1.0e-12" in repr(r)
    assert "PASS" in r._repr_html_() and "rounding level" in r._repr_html_()


def test_rounding_level_errors_show_no_digits_and_other_errors_do():
    # Two machines' roundings of the same comparison print the same text.
    a, b = (C.check_close("x", [1.0, 2.0], [1.0, 2.0 + d], atol=1e-12) for d in (4.4e-16, 8.9e-16))
    assert repr(a) == repr(b)
    # A truncation error far above rounding keeps two digits; a failing rounding check shows its error.
    assert "error 2.0e-02, tol 1.0e-01" in repr(C.check_close("t", [1.0], [1.02], atol=0.1))
    assert "error 2.0e-01, tol 1.0e-12" in repr(C.check_close("s", [1.0], [1.2], atol=1e-12, expect=False))
    # Exact comparisons show exact results.
    assert "error 0, tol 0" in repr(C.check_close("n", [3.0], [3.0], atol=0))


def test_shown_prints_only_digits_above_the_noise():
    assert C.shown(1.234e-3) == "1.2e-03"  # exact: two significant digits
    assert C.shown(1.234e-3, 1e-7) == "1.2e-03"  # unit 1e-5 <= the second digit's 1e-4
    assert C.shown(1.234e-3, 1e-6) == "1.2e-03"  # unit 1e-4: still the second digit
    assert C.shown(1.234e-3, 2e-6) == "1e-03"  # unit 1e-3: one digit
    assert C.shown(5.4e-5, 1e-6) == "< 1e-04"  # below the unit: a bound
    assert C.shown(0.0, 2e-15) == "< 1e-12" and C.shown(-3e-16, 1e-16) == "> -1e-14"
    assert C.shown(0.99995, 1e-4, 3, "f") == "1.00" and C.shown(-0.4931, 1e-9, 3, "f") == "-0.493"
    assert C.shown(float("nan"), 1.0) == "nan" and C.shown(None) == "-"
    with pytest.raises(ValueError, match="noise"):
        C.shown(1.0, -1.0)
    with pytest.raises(ValueError, match="style"):
        C.shown(1.0, 0.0, style="x")


@pytest.mark.parametrize("noise", [1e-16, 3e-14, 1e-9, 2e-4])
def test_shown_is_stable_under_perturbations_of_its_noise(noise):
    """Values a noise apart print the same, except where a rounding boundary falls between them; the
    finest digit printed is at least MARGIN times the noise, so such boundaries are rare."""
    rng = np.random.default_rng(0)
    x = 10 ** rng.uniform(np.log10(noise), np.log10(noise) + 8, 2000)
    same = np.mean([C.shown(v, noise) == C.shown(v + noise * rng.uniform(-1, 1), noise) for v in x])
    assert same >= 0.97, same
    # The alternative -- three digits regardless of noise -- is not stable.
    naive = np.mean([f"{v:.2e}" == f"{v + noise * rng.uniform(-1, 1):.2e}" for v in x])
    assert naive < same, (naive, same)


def test_slope_noise_scales_with_the_rounding_of_the_smallest_value():
    x = np.array([1e-3, 1e-2, 1e-1])
    y = x**2
    assert C.slope_noise(x, y, 1e-14) == pytest.approx(2 * (1e-14 / 1e-6) / np.log(100))
    r = C.check_slope("s", x, y * (1 + 1e-9 * np.array([1, -1, 1])), 2.0, atol=0.1, y_noise=1e-12)
    assert "slope 2.00" in repr(r) and r.noise == pytest.approx(C.slope_noise(x, y, 1e-12))


def test_registered_claim_raises_when_not_as_expected():
    @C.claim("99-test", "always wrong")
    def check_always_wrong():
        return C.check_close("1 vs 2", [1.0], [2.0], atol=0.1)

    try:
        with pytest.raises(C.ClaimFailed, match="did not come out as expected"):
            check_always_wrong()
    finally:
        _registry._REGISTRY.pop("99-test/always_wrong")


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
        _registry._REGISTRY.pop("99-test/src")


def test_registry_ids_are_unique_and_claims_complete():
    reg = C.registry()
    assert reg, "no claims registered"
    for cid, c in reg.items():
        assert cid == c.id and cid.startswith(c.chapter + "/")
        if c.source_holds is False:
            assert c.where and c.source_says and c.truth


def test_a_claim_refuses_float32_instead_of_switching_jax_to_float64():
    """Calling a claim leaves the caller's JAX configuration alone: in float32 it raises and says why."""
    import subprocess
    import sys

    code = (
        "import jax\n"
        "from ntkbook.chapters import c01_jacobians as ch\n"
        "try:\n"
        "    ch.check_jacobian_shape()\n"
        "except RuntimeError as exc:\n"
        "    assert 'float64' in str(exc), exc\n"
        "    assert not jax.config.jax_enable_x64\n"
        "    print('refused')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "refused", proc.stderr[-2000:]


def test_a_failing_symbolic_check_shows_nonzero_and_its_residual_typeset():
    x = sp.Symbol("x")
    r = C.check_symbolic("$x^2$ vs $x \\cdot x + 1$", x**2, x * x + 1, expect=False)
    assert r.ok and r.error_shown == C.checks.NONZERO and "nan" not in repr(r)
    assert "residual $-1$" in r.detail and "\\(\\neq 0\\)" in r._repr_html_()


def test_no_stored_check_shows_nan():
    """A stored error or tolerance is a number, a bound or "nonzero" (a symbolic difference), never nan."""
    from ntkbook.claims.ledger import stored_results

    shown = [(cid, f["what"], f["error"], f["tolerance"]) for cid, fs in stored_results().items() for f in fs]
    assert shown
    assert not [s for s in shown if "nan" in s[2] or "nan" in s[3]]
