"""Chapter 7 -- notation (``book/07-notation.ipynb``): the fully connected network in the NTK
parameterization, checked against the source's entrywise recursion, its parameter count, its
initialization, the pre-activation variances of the NTK parameterization and of an unscaled network
(N(0, 1) weights, no ``1/sqrt(n_l)`` anywhere), the standard parameterization of the literature (weights
of variance ``1/n_l``: the NTK parameterization's forward law, another NTK), and the Lipschitz constants of
the activations (exact, by SymPy).

The library is :mod:`ntkbook.mlp`; this module holds the chapter's studies and its claims (the
``check_*`` functions).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import activations as _act
from ..claims import (
    check_bound,
    check_close,
    check_definitional,
    check_monte_carlo,
    check_symbolic,
    claim,
    rate_checks,
    rounding,
)
from ..mlp import apply, forward, init, init_batch, num_params, second_moments, standard_apply, standard_normal
from ..validate import positive_int

CHAPTER = "07-notation"

__all__ = [
    "CHAPTER",
    "WIDTHS",
    "check_first_layer_variance",
    "check_forward_entrywise",
    "check_hidden_layer_variance",
    "check_init_standard_normal",
    "check_layer_count",
    "check_layer_count_corrected",
    "check_lipschitz",
    "check_lipschitz_derivative_bound",
    "check_num_params",
    "check_standard_equivalence",
    "check_standard_parameterization_forward_law",
    "check_standard_parameterization_ntk",
    "NTK_WIDTHS",
    "ntk_at_init",
    "forward_moments",
    "elementwise_reference",
    "first_layer_variances",
    "hidden_layer_variances",
    "lipschitz_constants",
    "lipschitz_on_grid",
]


# --------------------------------------------------------------------------- the chapter's studies


def lipschitz_constants() -> dict:
    """The exact Lipschitz constants ``sup |σ'|`` of the named activations, from sympy.

    For the smooth ones the supremum is found where ``σ'' = 0`` (GELU: at ``x = sqrt(2)``, giving
    ``Φ(√2) + √2 φ(√2)``); ReLU and the identity have ``|σ'| <= 1`` with equality.
    Returns ``{name: (sympy expression, float)}``.
    """
    import sympy as sp

    t = sp.symbols("t", real=True)
    Phi = (1 + sp.erf(t / sp.sqrt(2))) / 2
    smooth = {
        "erf": sp.erf(t),
        "tanh": sp.tanh(t),
        "sigmoid": 1 / (1 + sp.exp(-t)),
        "gelu": t * Phi,
    }
    out = {"identity": (sp.Integer(1), 1.0), "relu": (sp.Integer(1), 1.0)}
    for name, expr in smooth.items():
        d1 = sp.diff(expr, t)
        crit = [c for c in sp.solve(sp.simplify(sp.diff(d1, t)), t) if c.is_real]
        # sigma' -> 0 or 1 at +-infinity (GELU: 1); take the largest of the critical values and the limits.
        cands = [sp.simplify(d1.subs(t, c)) for c in crit] + [sp.limit(d1, t, sp.oo), sp.limit(d1, t, -sp.oo)]
        best = max(cands, key=lambda e: float(e))
        out[name] = (best, float(best))
    return out


def lipschitz_on_grid(activation: Any, *, lo: float = -10.0, hi: float = 10.0, points: int = 200_001) -> float:
    """``max |σ'(t)|`` over an even grid of ``[lo, hi]`` (``jax.grad`` vmapped over the grid)."""
    sigma = _act.get(activation, "activation")
    grid = jnp.linspace(lo, hi, positive_int(points, "points", minimum=2))
    return float(_max_abs_derivative(sigma, grid))


@functools.partial(jax.jit, static_argnums=0)  # one compilation per activation, not one per operation
def _max_abs_derivative(sigma, grid):
    return jnp.max(jnp.abs(jax.vmap(jax.grad(lambda s: sigma(s)))(grid)))


