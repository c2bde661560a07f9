"""Chapter 2 -- differential equations: the scalar equation dy/dx = a y solved by separation of
variables, numeric integration (a jitted RK4 and ``jax.experimental.ode.odeint``), and the linear
system dg/dt = -A g, whose solution g(t) = exp(-A t) g(0) is the closed form of gradient flow on
a squared loss used in the linearized-model chapter.

Conventions: a right-hand side is called as ``rhs(y, t)`` (the order of ``odeint``); a trajectory
evaluated at times ``ts`` of shape ``(T,)`` has shape ``(T,) + y0.shape``.

Public functions validate their inputs; the ``check_*`` functions are the chapter's registered
claims. References: :cite:`weng2022ntk` (the text checked), :cite:`hairer1993solving` (RK4, error
orders), :cite:`moler2003nineteen` (the matrix exponential).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .claims import check_close, check_slope, check_symbolic, claim
from .validate import as_array, as_callable, is_concrete, positive_float, positive_int, prng_key

CHAPTER = "02-odes"

__all__ = [
    "affine_rhs",
    "commuting_example",
    "commuting_rhs",
    "expm_flow",
    "integrate",
    "linear_flow",
    "linear_rhs",
    "noncommuting_example",
    "psd_example",
    "rk4_global_error_bound",
    "rk4_stability_polynomial",
    "scalar_rhs",
    "separation_of_variables",
]

Rhs = Callable[[jax.Array, jax.Array], jax.Array]


# --------------------------------------------------------------------------- numeric integration


@functools.partial(jax.jit, static_argnames=("rhs",))
def _rk4(rhs: Rhs, y0: jax.Array, ts: jax.Array, steps: jax.Array, args: tuple) -> jax.Array:
    # `steps` is traced (a while loop), so changing the step count does not recompile.
    def one_interval(y, t_pair):
        t0, t1 = t_pair
        h = (t1 - t0) / steps

        def step(k, y):
            t = t0 + k * h
            k1 = rhs(y, t, *args)
            k2 = rhs(y + 0.5 * h * k1, t + 0.5 * h, *args)
            k3 = rhs(y + 0.5 * h * k2, t + 0.5 * h, *args)
            k4 = rhs(y + h * k3, t + h, *args)
            return y + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

        y = jax.lax.fori_loop(0, steps, step, y)
        return y, y

    _, ys = jax.lax.scan(one_interval, y0, (ts[:-1], ts[1:]))
    return jnp.concatenate([y0[None], ys], axis=0)


def integrate(rhs: Rhs, y0, ts, *args, method: str = "rk4", steps: int = 16, rtol: float = 1e-10,
              atol: float = 1e-10) -> jax.Array:
    """Solve the initial value problem ``dy/dt = rhs(y, t, *args)``, ``y(ts[0]) = y0``.

    Args:
      rhs: a JAX-traceable function ``(y, t, *args) -> dy/dt`` with ``dy/dt`` of the shape of ``y``.
        The RK4 path is jitted with ``rhs`` static: pass data (matrices, ...) through ``args``
        rather than closing over it, so that one compiled program serves every call.
      y0: the initial value, any shape ``S``.
      args: extra arrays passed to ``rhs`` (traced, not static).
      ts: increasing times of shape ``(T,)``, ``T >= 2``; ``ts[0]`` is the initial time.
      method: ``"rk4"`` -- the classical fourth-order Runge--Kutta method with ``steps`` equal steps
        between consecutive times (jitted, ``lax.scan``); its global error is ``O(h^4)``.
        ``"odeint"`` -- ``jax.experimental.ode.odeint`` (adaptive Dormand--Prince) with tolerances
        ``rtol``, ``atol`` on the *local* error.

    Returns:
      ``ys`` of shape ``(T,) + S`` with ``ys[i] ~ y(ts[i])`` (``ys[0] = y0``).

    References: Hairer, Norsett & Wanner (1993), *Solving ODEs I*, II.1 (RK4).
    """
    rhs = as_callable(rhs, "rhs")
    y0 = as_array(y0, "y0")
    ts = as_array(ts, "ts", ndim=1).astype(y0.dtype)
    if ts.shape[0] < 2:
        raise ValueError(f"ts must hold at least 2 times (the initial time and one more), got shape {ts.shape}")
    if is_concrete(ts) and not bool(jnp.all(jnp.diff(ts) > 0)):
        raise ValueError("ts must be strictly increasing")
    for i, arg in enumerate(args):
        if is_concrete(arg) and isinstance(arg, (int, float, np.number, np.ndarray, jax.Array)):
            as_array(arg, f"args[{i}]")  # finite: a nan parameter would give nan trajectories silently
    out = jax.eval_shape(rhs, y0, ts[0], *args)
    if getattr(out, "shape", None) != y0.shape:
        raise ValueError(f"rhs(y, t) must return the shape of y0 {y0.shape}, got {getattr(out, 'shape', out)}")
    if method == "rk4":
        steps = positive_int(steps, "steps")
        return _rk4(rhs, y0, ts, jnp.asarray(steps), tuple(args))
    if method == "odeint":
        from jax.experimental.ode import odeint

        rtol = positive_float(rtol, "rtol")
        atol = positive_float(atol, "atol")
        return odeint(rhs, y0, ts, *args, rtol=rtol, atol=atol)
    raise ValueError(f"method must be 'rk4' or 'odeint', got {method!r}")


def rk4_stability_polynomial(z):
    """``R(z) = 1 + z + z^2/2 + z^3/6 + z^4/24``: one RK4 step on ``y' = a y`` multiplies ``y`` by
    ``R(a h)``, so ``n`` steps give exactly ``R(a h)^n y0``. Elementwise on arrays."""
    z = as_array(z, "z")
    return 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24


def rk4_global_error_bound(a, h: float, n: int, y0: float = 1.0) -> np.ndarray:
    """A rigorous bound on ``|R(a h)^n y0 - e^{a h n} y0|``, the RK4 error on ``y' = a y``.

    With ``z = a h``: ``|R(z) - e^z| <= |z|^5 e^{|z|} / 120`` (the tail of the exponential series
    from ``k = 5``), and ``R^n - E^n = (R - E) sum_j R^j E^{n-1-j}`` gives
    ``|R^n - E^n| <= n |R - E| max(|R|, |E|)^{n-1}``. Elementwise in ``a`` (e.g. the eigenvalues
    of a symmetric matrix, for the error of RK4 on ``g' = -A g`` along each eigen-direction).
    """
    a = np.asarray(as_array(a, "a"))
    h = positive_float(h, "h")
    n = positive_int(n, "n")
    z = a * h
    r, e = np.abs(1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24), np.exp(z)
    local = np.abs(z) ** 5 * np.exp(np.abs(z)) / 120.0
    return n * local * np.maximum(r, e) ** (n - 1) * abs(float(y0))


# --------------------------------------------------------------------------- linear systems


def _check_symmetric_psd(A, tol: float) -> jax.Array:
    A = as_array(A, "A", ndim=2)
    if A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(f"A must be a non-empty square matrix, got shape {A.shape}")
    tol = positive_float(tol, "tol")
    if is_concrete(A):
        An = np.asarray(A)
        scale = max(1.0, float(np.max(np.abs(An))))
        asym = float(np.max(np.abs(An - An.T)))
        if asym > tol * scale:
            raise ValueError(f"A must be symmetric (max |A - A^T| <= {tol:g} * max(1, max|A|)), got max |A - A^T| = {asym:.3e}")
    return A


def linear_flow(A, g0, ts, *, tol: float = 1e-10) -> jax.Array:
    r"""The solution ``g(t) = exp(-A t) g0`` of ``dg/dt = -A g`` for symmetric positive
    semi-definite ``A``, through the eigendecomposition ``A = U diag(lam) U^T``:

    .. math:: g(t) = U \,\mathrm{diag}(e^{-\lambda_i t})\, U^\top g_0 ,

    so the component of ``g`` along eigenvector ``u_i`` decays like ``e^{-lam_i t}`` (and stays
    put along the null space of ``A``). With ``A = eta K / N`` and ``g0 = f_0 - Y`` this is the
    closed form of gradient flow on the mean squared error of a linearized model.

    Args:
      A: shape ``(n, n)``, symmetric within ``tol * max(1, max|A|)`` and positive semi-definite
        (smallest eigenvalue ``>= -tol * max(1, max|lam|)``; eigenvalues in ``[-tol*scale, 0)``
        are rounding and are set to 0).
      g0: shape ``(n,)`` or ``(n, k)`` (``k`` right-hand sides, e.g. ``k`` network outputs).
      ts: a time (shape ``()``) or times (shape ``(T,)``).

    Returns:
      shape ``g0.shape`` for a scalar time, ``(T,) + g0.shape`` for times ``(T,)``.

    References: Moler & Van Loan (2003), "Nineteen dubious ways to compute the exponential of a
    matrix", method 14 (eigenvectors); Lee et al. (2019), eq. (9).
    """
    A = _check_symmetric_psd(A, tol)
    n = A.shape[0]
    g0 = as_array(g0, "g0", ndim=(1, 2))
    if g0.shape[0] != n:
        raise ValueError(f"g0 must have {n} rows to match A of shape {A.shape}, got shape {g0.shape}")
    ts = as_array(ts, "ts", ndim=(0, 1))
    if is_concrete(A):
        lam = np.linalg.eigvalsh(0.5 * (np.asarray(A) + np.asarray(A).T))
        scale = max(1.0, float(np.max(np.abs(lam))))
        if float(lam[0]) < -tol * scale:
            raise ValueError(f"A must be positive semi-definite, got smallest eigenvalue {float(lam[0]):.3e}")
    return _finite_flow(_linear_flow(A, g0, ts), ts)


def _finite_flow(g: jax.Array, ts: jax.Array) -> jax.Array:
    """Refuse a trajectory that overflowed (e.g. ``t`` far below 0, where ``e^{-A t}`` grows)."""
    if is_concrete(g) and not bool(jnp.all(jnp.isfinite(g))):
        raise ValueError(f"ts gives exp(-A t) g0 beyond the float range (non-finite result), ts in "
                         f"[{float(jnp.min(ts)):.3g}, {float(jnp.max(ts)):.3g}]")
    return g


@jax.jit
def _linear_flow(A, g0, ts):
    lam, U = jnp.linalg.eigh(0.5 * (A + A.T))
    lam = jnp.maximum(lam, 0.0)  # eigenvalues in [-tol, 0) are rounding
    coeff = U.T @ g0  # (n,) or (n, k)

    def at(t):
        decay = jnp.exp(-lam * t)
        return U @ (decay[:, None] * coeff if coeff.ndim == 2 else decay * coeff)

    return at(ts) if ts.ndim == 0 else jax.vmap(at)(ts)


def expm_flow(A, g0, ts) -> jax.Array:
    """``exp(-A t) g0`` for any square ``A`` with ``jax.scipy.linalg.expm`` (scaling and squaring
    with a Pade approximant). Shapes as in :func:`linear_flow`; an independent oracle for it."""
    A = as_array(A, "A", ndim=2)
    if A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(f"A must be a non-empty square matrix, got shape {A.shape}")
    g0 = as_array(g0, "g0", ndim=(1, 2))
    if g0.shape[0] != A.shape[0]:
        raise ValueError(f"g0 must have {A.shape[0]} rows to match A of shape {A.shape}, got shape {g0.shape}")
    ts = as_array(ts, "ts", ndim=(0, 1))
    return _finite_flow(_expm_flow(A, g0, ts), ts)


@jax.jit
def _expm_flow(A, g0, ts):
    at = lambda t: jax.scipy.linalg.expm(-A * t) @ g0  # noqa: E731
    return at(ts) if ts.ndim == 0 else jax.vmap(at)(ts)


# --------------------------------------------------------------------------- right-hand sides


def scalar_rhs(y, t, a):
    """``dy/dt = a y``."""
    return a * y


def linear_rhs(g, t, A):
    """``dg/dt = -A g`` (``A`` constant, shape ``(n, n)``; ``g`` shape ``(n,)`` or ``(n, k)``)."""
    return -A @ g


def commuting_rhs(g, t, A0):
    """``dg/dt = -A(t) g`` with ``A(t) = (1 + sin t) A0 + t A0^2 / 2`` (:func:`commuting_example`)."""
    return -((1.0 + jnp.sin(t)) * A0 + 0.5 * t * A0 @ A0) @ g


def affine_rhs(g, t, A0, A1):
    """``dg/dt = -(A0 + t A1) g`` (:func:`noncommuting_example`)."""
    return -(A0 + t * A1) @ g


# --------------------------------------------------------------------------- the chapter's examples


def psd_example(*, key=None, n: int = 5, rank: int = 3) -> jax.Array:
    """A symmetric PSD ``n x n`` matrix of rank ``rank``: ``B B^T / rank`` with ``B`` standard
    normal ``(n, rank)``; for ``rank < n`` it has ``n - rank`` zero eigenvalues (semi-definite,
    like an NTK Gram matrix with more data points than features)."""
    key = jax.random.key(0) if key is None else prng_key(key)
    n = positive_int(n, "n")
    rank = positive_int(rank, "rank")
    if rank > n:
        raise ValueError(f"rank must be <= n = {n}, got {rank}")
    B = jax.random.normal(key, (n, rank), dtype=jnp.float64)
    return B @ B.T / rank


def commuting_example(A0) -> Callable[[jax.Array], jax.Array]:
    """``A(t) = (1 + sin t) A0 + t A0^2 / 2``: a time-varying matrix whose values all commute
    (every ``A(t)`` is a polynomial in ``A0``). ``int_0^t A = (t + 1 - cos t) A0 + t^2 A0^2 / 4``."""
    A0 = _check_symmetric_psd(A0, 1e-10)
    return lambda t: (1.0 + jnp.sin(t)) * A0 + 0.5 * t * A0 @ A0


def commuting_example_integral(A0, t) -> jax.Array:
    """``int_0^t A(s) ds`` for :func:`commuting_example`."""
    A0 = _check_symmetric_psd(A0, 1e-10)
    t = as_array(t, "t", ndim=0)
    return (t + 1.0 - jnp.cos(t)) * A0 + 0.25 * t**2 * A0 @ A0


def noncommuting_example() -> tuple[jax.Array, jax.Array]:
    """Two symmetric PSD matrices ``A0, A1`` (2 x 2) with ``[A0, A1] = A0 A1 - A1 A0 != 0``; the
    family ``A(t) = A0 + t A1`` has values that do not commute, ``[A(s), A(t)] = (t - s)[A0, A1]``."""
    A0 = jnp.array([[1.0, 0.0], [0.0, 0.2]])
    A1 = jnp.array([[0.5, 0.5], [0.5, 0.5]])
    return A0, A1


# --------------------------------------------------------------------------- symbolic derivation


def separation_of_variables():
    """The source's steps for ``dy/dx = a y`` as sympy objects: returns a dict with the ODE, sympy's
    ``dsolve`` solution, ``int dy/y`` as sympy computes it, and symbols ``x, a, C``."""
    import sympy as sp

    x, a, C = sp.symbols("x a C", real=True)
    y = sp.Function("y")
    ode = sp.Eq(y(x).diff(x), a * y(x))
    sol = sp.dsolve(ode)
    Y = sp.Symbol("y", positive=True)
    return {"x": x, "a": a, "C": C, "y": y, "ode": ode, "dsolve": sol.rhs.subs(sp.Symbol("C1"), C),
            "antiderivative": sp.integrate(1 / Y, Y), "Y": Y}


# --------------------------------------------------------------------------- claims


# Comparing two float64 evaluations of the same closed form: a few ulps of values of size <= ~10.
_ROUNDING_TOL = 1e-13


def _count_real_solutions(expr, var) -> int:
    import sympy as sp

    sols = sp.solveset(expr, var, sp.S.Reals)
    if sols == sp.S.EmptySet:
        return 0
    if isinstance(sols, sp.FiniteSet):
        return len(sols)
    raise ValueError(f"unexpected solution set {sols}")


@claim(CHAPTER, "An ODE involves only one unknown function of one random variable", source_holds=False,
       where="Basics, differential equations (definition of an ODE)",
       source_says="An ODE contains only an unknown function of one random variable; general form (x, y, dy/dx, ..., d^n y/dx^n) = 0",
       truth="An ODE has unknown functions of one independent (not random) variable; there may be several "
             "unknowns at once (a system such as dg/dt = -eta K g, with one unknown per data point); general form "
             "F(x, y, y', ..., y^(n)) = 0")
def check_ode_definition():
    # The source's own closed-form training dynamics dg/dt = -eta K g (linearized-models section) is an
    # ODE for g in R^N: N unknown functions of the one variable t, not one.
    A = psd_example()
    g0 = jnp.ones(A.shape[0])
    ys = integrate(linear_rhs, g0, jnp.array([0.0, 1.0]), A)
    unknowns = ys.shape[1]
    return check_close("number of unknown functions of t in dg/dt = -A g, g in R^5, vs 'only an unknown function' (1)",
                       np.array(unknowns), np.array(1), atol=0, expect=False)


@claim(CHAPTER, "dy/dx = a y has the general solution y = C e^{ax}", equation="eq-exp-solution", source_holds=True,
       where="Basics, differential equations (separation of variables)")
def check_general_solution():
    import sympy as sp

    s = separation_of_variables()
    x, a, C = s["x"], s["a"], s["C"]
    candidate = C * sp.exp(a * x)
    return [
        check_symbolic("sympy dsolve(y' = a y) vs C e^{ax}", s["dsolve"], candidate),
        check_symbolic("y = C e^{ax} satisfies y' - a y = 0 for every real C", sp.diff(candidate, x) - a * candidate, 0),
    ]


@claim(CHAPTER, "The separation steps as written: ln(y) = ax + C', hence y = e^{ax+C'} = C e^{ax}",
       equation="eq-separation", source_holds=False, where="Basics, differential equations (separation of variables)",
       source_says="dy/y = a dx; int dy/y = int a dx; ln(y) = ax + C'; y = e^{ax+C'} = C e^{ax}",
       truth="Dividing by y needs y != 0 and int dy/y = ln|y| + C'. The steps give only C = e^{C'} > 0: the "
             "solutions with C < 0 and y = 0 are lost. Every real C gives a solution, and there are no others "
             "(d/dx(y e^{-ax}) = 0).")
def check_separation_steps():
    import sympy as sp

    s = separation_of_variables()
    Y = s["Y"]
    Cp = sp.Symbol("Cprime", real=True)
    return [
        check_symbolic("on y > 0: sympy's int dy/y = ln(y) (the step holds there)", s["antiderivative"], sp.log(Y)),
        check_close("real C' with e^{C'} = C for the solution C = -2 (count, vs 1 if the steps reached it)",
                    np.array(_count_real_solutions(sp.exp(Cp) + 2, Cp)), np.array(1), atol=0, expect=False),
        check_close("real C' with e^{C'} = C for the solution y = 0, C = 0 (count, vs 1)",
                    np.array(_count_real_solutions(sp.exp(Cp), Cp)), np.array(1), atol=0, expect=False),
    ]


@claim(CHAPTER, "Every solution of y' = a y is y(0) e^{ax}, y(0) any real number (integrating factor)",
       equation="eq-integrating-factor")
def check_integrating_factor():
    import sympy as sp

    s = separation_of_variables()
    x, a, y = s["x"], s["a"], s["y"]
    yr = sp.Symbol("y", real=True, nonzero=True)
    d = sp.diff(y(x) * sp.exp(-a * x), x).subs(sp.Derivative(y(x), x), a * y(x))
    ivp = sp.dsolve(s["ode"], ics={y(0): -2}).rhs
    return [
        check_symbolic("d/dx (y e^{-ax}) with y' = a y substituted", d, 0),
        check_symbolic("d/dy ln|y| = 1/y for real y != 0", sp.diff(sp.log(sp.Abs(yr)), yr), 1 / yr),
        check_symbolic("dsolve with y(0) = -2 (a solution the steps as written miss) vs -2 e^{ax}", ivp, -2 * sp.exp(a * x)),
    ]


def _scalar_problem(a: float, y0: float = -2.0, T: float = 2.0):
    ts = jnp.linspace(0.0, T, 5)
    return ts, y0 * jnp.exp(a * ts)


@claim(CHAPTER, "RK4 and odeint reproduce y = y(0) e^{ax} within their error bounds", equation="eq-rk4-bound")
def check_numeric_matches_closed_form():
    out = []
    steps = 10  # h = 0.05 on intervals of length 0.5
    for a in (-1.5, 0.8):
        ts, exact = _scalar_problem(a)
        rk4 = integrate(scalar_rhs, jnp.array(-2.0), ts, jnp.array(a), steps=steps)
        h = float(ts[1] - ts[0]) / steps
        n = np.arange(ts.shape[0]) * steps
        bound = np.array([float(rk4_global_error_bound(a, h, max(int(k), 1), 2.0)) for k in n])
        exact_rk4 = -2.0 * rk4_stability_polynomial(jnp.array(a * h)) ** jnp.asarray(n, dtype=jnp.float64)
        out.append(check_close(f"RK4 (h = {h}) vs -2 e^{{{a} x}}, error / its bound n|z|^5 e^|z| max(|R|,e^z)^(n-1) |y0|/120",
                               np.abs(rk4 - exact) / bound, np.zeros(ts.shape[0]), atol=1.0))
        out.append(check_close(f"RK4 vs R(ah)^n y0 (RK4 on a linear ODE is a power of R), a = {a}", rk4, exact_rk4,
                               atol=_ROUNDING_TOL * 10, detail="rounding over 40 steps"))
        ode = integrate(scalar_rhs, jnp.array(-2.0), ts, jnp.array(a), method="odeint", rtol=1e-10, atol=1e-10)
        tol = 100 * (1e-10 * float(jnp.max(jnp.abs(exact))) + 1e-10)
        out.append(check_close(f"odeint (rtol = atol = 1e-10) vs closed form, a = {a}", ode, exact, atol=tol,
                               detail="tol = 100 x local tolerance: the solver controls local, not global, error"))
    return out


def rk4_errors(a: float = -1.5, T: float = 2.0, steps=(10, 14, 20, 28, 40, 57, 80, 113, 160)):
    """RK4 error at ``T`` on ``y' = a y, y(0) = -2`` for several step counts: ``(h, error)``."""
    hs, errs = [], []
    for n in steps:
        y = integrate(scalar_rhs, jnp.array(-2.0), jnp.array([0.0, T]), jnp.array(a), steps=int(n))[-1]
        hs.append(T / n)
        errs.append(abs(float(y) - (-2.0 * math.exp(a * T))))
    return np.array(hs), np.array(errs)


@claim(CHAPTER, "The RK4 error falls like h^4", equation="eq-rk4-bound")
def check_rk4_order():
    hs, errs = rk4_errors()
    return check_slope("RK4 error at x = 2 vs step h, h in [0.0125, 0.2] (a = -1.5)", hs, errs, 4.0, atol=0.1,
                       detail="tol 0.1: the next term of the error is O(h^5), relative O(|a|h) <= 0.3 at the largest h")


def linear_example():
    A = psd_example()
    g0 = jax.random.normal(jax.random.key(1), (A.shape[0],), dtype=jnp.float64)
    ts = jnp.linspace(0.0, 3.0, 7)
    return A, g0, ts


@claim(CHAPTER, "dg/dt = -A g (A symmetric PSD) is solved by g(t) = e^{-At} g(0)", equation="eq-linear-flow")
def check_linear_flow():
    A, g0, ts = linear_example()
    eig = linear_flow(A, g0, ts)
    ex = expm_flow(A, g0, ts)
    steps = 20
    rk4 = integrate(linear_rhs, g0, ts, A, steps=steps)
    lam = np.linalg.eigvalsh(np.asarray(A))
    h = float(ts[1] - ts[0]) / steps
    # Along eigenvector i RK4 is scalar RK4 with a = -lam_i, so in the 2-norm the error is at most the
    # largest scalar bound times |g0|.
    bound = np.array([float(np.max(rk4_global_error_bound(-lam, h, max(k * steps, 1), 1.0))) for k in range(ts.shape[0])])
    bound = bound * float(jnp.linalg.norm(g0))
    n, tmax, normA = A.shape[0], float(ts[-1]), float(jnp.linalg.norm(A, 2))
    rtol = 50 * n * 2.0**-52 * (1 + normA * tmax) * float(jnp.linalg.norm(g0))
    dg = jax.vmap(lambda t: jax.jvp(lambda s: linear_flow(A, g0, s), (t,), (jnp.ones_like(t),))[1])(ts)
    return [
        check_close("eigendecomposition U e^{-Lt} U^T g0 vs jax.scipy.linalg.expm(-At) g0", eig, ex, atol=rtol,
                    detail="tol 50 n eps (1 + |A| t) |g0|: rounding in both"),
        check_close("|RK4 (h = 0.025) - e^{-At} g0|_2 / RK4 bound (max over eigenvalues)",
                    np.linalg.norm(np.asarray(rk4 - eig), axis=1) / np.maximum(bound, 1e-300), np.zeros(ts.shape[0]), atol=1.0),
        check_close("d/dt of the closed form (autodiff) vs -A g(t)", dg, -(A @ eig.T).T, atol=rtol),
    ]


@claim(CHAPTER, "Along each eigenvector u_i of A, the component u_i^T g decays like e^{-lambda_i t}; it is constant on the null space",
       equation="eq-eigen-decay")
def check_eigen_directions():
    A, g0, ts = linear_example()
    steps = 20
    rk4 = integrate(linear_rhs, g0, ts, A, steps=steps)  # computed without any eigendecomposition
    lam, U = jnp.linalg.eigh(A)
    comps = rk4 @ U  # (T, n): u_i^T g(t)
    predicted = jnp.exp(-jnp.outer(ts, jnp.maximum(lam, 0.0))) * (U.T @ g0)
    h = float(ts[1] - ts[0]) / steps
    bound = np.array([float(np.max(rk4_global_error_bound(-np.asarray(lam), h, max(k * steps, 1), 1.0))) for k in range(ts.shape[0])])
    bound = bound * float(jnp.linalg.norm(g0)) + 1e-13
    null = np.asarray(lam) < 1e-10
    return [
        check_close("u_i^T g(t) from RK4 vs e^{-lambda_i t} u_i^T g(0), all i, all t (error / RK4 bound)",
                    np.max(np.abs(np.asarray(comps - predicted)), axis=1) / bound, np.zeros(ts.shape[0]), atol=1.0),
        check_close(f"null-space components ({int(null.sum())} of them) at t = 3 vs t = 0",
                    comps[-1, null], comps[0, null], atol=float(bound[-1])),
    ]


def richardson_tolerance(rhs: Rhs, y0, ts, *args, steps: int) -> tuple[jax.Array, float]:
    """RK4 with ``2 steps`` per interval and the tolerance ``max |y_h - y_{h/2}|`` (+ 1e-13 for rounding).

    For a fourth-order method the error of ``y_{h/2}`` is about ``|y_h - y_{h/2}| / 15``, so the
    tolerance has a margin of ~15 over the expected error of the returned solution.
    """
    coarse = integrate(rhs, y0, ts, *args, steps=steps)
    fine = integrate(rhs, y0, ts, *args, steps=2 * steps)
    return fine, float(jnp.max(jnp.abs(coarse - fine))) + 1e-13


@claim(CHAPTER, "For a time-varying A(t) whose values commute, g(t) = exp(-int_0^t A) g(0)", equation="eq-exp-integral")
def check_commuting_time_varying():
    A0, g0, _ = linear_example()
    ts = jnp.linspace(0.0, 2.0, 5)
    num, tol = richardson_tolerance(commuting_rhs, g0, ts, A0, steps=40)
    closed = jax.vmap(lambda t: jax.scipy.linalg.expm(-commuting_example_integral(A0, t)) @ g0)(ts)
    return check_close("exp(-int A) g0 vs RK4 (h = 0.0125), A(t) = (1 + sin t) A0 + t A0^2/2", closed, num, atol=tol,
                       detail="tol = Richardson estimate |y_h - y_h/2|")


def noncommuting_gap(ts) -> tuple[np.ndarray, np.ndarray, float]:
    """For ``A(t) = A0 + t A1`` (:func:`noncommuting_example`) and ``g0 = (1, 1)``: the gap
    ``|exp(-int_0^t A) g0 - g(t)|`` (``g`` by RK4, 200 steps on ``[0, t]``), the leading-order
    prediction ``(t^3 / 12) |[A0, A1] g0|`` of that gap (second Magnus term), and the Richardson
    error estimate of the RK4 solutions (largest over ``ts``)."""
    A0, A1 = noncommuting_example()
    g0 = jnp.ones(2)
    comm = A0 @ A1 - A1 @ A0
    gaps, preds, errs = [], [], []
    for t in np.asarray(ts, dtype=float):
        fine, tol = richardson_tolerance(affine_rhs, g0, jnp.array([0.0, t]), A0, A1, steps=100)
        naive = jax.scipy.linalg.expm(-(t * A0 + 0.5 * t**2 * A1)) @ g0
        gaps.append(float(jnp.linalg.norm(naive - fine[-1])))
        preds.append(float(jnp.linalg.norm(t**3 / 12 * comm @ g0)))
        errs.append(tol)
    return np.array(gaps), np.array(preds), max(errs)


@claim(CHAPTER, "For A(t) = A0 + t A1 with [A0, A1] != 0, exp(-int A) g(0) is not the solution: it misses by (t^3/12)[A0, A1] g(0) + O(t^4)",
       equation="eq-magnus")
def check_noncommuting_fails():
    small = np.geomspace(0.01, 0.08, 6)
    gaps, preds, err = noncommuting_gap(small)
    gap1, _, err1 = noncommuting_gap([1.0])
    return [
        check_slope("gap |exp(-int A) g0 - g(t)| vs t, t in [0.01, 0.08]", small, gaps, 3.0, atol=0.1,
                    detail="tol 0.1: the next term is O(t^4), relative O(t |A|) <= 0.1"),
        check_close("gap / (t^3/12)|[A0, A1] g0| at t = 0.01 vs 1", gaps[:1] / preds[:1], np.ones(1), atol=0.05,
                    detail=f"tol 0.05: relative O(t |A|) terms; RK4 error {err:.0e} << gap {gaps[0]:.1e}"),
        check_close("at t = 1: RK4 error estimate vs gap (the failure is not a solver error: ratio << 1)",
                    np.array([err1 / gap1[0]]), np.zeros(1), atol=1e-6),
    ]