def elementwise_reference(params: list, x: np.ndarray, *, activation: Any = "relu", beta: float = 0.0) -> np.ndarray:
    """The forward pass written entry by entry as in the source, in NumPy with explicit sums:
    ``Ã_m^(l+1) = n_l^{-1/2} sum_i w_im A_i^(l) + beta b_m`` -- an independent check of :func:`ntkbook.mlp.apply`.
    ``x`` of shape ``(n_0,)``; returns ``(n_L,)``."""
    sigma = _act.get(activation, "activation")
    a = np.asarray(x, dtype=np.float64)
    L = len(params)
    for l, layer in enumerate(params):
        w, b = np.asarray(layer["w"]), np.asarray(layer["b"])
        n_l, n_next = w.shape
        z = np.array([sum(w[i, m] * a[i] for i in range(n_l)) / np.sqrt(n_l) + beta * b[m] for m in range(n_next)])
        a = np.asarray(sigma(jnp.asarray(z))) if l + 1 < L else z
    return a


# --------------------------------------------------------------------------- the chapter's claims


# Rounding allowance: two float64 evaluations of the same sums in different orders (|f| ~ 1, <= 64 terms).


@claim(
    CHAPTER,
    r"A network with widths $(n_0, \dots, n_L)$ has $L$ affine maps, $l = 0, \dots, L-1$, not $L + 1$",
    equation="eq-forward",
    source_holds=False,
    where="Notation, forward pass",
    source_says="For l = 0, ..., L, each layer l defines an affine transformation with w^(l) in R^{n_l x n_{l+1}}",
    truth="there are L affine maps, l = 0, ..., L-1: w^(L) would need a width n_{L+1} that does not exist, and "
    "the source's own count P = sum_{l=0}^{L-1} (n_l + 1) n_{l+1} sums over L layers",
)
def check_layer_count():
    results = []
    for ws in [(3, 5, 2), (4, 8, 8, 1), (2, 3, 4, 5, 6)]:
        L = len(ws) - 1
        params = jax.eval_shape(lambda k, ws=ws: init(k, ws), jax.random.key(0))  # shapes only
        results.append(
            check_definitional(
                f"number of affine maps for widths {ws} ($L = {L}$) equals $L + 1 = {L + 1}$ (as written)",
                len(params),
                L + 1,
                expect=False,
            )
        )
    return results


@claim(
    CHAPTER,
    r"The network has $L$ affine maps ($l = 0, \dots, L-1$) and the recursion ends at $f = \tilde A^{(L)}$",
    equation="eq-forward",
)
def check_layer_count_corrected():
    results = []
    for ws in [(3, 5, 2), (4, 8, 8, 1), (2, 3, 4, 5, 6)]:
        L = len(ws) - 1
        params = init(jax.random.key(0), ws)
        fwd = forward(params, jnp.ones(ws[0]))
        results.append(
            check_close(
                f"affine maps, pre-activations, layer inputs for widths {ws} all number $L = {L}$",
                [len(params), len(fwd.pre), len(fwd.post)],
                [L, L, L],
                atol=0,
            )
        )
    return results


@claim(
    CHAPTER,
    r"$P = \sum_{l=0}^{L-1} (n_l + 1) n_{l+1}$ counts the parameters",
    equation="eq-num-params",
    source_holds=True,
    where="Notation",
)
def check_num_params():
    import sympy as sp

    results = []
    l = sp.symbols("l", integer=True, nonnegative=True)
    n = sp.IndexedBase("n")
    for L in (1, 2, 3, 5):
        # count the pytree as the shapes say: w^(l) has n_l * n_{l+1} entries, b^(l) has n_{l+1}
        by_shapes = sum(n[k] * n[k + 1] + n[k + 1] for k in range(L))
        source = sp.Sum((n[l] + 1) * n[l + 1], (l, 0, L - 1)).doit()
        results.append(
            check_symbolic(
                f"entries of $w^{{(l)}}$, $b^{{(l)}}$ summed over $l = 0, \\dots, {L - 1}$ equals the source's sum ($L = {L}$)",
                by_shapes,
                source,
            )
        )
    examples = [(1, 1), (3, 5, 2), (10, 100, 100, 1), (784, 256, 128, 10)]
    # the pytree init returns, by shapes only (jax.eval_shape: no random numbers drawn)
    trees = [jax.eval_shape(lambda k, ws=ws: init(k, ws), jax.random.key(1)) for ws in examples]
    counted = [sum(int(np.prod(leaf.shape)) for leaf in jax.tree_util.tree_leaves(t)) for t in trees]
    formula = [sum((a + 1) * b for a, b in zip(ws[:-1], ws[1:])) for ws in examples]
    results.append(
        check_close(f"leaves of init(...) counted vs the formula for widths {examples}", counted, formula, atol=0)
    )
    results.append(
        check_close("num_params(widths) vs the leaf count", [num_params(ws) for ws in examples], counted, atol=0)
    )
    return results


@claim(
    CHAPTER,
    "apply computes the entrywise recursion of the source, for every activation",
    equation="eq-forward",
    source_holds=True,
    where="Notation, forward pass",
)
def check_forward_entrywise():
    ws = (4, 6, 5, 3)
    params = init(jax.random.key(2), ws)
    xs = standard_normal(jax.random.key(3), (3, ws[0]))
    results = []
    for act in ("identity", "relu", "erf", "tanh", "sigmoid", "gelu", jnp.sin):
        name = act if isinstance(act, str) else "a user callable (sin)"
        batch = apply(params, xs, activation=act, beta=0.7)
        single = jax.vmap(lambda x: apply(params, x, activation=act, beta=0.7))(xs)
        ref = np.stack([elementwise_reference(params, np.asarray(x), activation=act, beta=0.7) for x in xs])
        results.append(
            check_close(
                f"{name}: batched apply vs explicit entrywise sums ($\\beta = 0.7$)",
                batch,
                ref,
                atol=rounding(stages=10),
            )
        )
        results.append(check_close(f"{name}: batched vs one-input apply", batch, single, atol=rounding(stages=10)))
    return results


@claim(
    CHAPTER, r"All parameters are drawn i.i.d. $\mathcal{N}(0, 1)$", source_holds=True, where="Notation, initialization"
)
def check_init_standard_normal():
    ws = (64, 256, 256, 10)
    params = init(jax.random.key(4), ws)
    flat = jnp.concatenate([jnp.ravel(leaf) for leaf in jax.tree_util.tree_leaves(params)])
    P = flat.size
    # Moments of N(0,1): E z = 0, E z^2 = 1, E z^4 = 3; standard errors sqrt(Var/P): 1, sqrt(2), sqrt(96).
    est = jnp.array([jnp.mean(flat), jnp.mean(flat**2), jnp.mean(flat**4)])
    se = np.sqrt(np.array([1.0, 2.0, 96.0]) / P)
    corr = jnp.mean(flat[:-1] * flat[1:])  # neighbouring entries uncorrelated; Var = 1
    return [
        check_monte_carlo(
            f"mean, second and fourth moments of all $P = {P}$ parameters vs 0, 1, 3",
            est,
            np.array([0.0, 1.0, 3.0]),
            se,
        ),
        check_monte_carlo(
            "lag-1 product of the flattened parameters vs 0 (independence)", corr, 0.0, 1 / np.sqrt(P - 1)
        ),
    ]


WIDTHS = (4, 16, 64, 256)


def _library_name(parameterization: str) -> str:
    """``"ntk"`` or ``"unscaled"`` (N(0, 1) weights without ``1/sqrt(n_l)``; the standard parameterization
    of the literature scales its weights' variance instead), as ``mlp.second_moments`` names them."""
    if parameterization not in ("ntk", "unscaled"):
        raise ValueError(f"parameterization must be 'ntk' or 'unscaled', got {parameterization!r}")
    return parameterization


@functools.cache
def first_layer_variances(parameterization: str, beta: float) -> np.ndarray:
    """Rows ``(estimate, stderr, exact)`` of ``E[Ã^(1)_m(x)^2]`` for input widths ``WIDTHS``
    (networks ``(n_0, 2)``, 2000 draws, one fixed x per width): ``|x|^2/n_0 + beta^2`` (``"ntk"``) or
    ``|x|^2 + beta^2`` (``"unscaled"``: N(0, 1) weights without the factor, the library's
    ``mlp.standard_apply``)."""
    parameterization = _library_name(parameterization)
    xs = [standard_normal(jax.random.fold_in(jax.random.key(5), i), (n0,)) for i, n0 in enumerate(WIDTHS)]
    key = jax.random.key(100 if parameterization == "ntk" else 150)
    est, se = second_moments(
        key, [(n0, 2) for n0 in WIDTHS], xs, beta=beta, parameterization=parameterization, samples=2000
    )
    sq = np.array([float(x @ x) for x in xs])
    n0 = np.array(WIDTHS, dtype=float)
    exact = sq / n0 + beta**2 if parameterization == "ntk" else sq + beta**2
    return np.stack([est, se, exact], axis=1)


@functools.cache
def hidden_layer_variances(parameterization: str, beta: float) -> np.ndarray:
    """Rows ``(estimate, stderr, exact)`` of ``E[f(x)^2]`` for ReLU networks ``(8, n, 1)``, hidden
    widths ``n`` in ``WIDTHS``, 1000 draws: ``(|x|^2/8 + beta^2)/2 + beta^2`` (``"ntk"``) or
    ``n (|x|^2 + beta^2)/2 + beta^2`` (``"unscaled"``)."""
    parameterization = _library_name(parameterization)
    x = standard_normal(jax.random.key(6), (8,))
    sq = float(x @ x)
    key = jax.random.key(200 if parameterization == "ntk" else 250)
    est, se = second_moments(
        key,
        [(8, n, 1) for n in WIDTHS],
        [x] * len(WIDTHS),
        activation="relu",
        beta=beta,
        parameterization=parameterization,
        samples=1000,
    )
    n = np.array(WIDTHS, dtype=float)
    exact = (
        np.full_like(n, (sq / 8 + beta**2) / 2 + beta**2)
        if parameterization == "ntk"
        else n * (sq + beta**2) / 2 + beta**2
    )
    return np.stack([est, se, exact], axis=1)


@claim(
    CHAPTER,
    r"NTK parameterization: $\operatorname{Var} \tilde A^{(1)}(x) = \lVert x \rVert^2/n_0 + \beta^2$ at every width",
    equation="eq-var-first",
)
def check_first_layer_variance():
    beta = 0.5
    ntk_ = first_layer_variances("ntk", beta)
    sp_ = first_layer_variances("unscaled", beta)
    return [
        check_monte_carlo(
            f"NTK: Monte Carlo $\\mathbb{{E}}[\\tilde A_m^{{(1)}}(x)^2]$ vs $\\lVert x \\rVert^2/n_0 + \\beta^2$, "
            f"$n_0$ in {WIDTHS}, 2000 draws $\\times$ 2 outputs",
            ntk_[:, 0],
            ntk_[:, 2],
            ntk_[:, 1],
        ),
        check_monte_carlo(
            f"unscaled $\\mathcal{{N}}(0, 1)$ weights: Monte Carlo $\\mathbb{{E}}[\\tilde A_m^{{(1)}}(x)^2]$ vs "
            f"$\\lVert x \\rVert^2 + \\beta^2$, $n_0$ in {WIDTHS}, 2000 draws $\\times$ 2 outputs",
            sp_[:, 0],
            sp_[:, 2],
            sp_[:, 1],
        ),
    ]


@claim(
    CHAPTER,
    "Through a ReLU layer the output variance is $O(1)$ in the width under the NTK parameterization "
    r"and grows like the width with unscaled $\mathcal{N}(0, 1)$ weights",
    equation="eq-var-hidden",
)
def check_hidden_layer_variance():
    beta = 0.0  # so that the unscaled network's variance is exactly proportional to n
    ntk_ = hidden_layer_variances("ntk", beta)
    sp_ = hidden_layer_variances("unscaled", beta)
    return [
        check_monte_carlo(
            f"NTK: Monte Carlo $\\mathbb{{E}}[f(x)^2]$ vs $(\\lVert x \\rVert^2/n_0 + \\beta^2)/2 + \\beta^2$ "
            f"for hidden widths {WIDTHS}",
            ntk_[:, 0],
            ntk_[:, 2],
            ntk_[:, 1],
        ),
        check_monte_carlo(
            r"unscaled: Monte Carlo $\mathbb{E}[f(x)^2]$ vs $n (\lVert x \rVert^2 + \beta^2)/2 + \beta^2$",
            sp_[:, 0],
            sp_[:, 2],
            sp_[:, 1],
        ),
    ]


@claim(CHAPTER, "Unscaled weights multiplied by $n_l^{-1/2}$ give the NTK-parameterized network: the same function")
def check_standard_equivalence():
    ws = (5, 32, 16, 3)
    params = init(jax.random.key(7), ws)
    scaled = [{"w": p["w"] / np.sqrt(p["w"].shape[0]), "b": p["b"]} for p in params]
    xs = standard_normal(jax.random.key(8), (6, ws[0]))
    return check_close(
        r"apply(params) vs the unscaled network (standard_apply) of $w / \sqrt{n_l}$ on 6 inputs, tanh, $\beta = 0.3$",
        apply(params, xs, activation="tanh", beta=0.3),
        standard_apply(scaled, xs, activation="tanh", beta=0.3),
        atol=rounding(stages=10),
    )


# --------------------------------------------------------------------------- the standard parameterization

# Two-layer ReLU networks (8, n, 1), beta = 0.5, for the NTK at initialization: widths over 2.4 decades, 64
# independent draws at each (key 300 folded with the width).
NTK_WIDTHS = (16, 64, 256, 1024, 4096)
_NTK_DRAWS = 64
_NTK_BETA = 0.5


def _as_standard(params: list, beta: float) -> list:
    """The standard-parameterization parameters of the same network: ``w^(l) / sqrt(n_l)`` (variance ``1/n_l``) and
    ``beta b^(l)`` (variance ``beta^2``), for ``standard_apply(..., beta=1)``."""
    return [{"w": p["w"] / np.sqrt(p["w"].shape[0]), "b": beta * p["b"]} for p in params]


def _ntk_pair(params, x, beta):
    """``Θ(x, x) = ||∇_θ f(x)||²`` of one network in both parameterizations: gradients with respect to the NTK
    parameters ``(w, b)`` and to the standard ones ``(w / sqrt(n_l), beta b)`` of the same function."""
    g_ntk = jax.grad(lambda p: apply(p, x, activation="relu", beta=beta)[0])(params)
    g_sp = jax.grad(lambda p: standard_apply(p, x, activation="relu", beta=1.0)[0])(_as_standard(params, beta))
    sq = lambda g: sum(jnp.sum(leaf**2) for leaf in jax.tree_util.tree_leaves(g))  # noqa: E731
    return jnp.stack([sq(g_ntk), sq(g_sp)])


@functools.cache
def ntk_at_init() -> dict:
    """``Θ(x, x)`` at initialization of ReLU networks ``(8, n, 1)``, ``beta = 0.5``, for the hidden widths
    ``NTK_WIDTHS``: ``{"widths": (W,), "ntk": (W, draws), "standard": (W, draws), "exact_ntk": (W,),
    "exact_standard": (W,)}``, each draw a fresh network (key 300 folded with the width, ``vmap``), both columns
    from the same draw. Exact expectations (ReLU, ``q = |x|²/n_0 + beta²``): NTK ``q/2 + |x|²/(2 n_0) + 3 beta²/2``;
    standard ``n q/2 + |x|²/2 + 3/2`` (``n`` terms ``relu(z_i)²`` from the output weights).
    """
    x = standard_normal(jax.random.key(301), (8,))
    run = jax.jit(jax.vmap(_ntk_pair, in_axes=(0, None, None)))
    rows = []
    for n in NTK_WIDTHS:
        keys = jax.random.split(jax.random.fold_in(jax.random.key(300), n), _NTK_DRAWS)
        rows.append(np.asarray(run(init_batch(keys, (8, n, 1)), x, _NTK_BETA)))
    vals = np.stack(rows)  # (W, draws, 2)
    sq, n0, b2 = float(x @ x), 8.0, _NTK_BETA**2
    q = sq / n0 + b2
    n = np.array(NTK_WIDTHS, dtype=float)
    return {
        "widths": n,
        "ntk": vals[:, :, 0],
        "standard": vals[:, :, 1],
        "exact_ntk": np.full_like(n, q / 2 + sq / (2 * n0) + 1.5 * b2),
        "exact_standard": n * q / 2 + sq / 2 + 1.5,
    }


_LAW_DRAWS = 4000
_LAW_WIDTHS = (8, 32, 32, 1)


@functools.cache
def forward_moments() -> dict:
    """Moments of the outputs of tanh networks ``(8, 32, 32, 1)``, ``beta = 0.5``, at two inputs, over
    ``4000`` independent draws in each parameterization (independent keys 310 and 311): the NTK
    parameterization (``N(0, 1)`` weights, ``1/sqrt(n_l)`` in the layer, ``beta b``) and the standard one
    (weights ``N(0, 1/n_l)``, biases ``N(0, beta²)``, no factor). Rows ``E f(x)², E f(x) f(x'), E f(x)⁴``;
    ``{"ntk": (est, se), "standard": (est, se)}``."""
    xs = standard_normal(jax.random.key(312), (2, 8))

    def stats(f):  # (2,) outputs -> the three statistics of one draw
        return jnp.stack([f[0] ** 2, f[0] * f[1], f[0] ** 4])

    def ntk_draw(p):
        return stats(apply(p, xs, activation="tanh", beta=0.5)[:, 0])

    def sp_draw(p):
        # p holds N(0, 1) numbers: w / sqrt(n_l) ~ N(0, 1/n_l) and 0.5 b ~ N(0, 0.25), the standard draws.
        return stats(standard_apply(_as_standard(p, 0.5), xs, activation="tanh", beta=1.0)[:, 0])

    out = {}
    for name, draw, key in (("ntk", ntk_draw, 310), ("standard", sp_draw, 311)):
        keys = jax.random.split(jax.random.key(key), _LAW_DRAWS)
        v = np.asarray(jax.jit(jax.vmap(lambda k, draw=draw: draw(init(k, _LAW_WIDTHS))))(keys))
        out[name] = (v.mean(0), v.std(0, ddof=1) / np.sqrt(_LAW_DRAWS))
    return out


@claim(
    CHAPTER,
    r"The standard parameterization (weights $\mathcal{N}(0, 1/n_l)$, biases $\mathcal{N}(0, \beta^2)$, "
    r"no $1/\sqrt{n_l}$ in the layer) has the NTK parameterization's forward law",
    equation="eq-standard-param",
)
def check_standard_parameterization_forward_law():
    m = forward_moments()
    (a, sa), (b, sb) = m["standard"], m["ntk"]
    return check_monte_carlo(
        f"standard vs NTK parameterization, tanh {_LAW_WIDTHS}, $\\beta = 0.5$, {_LAW_DRAWS} independent draws each: "
        r"$\mathbb{E} f(x)^2$, $\mathbb{E} f(x) f(x')$, $\mathbb{E} f(x)^4$",
        a,
        b,
        np.sqrt(sa**2 + sb**2),
        detail="two-sample standard errors",
    )


@claim(
    CHAPTER,
    r"The two parameterizations have different NTKs: $\Theta(x, x) = O(1)$ in the NTK parameterization, "
    r"$\sim \frac{n}{2} (\lVert x \rVert^2/n_0 + \beta^2)$ in the standard one",
    equation="eq-standard-ntk",
)
def check_standard_parameterization_ntk():
    d = ntk_at_init()
    n = d["widths"]
    span = f"ReLU $(8, n, 1)$, $n = {int(n[0])}, \\dots, {int(n[-1])}$, {_NTK_DRAWS} independent draws each"
    se = lambda v: v.std(1, ddof=1) / np.sqrt(v.shape[1])  # noqa: E731
    return [
        check_monte_carlo(
            f"NTK parameterization: mean $\\Theta(x, x)$ vs $q/2 + \\lVert x \\rVert^2/(2 n_0) + 3 \\beta^2/2$, {span}",
            d["ntk"].mean(1),
            d["exact_ntk"],
            se(d["ntk"]),
        ),
        check_monte_carlo(
            r"standard parameterization: mean $\Theta(x, x)$ vs $n q/2 + \lVert x \rVert^2/2 + 3/2$",
            d["standard"].mean(1),
            d["exact_standard"],
            se(d["standard"]),
        ),
        *rate_checks(
            r"NTK parameterization: $\Theta(x, x)$ vs $n$",
            n,
            d["ntk"],
            0.0,
            next_order=-0.5,
            alternative=1.0,
            variable="n",
        ),
        *rate_checks(
            r"standard parameterization: $\Theta(x, x)$ vs $n$",
            n,
            d["standard"],
            1.0,
            next_order=-1.0,
            alternative=0.0,
            variable="n",
            detail=r"next order: the width-independent $\lVert x \rVert^2/2 + 3/2$",
        ),
    ]


_LIPSCHITZ_NAMES = ("identity", "relu", "erf", "tanh", "sigmoid", "gelu")


@functools.partial(jax.jit, static_argnums=0)
def _lipschitz_violation(sigma, u, v, L):
    return jnp.max(jnp.abs(sigma(u) - sigma(v)) - L * jnp.abs(u - v))


@claim(
    CHAPTER,
    r"$\sigma$ is Lipschitz continuous: $\lvert \sigma(u) - \sigma(v) \rvert \le L \lvert u - v \rvert$ for all $u, v$ "
    "(each activation of the book)",
    source_holds=True,
    where="Notation (source line 111: sigma is a pointwise nonlinearity 'which is Lipschitz continuous')",
)
def check_lipschitz():
    # The definition itself, on pairs (u, v): u uniform on [-50, 50], v = u + h z with z ~ N(0, 1) and h from
    # 1e-3 to 10 -- close pairs (where the derivative rules) and far ones (where only the global bound does).
    exact = lipschitz_constants()
    ku, kz = jax.random.split(jax.random.key(9))
    u = jax.random.uniform(ku, (20, 5000), minval=-50.0, maxval=50.0)
    h = jnp.logspace(-3, 1, 20)[:, None]
    v = u + h * jax.random.normal(kz, u.shape)
    violation = [float(_lipschitz_violation(_act.get(a, "activation"), u, v, exact[a][1])) for a in _LIPSCHITZ_NAMES]
    # |sigma(u) - sigma(v)| and L |u - v| are differences of values up to 50: a few eps of 50 each.
    return check_bound(
        r"max over 100000 pairs of $\lvert \sigma(u) - \sigma(v) \rvert - L \lvert u - v \rvert$, "
        rf"$L = \sup \lvert \sigma' \rvert$ (sympy), for {_LIPSCHITZ_NAMES}",
        violation,
        rounding(50.0, stages=10),
        detail="$L$: " + ", ".join(f"{a} {exact[a][1]:.6f}" for a in _LIPSCHITZ_NAMES),
    )


@claim(
    CHAPTER,
    r"For $\sigma$ differentiable almost everywhere, the smallest Lipschitz constant is $\sup \lvert \sigma' \rvert$ "
    "(exact for each activation)",
)
def check_lipschitz_derivative_bound():
    exact = lipschitz_constants()
    grid = [lipschitz_on_grid(a) for a in _LIPSCHITZ_NAMES]
    # grid step h = 1e-4: at an interior maximum sigma'' = 0, so the grid misses at most h^2 |sigma'''| / 8 < 1e-8
    return check_close(
        rf"max $\lvert \sigma' \rvert$ on a grid of $[-10, 10]$ vs the exact sup (sympy) for {_LIPSCHITZ_NAMES}",
        grid,
        [exact[a][1] for a in _LIPSCHITZ_NAMES],
        atol=1e-8,
        detail="exact: " + ", ".join(f"{a} {exact[a][1]:.6f}" for a in _LIPSCHITZ_NAMES),
    )
