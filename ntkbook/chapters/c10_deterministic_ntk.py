"""Chapter 10 -- the deterministic NTK (``book/10-deterministic-ntk.ipynb``).

The chapter's data (four inputs in ``R^4``, ``β = 0.1``); the source's formulas as written, each
departure switchable (:func:`source_entrywise_ntk`, :func:`red_term`), to test them against the
exact identity of :func:`ntkbook.infinite_ntk.finite_width_ntk`; the sympy derivations of ``K^(1)``,
``K^(0)`` and of the identity; the source's chain-rule entry (:func:`source_chain_rule_entries`); its seeded
studies of finite networks at initialization (:func:`width_study`), of the order of the width limits at depth 3
(:func:`limits_study`) and during training (:func:`training_study`); the positive definiteness of ``K∞`` on the
circle (:func:`pd_study`) and gradient flow with it (:func:`flow_residual`); and its claims. The kernels
themselves are the library's, :mod:`ntkbook.infinite_ntk` and :mod:`ntkbook.nngp`.

References: :cite:`jacot2018ntk`, :cite:`weng2022ntk` (Deterministic neural tangent kernel),
:cite:`arora2019exact`, :cite:`lee2019wide`.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import _random, activations
from .. import nngp as _nngp
from ..claims import check_bound, check_close, check_monte_carlo, check_symbolic, claim, rate_checks, rounding, shown
from ..infinite_ntk import finite_width_ntk, infinite_width_kernels, sub_network_ntk
from ..rates import standard_error
from ..validate import input_pair

CHAPTER = "10-deterministic-ntk"

__all__ = [
    "ANGLE_ACTIVATIONS",
    "ANGLE_DEPTHS",
    "ANGLE_SEEDS",
    "ANGLE_SIGMAS",
    "ANGLE_STRIDE",
    "ANGLE_WIDTH",
    "CHAPTER",
    "CIRCLE_POINTS",
    "LIMIT_SEEDS",
    "LIMIT_WIDTHS",
    "NTK_SEEDS",
    "NTK_WIDTHS",
    "PD_CASES",
    "PD_DEPTHS",
    "SEQUENTIAL_SEEDS",
    "TRAIN_RECORD",
    "TRAIN_SEEDS",
    "TRAIN_STEPS",
    "TRAIN_WIDTHS",
    "angle_kernels",
    "angle_study",
    "chapter_inputs",
    "check_convergence_needs_pd",
    "check_finite_width_identity",
    "check_global_minimum_as_written",
    "check_k0_zero",
    "check_kernel_angle_monte_carlo",
    "check_k1_equals_sigma1",
    "check_k1_matrix",
    "check_kinf_positive_definite",
    "check_lln_limits",
    "check_mean_ntk_exact",
    "check_ntk_constant_in_training",
    "check_ntk_convergence_rate",
    "check_order_of_limits",
    "check_recursion_matches_networks",
    "check_source_chain_rule",
    "check_source_entrywise",
    "check_source_red_limit",
    "check_source_same_input",
    "circle_inputs",
    "circle_labels",
    "depth3_ntk_parts",
    "eigen_tolerance",
    "flow_residual",
    "kernels_by_depth",
    "limits_study",
    "pd_study",
    "residual_along_eigenvectors",
    "red_term",
    "source_chain_rule_entries",
    "source_entrywise_ntk",
    "theta_tilde_jacobian",
    "training_study",
    "width_study",
]


def _act_fn(activation):
    return activations.get(activation, "activation")


def source_entrywise_ntk(
    params: list,
    x1: jax.Array,
    x2: jax.Array | None = None,
    *,
    activation: Any = "relu",
    beta: float = 0.0,
    output_indices: bool = True,
    bias_inside: bool = True,
    same_input: bool = True,
) -> jax.Array:
    """The source's entrywise formula for ``K^(l+1)_{mn}``, with each of its three departures from the
    exact identity (:func:`finite_width_ntk`) switchable, to test them one at a time:

        K_{mn} = (1/n) [ σ(Ã_m) σ(Ã_n) + β² + sum_{i,j} w_{im} w_{jn} σ'(Ã_i) σ'(Ã_j) K^(l)_{ij} ]

    * ``output_indices``: the first term is ``σ(Ã_m(x)) σ(Ã_n(x'))`` -- hidden units picked by the
      *output* indices ``m, n`` (needs ``n_L <= n_{L-1}``) -- instead of ``δ_{mn} sum_i σ(Ã_i(x)) σ(Ã_i(x'))``;
    * ``bias_inside``: ``β²`` inside the ``1/n`` bracket and on every entry, instead of ``δ_{mn} β²``;
    * ``same_input``: both factors at ``x`` (the source writes ``∇f(x)ᵀ∇f(x)``), instead of ``x`` and ``x'``:
      the pair ``(x_a, x'_b)`` gets ``K(x_a, x_a)``.

    With all three off this is :func:`finite_width_ntk`. Returns ``(N1, N2, n_L, n_L)``.
    """
    from .. import mlp

    x1, x2 = input_pair(x1, x2)
    x2v = x1 if (x2 is None or same_input) else x2
    sigma = _act_fn(activation)
    dsigma = _nngp.activation_derivative(sigma)
    pre1 = mlp.forward(params[:-1], x1, activation=activation, beta=beta).output
    pre2 = mlp.forward(params[:-1], x2v, activation=activation, beta=beta).output
    w = params[-1]["w"]
    n, n_out = w.shape
    eye = jnp.eye(n_out, dtype=w.dtype)
    k_sub = sub_network_ntk(params, x1, x2v, activation=activation, beta=beta)
    a1, a2 = sigma(pre1), sigma(pre2)
    if output_indices:
        if n_out > n:
            raise ValueError(f"output_indices needs n_L <= n_(L-1), got {n_out} > {n}")
        first = a1[:, None, :n_out, None] * a2[None, :, None, :n_out] / n
    else:
        first = (a1 @ a2.T / n)[:, :, None, None] * eye
    bias = jnp.full((n_out, n_out), beta**2 / n, w.dtype) if bias_inside else beta**2 * eye
    red = jnp.einsum("im,jn,ai,bj,abij->abmn", w, w, dsigma(pre1), dsigma(pre2), k_sub) / n
    k = first + bias + red
    if same_input:
        # the pair (x_a, x'_b) gets ∇f(x_a)ᵀ∇f(x_a): the diagonal, broadcast over b
        n2 = x1.shape[0] if x2 is None else x2.shape[0]
        diag = k[jnp.arange(x1.shape[0]), jnp.arange(x1.shape[0])]  # (N1, n_L, n_L)
        k = jnp.broadcast_to(diag[:, None], (x1.shape[0], n2) + diag.shape[1:])
    return k


_X = np.array([[1.0, 0.5, -0.3, 0.8], [0.6, 1.1, 0.2, -0.4], [-0.9, -0.2, 0.4, -0.7], [0.2, -0.8, 1.2, 0.3]])
_BETA = 0.1
# rounding(stages=10): two float64 computations of the same O(1) quantity by different routes.


def chapter_inputs() -> jax.Array:
    """The four inputs in ``R^4`` used throughout the chapter, shape ``(4, 4)``."""
    return jnp.asarray(_X, dtype=jnp.float64)


def _one_network(seed: int, widths: tuple) -> list:
    """One network with i.i.d. N(0, 1) parameters (as :func:`ntkbook.mlp.init`), drawn in a single
    random-number call (:func:`ntkbook.nngp.draw_networks`)."""
    return jax.tree_util.tree_map(
        lambda a: jax.device_put(np.asarray(a)[0]), _nngp.draw_networks(jax.random.key(seed), widths, 1)
    )


def _mlp_ntk(params, x, activation, beta, strategy="jacobian"):
    from .. import ntk

    return ntk.empirical_ntk(ntk.mlp_apply_fn(activation, beta), params, x, strategy=strategy)


def _symbolic_network(widths, sigma):
    """A network of ``widths`` with symbolic parameters, input ``x`` and ``x'``; returns the symbols,
    the outputs at ``x`` and ``x'``, and the pre-activations of the last hidden layer."""
    import sympy as sp

    beta = sp.symbols("beta", nonnegative=True)
    x = sp.Matrix(sp.symbols(f"x1:{widths[0] + 1}", real=True))
    xp = sp.Matrix(sp.symbols(f"xp1:{widths[0] + 1}", real=True))
    layers, params = [], []
    for l, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        w = sp.Matrix(a, b, lambda i, j: sp.Symbol(f"w{l}_{i}{j}", real=True))
        bb = sp.Matrix(b, 1, lambda i, j: sp.Symbol(f"b{l}_{i}", real=True))
        layers.append((w, bb))
        params += list(w) + list(bb)

    def forward(inp):
        a, pres = inp, []
        for l, (w, bb) in enumerate(layers):
            z = w.T * a / sp.sqrt(widths[l]) + beta * bb
            pres.append(z)
            a = z.applyfunc(sigma) if l + 1 < len(layers) else z
        return pres

    return dict(beta=beta, x=x, xp=xp, layers=layers, params=params, pre_x=forward(x), pre_xp=forward(xp))


def _symbolic_ntk(out_x, out_xp, params):
    import sympy as sp

    jx = out_x.jacobian(sp.Matrix(params))
    jxp = out_xp.jacobian(sp.Matrix(params))
    return jx * jxp.T


@claim(
    CHAPTER,
    "$K^{(1)}(x, x') = (\\partial f(x')/\\partial w)^\\top \\partial f(x)/\\partial w + "
    "(\\partial f(x')/\\partial b)^\\top \\partial f(x)/\\partial b = x \\cdot x'/n_0 + \\beta^2 = \\Sigma^{(1)}(x, x')$, "
    "for one output",
    equation="eq-k1-source",
    source_holds=True,
    where="Deterministic NTK, step (1) (source line 216), read as the source's step (2) reads f: one output, "
    "the derivatives as gradient columns",
)
def check_k1_equals_sigma1():
    import sympy as sp

    # The source's own factor order: the derivative at x' transposed, times the derivative at x.
    net = _symbolic_network((3, 1), None)
    params = sp.Matrix(net["params"])
    grad_x = net["pre_x"][-1].jacobian(params).T  # ∇_θ f(x), a P x 1 column
    grad_xp = net["pre_xp"][-1].jacobian(params).T
    k_source_order = (grad_xp.T * grad_x)[0]
    sigma1 = (net["x"].T * net["xp"])[0] / 3 + net["beta"] ** 2
    x = chapter_inputs()
    emp = _mlp_ntk(_one_network(400, (4, 1)), x, "relu", _BETA)[:, :, 0, 0]
    s1, k1 = infinite_width_kernels(x, depth=1, beta=_BETA)
    want = x @ x.T / 4 + _BETA**2
    return [
        check_symbolic(
            "sympy: $(\\partial f(x')/\\partial \\theta)^\\top \\partial f(x)/\\partial \\theta$ of a 1-layer network "
            "($n_0 = 3$, one output) vs $x \\cdot x'/n_0 + \\beta^2$",
            k_source_order,
            sigma1,
        ),
        check_close(
            "empirical NTK of a 1-layer network (one output) vs $x \\cdot x'/n_0 + \\beta^2$",
            emp,
            want,
            atol=rounding(stages=10),
        ),
        check_close(
            "infinite_width_kernels at depth 1: $K^{(1)}$ and $\\Sigma^{(1)}$ vs $x \\cdot x'/n_0 + \\beta^2$",
            jnp.stack([s1, k1]),
            jnp.stack([want] * 2),
            atol=rounding(stages=10),
        ),
    ]


@claim(
    CHAPTER,
    "With $n_1$ outputs, $K^{(1)} = \\Sigma^{(1)} I_{n_1}$ (corrected: the source writes the scalar $\\Sigma^{(1)}$), for "
    "every width",
    equation="eq-k1",
)
def check_k1_matrix():
    import sympy as sp

    net = _symbolic_network((3, 2), None)
    k = _symbolic_ntk(net["pre_x"][-1], net["pre_xp"][-1], net["params"])
    k_source_order = _symbolic_ntk(net["pre_xp"][-1], net["pre_x"][-1], net["params"])  # K(x', x)
    sigma1 = (net["x"].T * net["xp"])[0] / 3 + net["beta"] ** 2
    x = chapter_inputs()
    emp = _mlp_ntk(_one_network(400, (4, 5)), x, "relu", _BETA)
    want = (x @ x.T / 4 + _BETA**2)[:, :, None, None] * jnp.eye(5)
    return [
        check_symbolic(
            "sympy: $\\nabla_\\theta f(x)^\\top \\nabla_\\theta f(x')$ of a 1-layer network ($n_0 = 3$, $n_1 = 2$) vs "
            "$\\Sigma^{(1)} I$",
            k,
            sigma1 * sp.eye(2),
        ),
        check_symbolic(
            "sympy: the source's factor order gives $K(x', x) = K(x, x')$ here ($K^{(1)}$ is symmetric)",
            k_source_order,
            k,
        ),
        check_close(
            "empirical NTK of a 1-layer network ($n_1 = 5$) vs $(x \\cdot x'/n_0 + \\beta^2) I$",
            emp,
            want,
            atol=rounding(stages=10),
        ),
    ]


@claim(
    CHAPTER,
    "$K^{(0)} = 0$: the input layer has no parameters, and the recursion started from 0 gives $K^{(1)}$",
    equation="eq-ntk-recursion",
    source_holds=True,
    where="Deterministic NTK, step (1), 'we always have K^(0) = 0'",
)
def check_k0_zero():
    import sympy as sp

    # the "network" of depth 0 is the map x -> x: its parameter list is empty, so its NTK is an empty sum
    empty_jacobian = sp.zeros(2, 0)
    k0 = empty_jacobian * empty_jacobian.T
    xs = chapter_inputs()
    cov, sigma_dot = _first_kernel_map(xs, _BETA, activation="relu")
    k1_from_k0 = cov + jnp.zeros_like(cov) * sigma_dot  # K^(1) = Σ^(1) + K^(0) Σ̇ with K^(0) = 0
    _, k1 = infinite_width_kernels(xs, depth=1, beta=_BETA)
    return [
        check_symbolic(
            "sympy: the NTK of the parameter-free map $x \\mapsto x$ ($n_0 = 2$) is the $2 \\times 2$ zero matrix",
            k0,
            sp.zeros(2, 2),
        ),
        check_close(
            "$\\Sigma^{(1)} + K^{(0)} \\dot\\Sigma$ with $K^{(0)} = 0$ vs $K^{(1)}$",
            k1_from_k0,
            k1,
            atol=rounding(stages=10),
        ),
    ]


@claim(
    CHAPTER,
    "Exact at every width: the NTK of an $(l+1)$-layer network = last-layer part + back-propagated part",
    equation="eq-finite-identity",
)
def check_finite_width_identity():
    import sympy as sp

    dsig = sp.Function("sigma_prime")

    class sig(sp.Function):  # a generic activation whose derivative is the generic function sigma_prime
        def fdiff(self, argindex=1):
            return dsig(self.args[0])

    net = _symbolic_network((2, 2, 2), sig)
    k = _symbolic_ntk(net["pre_x"][-1], net["pre_xp"][-1], net["params"])
    pre, prep = net["pre_x"][0], net["pre_xp"][0]
    w1, _ = net["layers"][1]
    n, beta = 2, net["beta"]
    k_sub = ((net["x"].T * net["xp"])[0] / 2 + beta**2) * sp.eye(2)  # K^(1)_{ij}: the first layer's NTK
    a, ap = pre.applyfunc(sig), prep.applyfunc(sig)
    rhs = sp.zeros(2, 2)
    for m_ in range(2):
        for n_ in range(2):
            val = (
                sp.KroneckerDelta(m_, n_) * ((a.T * ap)[0] / n + beta**2)
                + sum(
                    w1[i, m_] * w1[j, n_] * dsig(pre[i]) * dsig(prep[j]) * k_sub[i, j]
                    for i in range(2)
                    for j in range(2)
                )
                / n
            )
            rhs[m_, n_] = val
    diff = (k - rhs).applyfunc(sp.expand)
    x = chapter_inputs()
    out = [
        check_symbolic(
            "sympy: NTK of a 2-layer network with a generic $\\sigma$ (widths 2, 2, 2) vs the identity",
            diff,
            sp.zeros(2, 2),
        )
    ]
    for widths, act in [((4, 9, 3), "relu"), ((4, 7, 6, 2), "tanh")]:
        p = _one_network(410 + len(widths), widths)
        out.append(
            check_close(
                f"{act}, widths {widths}: identity vs autodiff NTK (jacobian contraction)",
                finite_width_ntk(p, x, activation=act, beta=0.3),
                _mlp_ntk(p, x, act, 0.3),
                atol=rounding(stages=10),
            )
        )
    return out


_SRC_WIDTHS = (4, 6, 3)  # a small network: n_1 = 6 hidden units, n_L = 3 outputs (n_L <= n_1 for the source's indices)


def _source_case():
    p = _one_network(420, _SRC_WIDTHS)
    x = chapter_inputs()
    return p, x, _mlp_ntk(p, x, "relu", 0.5)


@claim(
    CHAPTER,
    "The source's entrywise formula for $K^{(l+1)}_{mn}$ is not the NTK of the network",
    equation="eq-source-entrywise",
    source_holds=False,
    where="Deterministic NTK, the entrywise formula for K^(l+1)_mn",
    source_says="K_mn = (1/n_l)[σ(Ã_m)σ(Ã_n) + β² + Σ_ij w_im w_jn σ'(Ã_i)σ'(Ã_j) K_ij]",
    truth="K_mn(x,x') = δ_mn[(1/n_l) Σ_i σ(Ã_i(x))σ(Ã_i(x')) + β²] + (1/n_l) Σ_ij w_im w_jn σ'(Ã_i(x))σ'(Ã_j(x')) K_ij(x,x'): "
    "the feature term is a sum over hidden units on the diagonal m = n only, and β² sits outside the 1/n_l",
)
def check_source_entrywise():
    p, x, emp = _source_case()
    kw = dict(activation="relu", beta=0.5)
    return [
        check_close(
            "source formula as written (all three departures) vs autodiff NTK (relu, widths 4-6-3, $\\beta = 0.5$)",
            source_entrywise_ntk(p, x, **kw),
            emp,
            atol=rounding(stages=10),
            expect=False,
        ),
        check_close(
            "only the output-index error $\\sigma(\\tilde A_m)\\sigma(\\tilde A_n)$ vs autodiff NTK",
            source_entrywise_ntk(p, x, **kw, bias_inside=False, same_input=False),
            emp,
            atol=rounding(stages=10),
            expect=False,
        ),
        check_close(
            "only $\\beta^2$ inside the $1/n_l$ bracket vs autodiff NTK",
            source_entrywise_ntk(p, x, **kw, output_indices=False, same_input=False),
            emp,
            atol=rounding(stages=10),
            expect=False,
        ),
        check_close(
            "all three corrected: the same formula vs autodiff NTK",
            source_entrywise_ntk(p, x, **kw, output_indices=False, bias_inside=False, same_input=False),
            emp,
            atol=rounding(stages=10),
        ),
    ]


@claim(
    CHAPTER,
    "$\\nabla_\\theta f(x)^\\top \\nabla_\\theta f(x)$ ($x$ twice, as the source writes) is $K(x, x)$, not $K(x, x')$",
    equation="eq-ntk-definition",
    source_holds=False,
    where="Deterministic NTK, first line of the K^(l+1) derivation",
    source_says="K^(l+1)(x, x'; θ) = ∇_θ f(x; θ)ᵀ ∇_θ f(x; θ)",
    truth="K^(l+1)(x, x'; θ) = ∇_θ f(x; θ)ᵀ ∇_θ f(x'; θ)",
)
def check_source_same_input():
    p, x, emp = _source_case()
    twice = source_entrywise_ntk(
        p, x, activation="relu", beta=0.5, output_indices=False, bias_inside=False, same_input=True
    )
    return check_close(
        "$\\nabla f(x)^\\top \\nabla f(x)$ for all pairs vs autodiff $K(x, x')$",
        twice,
        emp,
        atol=rounding(stages=10),
        expect=False,
    )


def red_term(
    params: list, x1: jax.Array, x2: jax.Array, *, activation: Any, beta: float, normalized: bool
) -> jax.Array:
    """The back-propagated ("red") term for a depth-2 network, where ``K^(1)_{ij} = δ_{ij} Σ^(1)`` exactly:
    ``c sum_i w_im w_in σ'(Ã_i(x)) σ'(Ã_i(x')) Σ^(1)(x, x')``, ``c = 1/n`` if ``normalized`` else 1 (the
    source's displayed limit). Returns ``(N1, N2, n_L, n_L)``. Vectorizes over a leading seed axis of params
    only through ``vmap`` by the caller."""
    from .. import mlp

    sigma = _act_fn(activation)
    dsigma = _nngp.activation_derivative(sigma)
    pre1 = mlp.forward(params[:1], x1, activation=activation, beta=beta).output
    pre2 = mlp.forward(params[:1], x2, activation=activation, beta=beta).output
    w = params[1]["w"]
    s1 = x1 @ x2.T / x1.shape[1] + beta**2
    r = jnp.einsum("im,in,ai,bi->abmn", w, w, dsigma(pre1), dsigma(pre2)) * s1[:, :, None, None]
    return r / w.shape[0] if normalized else r


@functools.lru_cache(maxsize=1)
def _red_study():
    """Mean over 64 depth-2 ReLU networks of the red term at widths 256 and 4096 (source's and 1/n versions)."""
    x = chapter_inputs()
    res = {}
    for n in (256, 4096):
        params = _nngp.draw_networks(jax.random.key(430 + n), (4, n, 2), 64)
        raw = np.asarray(_red_batch(params, x, normalized=False))
        res[n] = raw
    return res


@functools.partial(jax.jit, static_argnames=("normalized",))
def _red_batch(params, x, *, normalized):
    return jax.vmap(lambda p: red_term(p, x, x, activation="relu", beta=_BETA, normalized=normalized))(params)


@claim(
    CHAPTER,
    "The source's 'limit' of the red term is still random: its right-hand side keeps the network's weights and "
    "activations",
    equation="eq-source-red-limit",
    source_holds=False,
    where="Deterministic NTK, 'the red section has the limit' (source line 266; the 1/n_l stands outside the bracket "
    "of line 258)",
    source_says="Σ_ij w_im w_jn σ'(Ã_i)σ'(Ã_j) K_ij -> Σ_ij w_im w_jn σ'(Ã_i)σ'(Ã_j) K_∞,ij as n_l -> ∞",
    truth="replacing K^(l)_ij by its limit leaves (1/n_l) Σ_ij w_im w_jn σ'(Ã_i(x))σ'(Ã_j(x')) K_∞,ij, a random "
    "quantity that moves with n_l: not a limit and not deterministic. The step the proposition needs is a law of "
    "large numbers: K^(l)_ij -> δ_ij K^(l) and (1/n_l) Σ_i w_im w_in σ'σ' -> E[w_m w_n] E[σ'σ'], so the red term "
    "tends to δ_mn Σ̇^(l+1)(x,x') K^(l)(x,x')",
)
def check_source_red_limit():
    # Depth 2: K^(1)_ij = δ_ij Σ^(1) at every width, so K_∞ = K and the source's right-hand side, with the
    # 1/n_l it carries from the bracket, is the normalized red term itself. Its mean is δ_mn Σ̇^(2) Σ^(1);
    # were it deterministic, every network would give exactly that.
    r = _red_study()
    x = chapter_inputs()
    cov, sigma_dot = _first_kernel_map(x, _BETA, activation="relu")
    mean = np.asarray(sigma_dot * cov)[:, :, None, None] * np.eye(2)
    n = 4096
    sq = ((r[n] / n - mean) ** 2).reshape(r[n].shape[0], -1).mean(1)  # one number per network
    return check_monte_carlo(
        "mean square deviation of the source's right side "
        "$\\frac{1}{n_l} \\sum_{ij} w_{im} w_{jn} \\sigma'\\sigma' K_{\\infty,ij}$ from its mean "
        f"$\\delta_{{mn}} \\dot\\Sigma K$ (64 entries, 64 networks, width {n}) vs 0 (were it deterministic)",
        np.array(sq.mean()),
        np.array(0.0),
        standard_error(sq),
        expect=False,
    )


@claim(
    CHAPTER,
    "The two laws of large numbers: feature term $\\to \\delta_{mn} \\Sigma^{(l+1)}$, red term$/n \\to \\delta_{mn} "
    "\\dot\\Sigma^{(l+1)} K^{(l)}$",
    equation="eq-ntk-recursion",
)
def check_lln_limits():
    from sympy.stats import E, Normal

    w1, w2 = Normal("w_m", 0, 1), Normal("w_n", 0, 1)
    r = _red_study()
    x = chapter_inputs()
    cov, sigma_dot = _first_kernel_map(x, _BETA, activation="relu")
    want = np.asarray(sigma_dot * cov)
    red = r[4096] / 4096  # (S, N, N, 2, 2), the normalized red term
    est_diag = red[..., 0, 0]
    est_off = red[..., 0, 1]
    return [
        check_symbolic(
            "sympy.stats: $\\mathbb{E}[w_m w_n] = 0$ for $m \\ne n$ (independent $\\mathcal{N}(0, 1)$)", E(w1 * w2), 0
        ),
        check_symbolic("sympy.stats: $\\mathbb{E}[w_m^2] = 1$", E(w1**2), 1),
        check_monte_carlo(
            "$\\frac{1}{n} \\sum_i w_{i1}^2 \\sigma'\\sigma' \\Sigma^{(1)}$, 64 networks of width 4096, vs "
            "$\\dot\\Sigma^{(2)} K^{(1)}$",
            est_diag.mean(0),
            want,
            standard_error(est_diag, axis=0),
        ),
        check_monte_carlo(
            "$\\frac{1}{n} \\sum_i w_{i1} w_{i2} \\sigma'\\sigma' \\Sigma^{(1)}$ ($m \\ne n$) vs 0",
            est_off.mean(0),
            np.zeros_like(want),
            standard_error(est_off, axis=0),
        ),
    ]


NTK_WIDTHS = (32, 64, 128, 256, 512, 1024)
NTK_SEEDS = 16


@functools.partial(jax.jit, static_argnames=("activation",))
def _batch_ntk(params, x, beta, *, activation):
    from .. import ntk

    return jax.vmap(lambda p: ntk.layerwise_ntk(p, x, activation=activation, beta=beta))(params)


@functools.lru_cache(maxsize=1)
def width_study() -> dict:
    """Empirical NTKs of ``NTK_SEEDS`` depth-3 ReLU networks (β = 0.1, ``n_L = 2``) at each of
    ``NTK_WIDTHS``, drawn independently at every width (key 440 folded with the width), against ``K^(3)``.
    Per width and seed (``*_samples``, ``(W, S)``): the relative error ``|K_11 - K^(3)|_F / |K^(3)|_F``,
    the off-diagonal output entry ``|K_12|_F / |K^(3)|_F``, and the squared deviation of ``K_11`` from the
    seeds' mean (mean over input pairs, ``S/(S-1)`` unbiased) ``/ |K^(3)|_F²``, whose mean is the variance
    across seeds; the per-width means and standard errors; the NTKs of seed 0."""
    x = chapter_inputs()
    _, k_inf = infinite_width_kernels(x, depth=3, activation="relu", beta=_BETA)
    k_inf = np.asarray(k_inf)
    norm = np.linalg.norm(k_inf)
    rel, off, var, kernels = [], [], [], []
    for n in NTK_WIDTHS:
        p = _nngp.draw_networks(jax.random.fold_in(jax.random.key(440), n), (4, n, n, 2), NTK_SEEDS)
        k = np.asarray(_batch_ntk(p, x, _BETA, activation="relu"))  # (S, N, N, 2, 2)
        rel.append(np.linalg.norm(k[..., 0, 0] - k_inf, axis=(1, 2)) / norm)
        off.append(np.linalg.norm(k[..., 0, 1], axis=(1, 2)) / norm)
        d = k[..., 0, 0] - k[..., 0, 0].mean(axis=0)
        var.append((d**2).mean(axis=(1, 2)) * NTK_SEEDS / (NTK_SEEDS - 1) / norm**2)
        kernels.append(k[0])
    rel, off, var = np.array(rel), np.array(off), np.array(var)

    return dict(
        widths=np.array(NTK_WIDTHS),
        relative_error=rel.mean(axis=1),
        relative_error_se=standard_error(rel),
        relative_error_samples=rel,
        off_diagonal=off.mean(axis=1),
        off_diagonal_se=standard_error(off),
        off_diagonal_samples=off,
        spread=np.sqrt(var.mean(axis=1)),
        variance_samples=var,
        kernels=kernels,
        k_inf=k_inf,
    )


@claim(
    CHAPTER,
    "At initialization the empirical NTK converges to $K^{(L)} I$ at rate $n^{-1/2}$",
    equation="eq-ntk-recursion",
    source_holds=True,
    where="Deterministic NTK, proposition (1): deterministic at initialization",
)
def check_ntk_convergence_rate():
    w = width_study()
    rng = f"width {NTK_WIDTHS[0]}..{NTK_WIDTHS[-1]}, {NTK_SEEDS} independent networks each"
    x = w["widths"].astype(float)
    return [
        *rate_checks(
            f"$\\lVert K_{{11}} - K^{{(3)}}\\rVert_F/\\lVert K^{{(3)}}\\rVert_F$ vs {rng}",
            x,
            w["relative_error_samples"],
            -0.5,
            next_order=-0.5,
            alternative=-1.0,
            detail="an average of $n$ weakly dependent terms fluctuates like $n^{-1/2}$",
        ),
        *rate_checks(
            f"off-diagonal output entry $\\lVert K_{{12}}\\rVert_F/\\lVert K^{{(3)}}\\rVert_F$ vs {rng}",
            x,
            w["off_diagonal_samples"],
            -0.5,
            next_order=-0.5,
            alternative=-1.0,
        ),
        *rate_checks(
            f"variance of $K_{{11}}$ across networks $/\\lVert K^{{(3)}}\\rVert_F^2$ vs {rng}",
            x,
            w["variance_samples"],
            -1.0,
            next_order=-0.5,
            detail="the square of the $n^{-1/2}$ spread",
        ),
    ]


@claim(
    CHAPTER,
    "$K^{(L)}$ from the recursion matches the mean empirical NTK of wide networks (relu, erf, tanh by quadrature)",
    equation="eq-ntk-recursion",
)
def check_recursion_matches_networks():
    x = chapter_inputs()
    out = []
    for i, act in enumerate(("relu", "erf", "tanh")):
        params = _nngp.draw_networks(jax.random.key(450 + i), (4, 256, 256, 1), 32)
        k = np.asarray(_batch_ntk(params, x, _BETA, activation=act))[..., 0, 0]
        # tanh: the library's quadrature with its accuracy contract (relative error <= 1e-10)
        _, k_inf = infinite_width_kernels(x, depth=3, activation=act, beta=_BETA)
        out.append(
            check_monte_carlo(
                f"{act}: mean NTK of 32 depth-3 networks of width 256 vs $K^{{(3)}}$",
                k.mean(0),
                np.asarray(k_inf),
                standard_error(k, axis=0),
                detail="the $O(1/n)$ bias is below the standard error",
            )
        )
    return out


@claim(
    CHAPTER,
    "The mean empirical NTK equals $K^{(L)}$ at every width: at depth 2 for any $\\sigma$, at any depth for the identity",
    equation="eq-ntk-recursion",
)
def check_mean_ntk_exact():
    # At depth 2 the hidden pre-activations are exactly N(0, Λ^(1)) at any width and independent of the last
    # layer's weights w, so E[K_θ] = E[σσ'] + β² + K^(1) E[w²] E[σ̇σ̇'] = Σ^(2) + K^(1) Σ̇^(2) = K^(2) exactly:
    # no 1/n bias, so narrow networks and many of them resolve K^(2) to a fraction of a percent (a K off by
    # 2% fails at ~8 standard errors). For the identity every layer's term is a product of independent
    # factors, so the same holds at any depth.
    x = chapter_inputs()
    out = []
    for i, (act, depth) in enumerate((("relu", 2), ("erf", 2), ("identity", 4))):
        params = _nngp.draw_networks(jax.random.key(470 + i), (4,) + (8,) * (depth - 1) + (1,), 20_000)
        k = np.asarray(_batch_ntk(params, x, 0.5, activation=act))[..., 0, 0]
        _, k_inf = infinite_width_kernels(x, depth=depth, activation=act, beta=0.5)
        out.append(
            check_monte_carlo(
                f"{act}, depth {depth}: mean NTK of 20000 networks of width 8 vs $K^{{({depth})}}$ ($\\beta = 0.5$)",
                k.mean(0),
                np.asarray(k_inf),
                standard_error(k, axis=0),
            )
        )
    return out


TRAIN_WIDTHS = (32, 64, 128, 256, 512)
TRAIN_SEEDS = 8
TRAIN_STEPS = 50


def _train_data():
    x = jnp.asarray(np.concatenate([_X, -_X[:, ::-1] * 0.7]), dtype=jnp.float64)  # 8 inputs
    y = jnp.sin(2 * x[:, :1]) + 0.5 * x[:, 1:2]
    return x, y


TRAIN_RECORD = 5  # the NTK is recorded every TRAIN_RECORD steps


@functools.partial(jax.jit, static_argnames=("steps", "record"))
def _train_change(params, x, y, lr, *, steps, record):
    from .. import mlp, ntk

    def loss(p):
        return 0.5 * jnp.mean((mlp.apply(p, x, activation="relu", beta=_BETA) - y) ** 2)

    def kernel(p):
        return ntk.layerwise_ntk(p, x, activation="relu", beta=_BETA, output="trace")

    def one(p):
        k0 = kernel(p)

        def chunk(q, _):  # `record` steps of gradient descent, then the NTK
            q = jax.lax.fori_loop(
                0, record, lambda _, r: jax.tree_util.tree_map(lambda a, g: a - lr * g, r, jax.grad(loss)(r)), q
            )
            return q, kernel(q)

        pt, ks = jax.lax.scan(chunk, p, None, length=steps // record)
        ks = jnp.concatenate([k0[None], ks])  # (steps/record + 1, N, N)
        change = jnp.linalg.norm(ks - k0, axis=(1, 2)) / jnp.linalg.norm(k0)
        return change, ks[:, 0, 0] / k0[0, 0], loss(p), loss(pt)

    return jax.vmap(one)(params)


@functools.lru_cache(maxsize=1)
def training_study() -> dict:
    """Full-batch gradient descent on the squared loss (8 inputs, ``TRAIN_STEPS`` steps, learning rate
    ``0.5 N / λ_max(K^(3))``, the same for every width) for depth-3 ReLU networks; per width the mean over
    ``TRAIN_SEEDS`` seeds of the relative change ``|K_T - K_0|_F / |K_0|_F`` and the loss before/after. Along the
    way, every ``TRAIN_RECORD`` steps (``steps``): the relative change ``|K_t - K_0|_F / |K_0|_F`` of each network
    (``path``, ``(widths, seeds, len(steps))``) and one entry, ``K_t(x_0, x_0) / K_0(x_0, x_0)`` (``entry``, same
    shape)."""
    x, y = _train_data()
    _, k_inf = infinite_width_kernels(x, depth=3, activation="relu", beta=_BETA)
    lr = float(0.5 * x.shape[0] / np.linalg.eigvalsh(np.asarray(k_inf))[-1])
    change, l0, lt, path, entry = [], [], [], [], []
    for n in TRAIN_WIDTHS:
        # independent networks at every width (key 460 folded with the width)
        p = _nngp.draw_networks(jax.random.fold_in(jax.random.key(460), n), (4, n, n, 1), TRAIN_SEEDS)
        c, e, a, b = (np.asarray(v) for v in _train_change(p, x, y, lr, steps=TRAIN_STEPS, record=TRAIN_RECORD))
        path.append(c)
        entry.append(e)
        change.append(c[:, -1])
        l0.append(a.mean())
        lt.append(b.mean())
    change = np.array(change)
    return dict(
        widths=np.array(TRAIN_WIDTHS),
        change=change.mean(axis=1),
        change_se=standard_error(change),
        change_samples=change,
        loss_before=np.array(l0),
        loss_after=np.array(lt),
        learning_rate=lr,
        steps=np.arange(0, TRAIN_STEPS + 1, TRAIN_RECORD),
        path=np.array(path),
        entry=np.array(entry),
    )


@claim(
    CHAPTER,
    "During gradient descent the NTK moves by $O(1/n)$, inside the $O(n^{-1/2})$ bound: constant in the limit",
    equation="eq-kernel-change",
    source_holds=True,
    where="Deterministic NTK, proposition (2): stays constant during training",
)
def check_ntk_constant_in_training():
    t = training_study()
    return [
        *rate_checks(
            f"$\\lVert K_T - K_0\\rVert_F/\\lVert K_0\\rVert_F$ after {TRAIN_STEPS} GD steps vs width "
            f"{TRAIN_WIDTHS[0]}..{TRAIN_WIDTHS[-1]}",
            t["widths"].astype(float),
            t["change_samples"],
            -1.0,
            next_order=-0.5,
            alternative=-0.5,
            detail=f"{TRAIN_SEEDS} independent networks per width; $dK/dt = O(1/n)$ (Dyer & Gur-Ari 2020)",
        ),
        check_close(
            "the training did fit: mean loss after / before, at every width, below 0.2",
            np.max(t["loss_after"] / t["loss_before"]),
            0.0,
            atol=0.2,
        ),
    ]


# --------------------------------------------------------------------------- line 240: the chain rule's 1/sqrt(n_l)


def source_chain_rule_entries(
    params: list, x: jax.Array, *, activation: Any = "relu", beta: float = 0.0, scaled: bool = False
) -> jax.Array:
    """The source's entries ``∂f_m/∂θ̃_p = sum_i w_im σ'(Ã_i) ∂Ã_i/∂θ̃_p`` (source line 240) of the last layer's
    back-propagation, with ``∂Ã_i/∂θ̃_p`` by autodiff of the sub-network ``params[:-1]``; ``scaled`` puts the
    ``1/sqrt(n_l)`` of line 236 back. Returns ``(N, n_L, P̃)`` (``θ̃`` flattened leaf by leaf, as
    :func:`theta_tilde_jacobian`)."""
    return _chain_entries(params, jnp.asarray(x), jnp.asarray(beta, jnp.float64), activation=activation, scaled=scaled)


@functools.partial(jax.jit, static_argnames=("activation", "scaled"))
def _chain_entries(params, x, beta, *, activation, scaled):
    from .. import mlp

    sub, w = params[:-1], params[-1]["w"]
    sigma = _act_fn(activation)
    dsigma = _nngp.activation_derivative(sigma)

    def pre(s):
        return mlp.forward_unchecked(s, x, sigma, beta).pre[-1]

    j_sub = _flat_jacobian(jax.jacrev(pre)(sub), 2)  # (N, n_l, P̃): ∂Ã_i(x_a)/∂θ̃_p
    out = jnp.einsum("im,ai,aip->amp", w, dsigma(pre(sub)), j_sub)
    return out / jnp.sqrt(w.shape[0]) if scaled else out


def theta_tilde_jacobian(params: list, x: jax.Array, *, activation: Any = "relu", beta: float = 0.0) -> jax.Array:
    """``∂f_m(x_a)/∂θ̃_p`` of the whole network by autodiff, ``θ̃ = params[:-1]`` flattened leaf by leaf:
    ``(N, n_L, P̃)``."""
    return _theta_tilde_jacobian(params, jnp.asarray(x), jnp.asarray(beta, jnp.float64), activation=activation)


@functools.partial(jax.jit, static_argnames=("activation",))
def _theta_tilde_jacobian(params, x, beta, *, activation):
    from .. import mlp

    sigma = _act_fn(activation)

    def f(s):
        return mlp.forward_unchecked(s + [params[-1]], x, sigma, beta).pre[-1]

    return _flat_jacobian(jax.jacrev(f)(params[:-1]), 2)


def _flat_jacobian(tree, lead: int) -> jax.Array:
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.concatenate([a.reshape(a.shape[:lead] + (-1,)) for a in leaves], axis=-1)


@claim(
    CHAPTER,
    "The source's entry $\\partial f_m/\\partial \\tilde\\theta_p = \\sum_i w_{im} \\sigma'(\\tilde A_i) "
    "\\nabla_{\\tilde\\theta_p} \\tilde A_i$ drops the $1/\\sqrt{n_l}$ of the line above it",
    equation="eq-source-chain-rule",
    source_holds=False,
    where="Deterministic NTK, step (2), the entry of ∇_θ̃ f at (p, m) (source line 240)",
    source_says="∂f_m(x; θ)/∂θ̃_p = Σ_{i=1}^{n_l} w_im σ'(Ã_i) ∇_θ̃p Ã_i",
    truth="∂f_m(x; θ)/∂θ̃_p = (1/√n_l) Σ_i w_im σ'(Ã_i) ∂Ã_i/∂θ̃_p: the factor 1/√n_l of the matrix form on line 236 "
    "(and of the forward pass) is dropped, so the entry, and the NTK built from it, is √n_l, resp. n_l, times too large",
)
def check_source_chain_rule():
    # Everything but the factor is computed exactly: ∂Ã_i/∂θ̃_p by autodiff of the sub-network, the sum over i as
    # written. The NTK assembled from the source's entries keeps the last layer's blocks exact (line 250's errors
    # are 10-deterministic-ntk/source_entrywise), so the only departure is the missing 1/√n_l.
    p, x, emp = _source_case()
    kw = dict(activation="relu", beta=0.5)
    n = p[-1]["w"].shape[0]
    src = source_chain_rule_entries(p, x, **kw)
    auto = theta_tilde_jacobian(p, x, **kw)
    last = emp - jnp.einsum("amp,bnp->abmn", auto, auto)  # the last layer's blocks: the rest of the exact NTK
    ntk_src = last + jnp.einsum("amp,bnp->abmn", src, src)
    return [
        check_close(
            "source's $\\partial f_m/\\partial \\tilde\\theta_p$ as written vs autodiff "
            f"(relu, widths {_SRC_WIDTHS}, $\\beta = 0.5$, all $m$, $p$, $x$)",
            src,
            auto,
            atol=rounding(stages=10),
            expect=False,
        ),
        check_close(
            "the NTK with the source's $\\tilde\\theta$ block (last-layer blocks exact) vs the autodiff NTK",
            ntk_src,
            emp,
            atol=rounding(stages=10),
            expect=False,
        ),
        check_close(
            f"the source's entries vs $\\sqrt{{n_l}}$ times autodiff ($n_l = {n}$): the error is exactly the factor",
            src,
            math.sqrt(n) * auto,
            atol=rounding(math.sqrt(n), stages=10),
        ),
        check_close(
            "corrected, $\\frac{1}{\\sqrt{n_l}} \\sum_i w_{im} \\sigma'(\\tilde A_i) \\partial \\tilde A_i/\\partial "
            "\\tilde\\theta_p$ vs autodiff",
            source_chain_rule_entries(p, x, **kw, scaled=True),
            auto,
            atol=rounding(stages=10),
        ),
    ]


# --------------------------------------------------------------------------- K∞ positive definite, and convergence

CIRCLE_POINTS = 40
PD_DEPTHS = tuple(range(1, 9))
# the cases of the positive-definiteness study: (activation, β)
PD_CASES = (("relu", 0.1), ("erf", 0.1), ("relu", 0.0), ("erf", 0.0), ("identity", 0.1))


def circle_inputs(n: int = CIRCLE_POINTS) -> jax.Array:
    """``n`` equally spaced points of the unit circle, ``x_k = (cos φ_k, sin φ_k)``, ``φ_k = 2πk/n``: shape
    ``(n, 2)``. For even ``n``, ``x_{k + n/2} = -x_k``; every kernel here depends on ``φ_k - φ_j`` only, so its Gram
    matrix is circulant and its eigenvectors are the harmonics ``cos jφ``, ``sin jφ``."""
    phi = 2 * np.pi * np.arange(n) / n
    return jnp.asarray(np.stack([np.cos(phi), np.sin(phi)], axis=1), dtype=jnp.float64)


def kernels_by_depth(x: jax.Array, *, activation: Any, beta: float, depth: int) -> list[jax.Array]:
    """``[K^(1), ..., K^(depth)]`` on ``x`` (``x2 = x``), one recursion (the closed forms of
    :func:`ntkbook.nngp.kernel_map`), the same kernels as :func:`infinite_width_kernels` at each depth."""
    return list(_both_by_depth(x, jnp.asarray(beta, x.dtype), activation=activation, depth=depth)[1])


@functools.partial(jax.jit, static_argnames=("activation", "depth"))
def _both_by_depth(x, beta, *, activation, depth):
    # (Σ^(l), K^(l)) for l = 1..depth on x, one recursion: two (depth, N, N) arrays. A scan over the layers: one
    # layer to compile, whatever the depth.
    cov, v1, _ = _nngp.input_covariance_unchecked(x, None, beta)

    def layer(carry, _):
        s, k, v = carry
        m = _nngp.kernel_map(s, v, v, activation=activation)
        s = m.sigma + beta**2
        k = s + k * m.sigma_dot
        return (s, k, m.var1 + beta**2), (s, k)

    _, (ss, ks) = jax.lax.scan(layer, (cov, cov, v1), None, length=depth - 1)
    return jnp.concatenate([cov[None], ss]), jnp.concatenate([cov[None], ks])


@functools.partial(jax.jit, static_argnames=("activation",))
def _first_kernel_map(x, beta, *, activation):
    # Σ^(1) and Σ̇^(2) on x (x2 = x), in one compilation (run op by op, the kernel map compiles each operation)
    cov, v1, v2 = _nngp.input_covariance_unchecked(x, None, beta)
    return cov, _nngp.kernel_map(cov, v1, v2, activation=activation).sigma_dot


def eigen_tolerance(lam_max: float, n: int, depth: int) -> float:
    """The rounding allowance of an eigenvalue of a computed ``n x n`` kernel Gram matrix of depth ``depth``:
    ``rounding(λ_max, stages=n·depth)``. An eigensolver is backward stable (eigenvalues move by a few
    ``eps·n·‖K‖``) and each layer of the recursion rounds each entry by a few ``eps·‖K‖``; an eigenvalue at most
    this is zero as far as float64 can tell, one above it is positive."""
    return rounding(float(lam_max), stages=n * depth)


@functools.lru_cache(maxsize=1)
def pd_study() -> dict:
    """Eigenvalues of ``K^(L)`` on :func:`circle_inputs` for each of ``PD_CASES`` and ``PD_DEPTHS``: a dict
    ``(activation, β) -> (len(PD_DEPTHS), CIRCLE_POINTS)`` array (ascending), with ``"tolerance"`` of the same
    keys: :func:`eigen_tolerance` per depth."""
    x = circle_inputs()
    eig, tol = {}, {}
    for act, beta in PD_CASES:
        ks = kernels_by_depth(x, activation=act, beta=beta, depth=PD_DEPTHS[-1])
        lam = np.stack([np.linalg.eigvalsh(np.asarray(ks[d - 1])) for d in PD_DEPTHS])
        eig[act, beta] = lam
        tol[act, beta] = np.array([eigen_tolerance(lam[i, -1], x.shape[0], d) for i, d in enumerate(PD_DEPTHS)])
    return dict(eigenvalues=eig, tolerance=tol, depths=np.array(PD_DEPTHS))


def _even_directions(n: int = CIRCLE_POINTS) -> np.ndarray:
    """An orthonormal basis of the vectors with ``v(x) = v(-x)`` on :func:`circle_inputs`: ``(n, n/2)``."""
    h = n // 2
    v = np.zeros((n, h))
    v[np.arange(h), np.arange(h)] = v[np.arange(h) + h, np.arange(h)] = 1 / math.sqrt(2)
    return v


@claim(
    CHAPTER,
    "$K_\\infty$ is positive definite on distinct points of the sphere for a non-polynomial $\\sigma$ with a bias "
    "($\\beta > 0$) at depth $L \\ge 2$; without a bias an odd $\\sigma$, and a polynomial $\\sigma$ at any $\\beta$, leave "
    "it singular",
    equation="eq-kinf-pd",
)
def check_kinf_positive_definite():
    s = pd_study()
    n = CIRCLE_POINTS
    i3 = PD_DEPTHS.index(3)
    out = []
    lam = s["eigenvalues"]["relu", 0.1][i3]
    tol = s["tolerance"]["relu", 0.1][i3]
    noise = 4 * n * float(np.finfo(float).eps) * lam[-1]
    out.append(
        check_bound(
            f"relu, $\\beta = 0.1$, depth 3, {n} points of the circle: rounding allowance / "
            "$\\lambda_{\\min}(K_\\infty)$ (PD when $< 1$)",
            tol / lam[0],
            1.0,
            detail=f"$\\lambda_{{\\min}}/\\lambda_{{\\max}}$ = {shown(lam[0] / lam[-1], noise / lam[-1])}; allowance "
            "rounding($\\lambda_{\\max}$, stages $= N L$)",
        )
    )
    # erf is odd: with β = 0 every layer is odd, K∞(x, -x') = -K∞(x, x'), so K∞ v = 0 for every even v.
    k = np.asarray(kernels_by_depth(circle_inputs(), activation="erf", beta=0.0, depth=PD_DEPTHS[-1])[2])
    tol_erf = s["tolerance"]["erf", 0.0][i3]
    out.append(
        check_bound(
            f"erf, $\\beta = 0$, depth 3: max $\\lVert K_\\infty v\\rVert$ over the {n // 2} even directions "
            f"$v(x) = v(-x)$ (null space, rank $\\le {n // 2}$)",
            np.linalg.norm(k @ _even_directions(), axis=0),
            tol_erf,
        )
    )
    lam_id = s["eigenvalues"]["identity", 0.1][i3]
    tol_id = s["tolerance"]["identity", 0.1][i3]
    out.append(
        check_bound(
            "identity, $\\beta = 0.1$, depth 3: every $\\Sigma^{(l)}$ is $x \\cdot x'/n_0 + \\mathrm{const}$, so "
            f"$K_\\infty$ has rank $n_0 + 1 = 3$: $\\lvert\\lambda\\rvert$ of the other {n - 3} eigenvalues",
            np.abs(lam_id[:-3]),
            tol_id,
            detail="3rd largest $\\lambda$ / $\\lambda_{\\max}$ = "
            f"{shown(lam_id[-3] / lam_id[-1], 4 * n * float(np.finfo(float).eps))}",
        )
    )
    return out


def circle_labels(n: int = CIRCLE_POINTS) -> jax.Array:
    """The labels of the convergence claims on :func:`circle_inputs`: ``y = sin φ + cos 2φ``, shape ``(n,)``. Both
    harmonics are eigenvectors of every kernel here; ``cos 2φ`` is even (``y(-x) = y(x)``) and orthogonal to ``1``,
    ``cos φ``, ``sin φ``, so it lies in the null space of the erf (``β = 0``) and identity kernels."""
    phi = 2 * np.pi * np.arange(n) / n
    return jnp.asarray(np.sin(phi) + np.cos(2 * phi), dtype=jnp.float64)


def flow_residual(k: jax.Array, r0: jax.Array, t: float) -> jax.Array:
    """The residual ``r(t) = f(t) - 𝒴`` of gradient flow on the loss ``(1/2N)‖f - 𝒴‖²`` with the kernel frozen at
    ``k`` (the infinite-width dynamics ``dr/dt = -(1/N) K∞ r``): ``r(t) = exp(-t K∞/N) r(0)``, by
    ``jax.scipy.linalg.expm`` (no eigendecomposition). The source's ``η`` and its missing ``1/N`` rescale time
    only: the limit ``t -> ∞`` is the same."""
    return _flow_residual(k, r0, t)


@jax.jit
def _flow_residual(k, r0, t):
    # one compilation per size (expm run op by op compiles each of its many operations)
    return jax.scipy.linalg.expm(-t * k / k.shape[0]) @ r0


def residual_along_eigenvectors(activation: Any, beta: float, *, num_times: int = 41) -> dict:
    """The infinite-width flow's residual on :func:`circle_inputs`, from ``r(0) = -y`` (:func:`circle_labels`),
    resolved along the two harmonics of ``y``, each an eigenvector of the depth-3 ``K∞``: the components
    ``⟨r(t), u_j⟩`` of :func:`flow_residual` (a matrix exponential, no eigendecomposition), ``u_1 ∝ sin φ`` and
    ``u_2 ∝ cos 2φ``, beside the eigenvalues ``λ_j = u_jᵀ K∞ u_j`` that predict ``⟨r(0), u_j⟩ e^{-λ_j t/N}``.
    Times ``0 .. 8N/λ_1`` (``num_times`` of them). Returns ``times (T,)``, ``components (T, 2)``,
    ``eigenvalues (2,)``, ``initial (2,)`` and ``N``."""
    k, y, _ = _circle_case(activation, beta)
    n = k.shape[0]
    phi = 2 * np.pi * np.arange(n) / n
    u = np.stack([np.sin(phi), np.cos(2 * phi)], axis=1)
    u /= np.linalg.norm(u, axis=0)
    kn = np.asarray(k)
    lam = np.einsum("ij,ik,kj->j", u, kn, u)
    times = np.linspace(0.0, 8.0 * n / lam[0], num_times)
    r = np.asarray(jax.vmap(_flow_residual, in_axes=(None, None, 0))(k, -y, jnp.asarray(times)))
    return dict(times=times, components=r @ u, eigenvalues=lam, initial=-np.asarray(y) @ u, N=n)


def _circle_case(activation, beta, depth=3):
    x = circle_inputs()
    k = kernels_by_depth(x, activation=activation, beta=beta, depth=PD_DEPTHS[-1])[depth - 1]  # one compilation
    y = circle_labels()
    phi = 2 * np.pi * np.arange(x.shape[0]) / x.shape[0]
    s1 = jnp.asarray(np.sin(phi))
    lam1 = float(s1 @ k @ s1 / (s1 @ s1))  # the eigenvalue of sin φ (K is circulant)
    return k, y, lam1


# The decay the check allows for: the time at which the mode sin φ has decayed by e^-40.
_DECAY = 40.0


@claim(
    CHAPTER,
    "As written, gradient flow of an infinite-width network converges to the global minimum, "
    "$f \\to \\mathcal{Y}$: with a singular $K_\\infty$ the residual does not go to zero",
    equation="eq-flow-residual",
    source_holds=False,
    where="Infinite width networks (source line 157), read as the source's closed form f(θ) -> 𝒴 (line 309) "
    "and 'the loss has been minimized to zero' (line 317)",
    source_says="infinite width networks can converge to a global minimum when trained to minimize an empirical loss",
    truth="the residual f - 𝒴 tends to 0 for every label vector if and only if K∞ is positive definite on the "
    "training inputs; otherwise it tends to its projection on the null space of K∞",
)
def check_global_minimum_as_written():
    out = []
    for act, beta in (("erf", 0.0), ("identity", 0.1)):
        k, y, lam1 = _circle_case(act, beta)
        t = _DECAY * k.shape[0] / lam1
        r = flow_residual(k, -y, t)
        out.append(
            check_close(
                f"{act}, $\\beta = {beta:g}$, depth 3, $y = \\sin\\varphi + \\cos 2\\varphi$ on {CIRCLE_POINTS} points: "
                f"$\\lVert r(T)\\rVert/\\lVert r(0)\\rVert$ at $T = {_DECAY:g}N/\\lambda(\\sin\\varphi)$ vs 0 (converged)",
                jnp.linalg.norm(r) / jnp.linalg.norm(y),
                0.0,
                atol=math.exp(-_DECAY) + rounding(stages=CIRCLE_POINTS),
                expect=False,
            )
        )
    return out


@claim(
    CHAPTER,
    "Gradient flow with $K_\\infty$ reaches zero training loss for every labelling iff "
    "$\\lambda_{\\min}(K_\\infty) > 0$, at rate $e^{-\\lambda_{\\min} t/N}$; a singular $K_\\infty$ leaves the "
    "residual's null-space part",
    equation="eq-flow-residual",
)
def check_convergence_needs_pd():
    out = []
    k, y, lam1 = _circle_case("relu", 0.1)
    lam, u = np.linalg.eigh(np.asarray(k))
    n = k.shape[0]
    t = 20.0 * n / lam[0]  # e^-20: far above rounding
    r = flow_residual(k, jnp.asarray(u[:, 0]), t)
    out.append(
        check_close(
            "relu, $\\beta = 0.1$, depth 3 (PD): $\\lVert r(t)\\rVert$ from $r(0)$ = the eigenvector of "
            "$\\lambda_{\\min}$, at $t = 20N/\\lambda_{\\min}$, vs $e^{-\\lambda_{\\min} t/N}$ (the rate is "
            "$\\lambda_{\\min}$: it vanishes as $\\lambda_{\\min} \\to 0$)",
            jnp.linalg.norm(r) / math.exp(-lam[0] * t / n),
            1.0,
            # expm's relative error grows like eps·‖tK/N‖ = 20 eps λ_max/λ_min (about 3e-12 here)
            atol=rounding(_DECAY, stages=n),
        )
    )
    phi = 2 * np.pi * np.arange(n) / n
    c2 = jnp.asarray(np.cos(2 * phi))
    lam2 = float(c2 @ k @ c2 / (c2 @ c2))  # the eigenvalue of cos 2φ
    tt = _DECAY * n / min(lam1, lam2)
    out.append(
        check_close(
            "relu (PD), $y = \\sin\\varphi + \\cos 2\\varphi$: $\\lVert r(T)\\rVert/\\lVert r(0)\\rVert$ at "
            f"$T = {_DECAY:g}N/\\min(\\lambda(\\sin\\varphi), \\lambda(\\cos 2\\varphi))$ vs 0 (converged)",
            jnp.linalg.norm(flow_residual(k, -y, tt)) / jnp.linalg.norm(y),
            0.0,
            atol=math.exp(-_DECAY) + rounding(stages=n),
        )
    )
    for act, beta, kind in (("relu", 0.1, "PD"), ("erf", 0.0, "singular")):
        # the figure's statement: each eigen-component of r(t) (by the matrix exponential) on its own exponential
        # (by its Rayleigh quotient); expm's error grows like eps * |tK/N| = 8 eps lambda_max/lambda_1 at the end
        d = residual_along_eigenvectors(act, beta)
        predicted = d["initial"] * np.exp(-np.outer(d["times"], d["eigenvalues"]) / d["N"])
        stretch = 8.0 * float(np.linalg.eigvalsh(np.asarray(_circle_case(act, beta)[0]))[-1] / d["eigenvalues"][0])
        out.append(
            check_close(
                f"{act}, $\\beta = {beta:g}$ ({kind}): $\\langle r(t), u_j\\rangle$ along $u_1 \\propto \\sin\\varphi$, "
                "$u_2 \\propto \\cos 2\\varphi$ at 41 times vs $\\langle r(0), u_j\\rangle e^{-\\lambda_j t/N}$",
                d["components"],
                predicted,
                atol=rounding(float(np.abs(d["initial"]).max()) * stretch, stages=n),
            )
        )
    for act, beta in (("erf", 0.0), ("identity", 0.1)):
        k, y, lam1 = _circle_case(act, beta)
        tt = _DECAY * n / lam1
        r = flow_residual(k, -y, tt)
        out.append(
            check_close(
                f"{act}, $\\beta = {beta:g}$: $r(T)$ at $T = {_DECAY:g}N/\\lambda(\\sin\\varphi)$ vs $-\\cos 2\\varphi$, "
                "the projection of $r(0)$ on $\\ker K_\\infty$ ($\\lVert r\\rVert$ stays at $1/\\sqrt{2}$ of "
                "$\\lVert r(0)\\rVert$)",
                r / jnp.linalg.norm(y),
                -np.cos(2 * phi) / float(jnp.linalg.norm(y)),
                atol=math.exp(-_DECAY) + rounding(stages=n),
            )
        )
    return out


# --------------------------------------------------------------------------- the order of the limits, at depth 3

LIMIT_WIDTHS = (64, 256)
LIMIT_SEEDS = 256
SEQUENTIAL_SEEDS = 2000


def depth3_ntk_parts(params: list, x: jax.Array, *, beta: float) -> tuple[jax.Array, jax.Array]:
    """The NTK ``K_11(x, x')`` of a depth-3 ReLU network with one output, by the exact identity of
    :func:`ntkbook.infinite_ntk.finite_width_ntk` applied twice, and the part of its back-propagated term with ``i ≠ j``,
    ``(1/n_2) Σ_{i≠j} w_i w_j σ'(Ã_i(x)) σ'(Ã_j(x')) K^(2)_ij(x, x')`` (zero in the limit ``n_1 -> ∞``, where
    ``K^(2)_ij -> δ_ij K^(2)``). Without forming the ``n_2 x n_2`` kernel ``K^(2)_ij``: ``O(N² n_1 n_2)``.
    Returns two ``(N, N)`` arrays."""
    (w0, b0), (w1, b1), (w2, _) = [(p["w"], p["b"]) for p in params]
    n0, n1 = w0.shape
    n2 = w1.shape[1]
    h1 = x @ w0 / math.sqrt(n0) + beta * b0
    a1, d1 = jax.nn.relu(h1), (h1 > 0).astype(x.dtype)
    h2 = a1 @ w1 / math.sqrt(n1) + beta * b1
    a2, d2 = jax.nn.relu(h2), (h2 > 0).astype(x.dtype)
    k1 = x @ x.T / n0 + beta**2
    s1 = a1 @ a1.T / n1 + beta**2  # the feature part of K^(2)_ii
    s2 = a2 @ a2.T / n2 + beta**2
    u = w2[:, 0] * d2  # (N, n_2): w_i σ'(Ã_i(x))
    wu = d1 * (u @ w1.T)  # (N, n_1): σ'(Ã^(1)_k(x)) Σ_i w1_ki u_i(x)
    red = (s1 * (u @ u.T) + k1 * (wu @ wu.T) / n1) / n2
    q = (d1[:, None, :] * d1[None, :, :]) @ (w1**2)  # (N, N, n_2): Σ_k w1_ki² σ'σ'
    diag = (s1 * (u @ u.T) + k1 * jnp.einsum("ai,bi,abi->ab", u, u, q) / n1) / n2
    return s2 + red, red - diag


@jax.jit
def _simultaneous(params, x):
    return jax.vmap(lambda p: depth3_ntk_parts(p, x, beta=_BETA))(params)


@jax.jit
def _sequential(z, chol2, k2):
    # n_1 = ∞ first: the second layer's pre-activations are i.i.d. N(0, Σ^(2)) units and K^(2)_ij = δ_ij K^(2);
    # then the identity with the last layer's n_2 units. z: (S, N + 1, n_2) standard normals (units, then w).
    def one(zi):
        h2, w2 = chol2 @ zi[:-1], zi[-1]
        a2, d2 = jax.nn.relu(h2), (h2 > 0).astype(h2.dtype)
        return a2 @ a2.T / h2.shape[1] + _BETA**2 + ((d2 * w2**2) @ d2.T) / h2.shape[1] * k2

    return jax.vmap(one)(z)


@functools.lru_cache(maxsize=1)
def limits_study() -> dict:
    """Depth-3 ReLU networks (β = 0.1, one output) on the chapter's inputs, widths grown two ways. *Simultaneous*:
    ``n_1 = n_2 = n`` for ``n`` in ``LIMIT_WIDTHS``, ``LIMIT_SEEDS`` independent networks each: the NTK and its
    off-diagonal (``i ≠ j``) part, :func:`depth3_ntk_parts`. *Sequential* (the source's induction): ``n_1 = ∞``
    first, then ``n_2 = LIMIT_WIDTHS[0]``, ``SEQUENTIAL_SEEDS`` draws. Plus the limit ``K^(3)``."""
    x = chapter_inputs()
    s2, k2 = infinite_width_kernels(x, depth=2, activation="relu", beta=_BETA)
    _, k3 = infinite_width_kernels(x, depth=3, activation="relu", beta=_BETA)
    sim = {}
    for n in LIMIT_WIDTHS:
        params = _nngp.draw_networks(jax.random.key(480 + n), (x.shape[1], n, n, 1), LIMIT_SEEDS)
        k, off = _simultaneous(params, x)
        sim[n] = (np.asarray(k), np.asarray(off))
    z = _random.normal(jax.random.key(490), (SEQUENTIAL_SEEDS, x.shape[0] + 1, LIMIT_WIDTHS[0]))
    seq = np.asarray(_sequential(z, jnp.linalg.cholesky(s2), k2))
    return dict(simultaneous=sim, sequential=seq, k3=np.asarray(k3))


def _rejected(what: str, estimate: float, stderr: float, sigmas: float = 5.0) -> Any:
    """A check that ``estimate`` is at least ``sigmas`` standard errors away from 0 (an alternative rejected): the
    measured ``sigmas · stderr / |estimate|`` must be at most 1."""
    z = abs(estimate) / stderr
    return check_bound(
        what + f": {sigmas:g} SE / $\\lvert\\mathrm{{estimate}}\\rvert$ ($< 1$: 0 rejected at $z \\ge {sigmas:g}$)",
        sigmas * stderr / abs(estimate),
        1.0,
        detail=f"$z$ = {shown(z, 1e-6 * z, 2, 'g')}",
    )


@claim(
    CHAPTER,
    "Depth 3: widths grown one after the other (the source's induction) or together reach the same $K^{(3)}$; "
    "together, the off-diagonal terms $K^{(2)}_{ij}$ ($i \\ne j$) are nonzero at finite width and vanish like "
    "$n^{-1/2}$",
    equation="eq-red-limit",
)
def check_order_of_limits():
    s = limits_study()
    k3 = s["k3"]
    n0, n1 = LIMIT_WIDTHS
    seq = s["sequential"]
    k_sim, off = s["simultaneous"][n1]
    off_small = s["simultaneous"][n0][1]
    ms = (off**2).mean((1, 2))  # per network: mean square of the off-diagonal part over the 16 input pairs
    ms_small = (off_small**2).mean((1, 2))
    return [
        check_monte_carlo(
            f"sequential ($n_1 = \\infty$, then $n_2 = {n0}$): mean NTK of {SEQUENTIAL_SEEDS} networks vs $K^{{(3)}}$ "
            "(exact at every $n_2$)",
            seq.mean(0),
            k3,
            standard_error(seq, axis=0),
        ),
        check_monte_carlo(
            f"simultaneous ($n_1 = n_2 = {n1}$): mean NTK of {LIMIT_SEEDS} networks vs $K^{{(3)}}$",
            k_sim.mean(0),
            k3,
            standard_error(k_sim, axis=0),
            detail="the $O(1/n)$ bias is below the standard error",
        ),
        check_monte_carlo(
            f"simultaneous, $n = {n1}$: mean of the $i \\ne j$ part "
            "$\\frac{1}{n_2} \\sum_{i \\ne j} w_i w_j \\sigma'\\sigma' K^{(2)}_{ij}$ vs 0 "
            "($\\mathbb{E}[w_i w_j] = 0$)",
            off.mean(0),
            np.zeros_like(k3),
            standard_error(off, axis=0),
        ),
        _rejected(
            f"simultaneous, $n = {n1}$: mean square of the $i \\ne j$ part over {LIMIT_SEEDS} networks vs 0 (as at depth 2)",
            float(ms.mean()),
            float(standard_error(ms)),
        ),
        check_monte_carlo(
            f"$n \\times$ mean square of the $i \\ne j$ part: $n = {n0}$ vs $n = {n1}$ (it falls like $1/n_1$)",
            np.array(n0 * ms_small.mean()),
            np.array(n1 * ms.mean()),
            np.array(math.hypot(n0 * standard_error(ms_small), n1 * standard_error(ms))),
            detail="the $O(1/n)$ relative next-order term is below the standard error",
        ),
    ]


# --------------------------------------------------------------------------- the kernels against the angle

ANGLE_DEPTHS = (1, 2, 3, 4)
ANGLE_ACTIVATIONS = ("relu", "erf")
ANGLE_STRIDE = 2  # every 2nd angle of the curves (11 of them) carries a Monte Carlo point
ANGLE_WIDTH = 256
ANGLE_SEEDS = 32
ANGLE_SIGMAS = 5.0


def _angle_networks(p: list, depth: int) -> list:
    """The network of ``depth`` layers inside one of depth ``ANGLE_DEPTHS[-1]``: its first ``depth - 1`` layers and,
    as the readout, the first unit of layer ``depth`` (i.i.d. N(0, 1) entries, as every readout)."""
    return p[: depth - 1] + [{"w": p[depth - 1]["w"][:, :1], "b": p[depth - 1]["b"][:1]}]


def angle_kernels(params: list, x: jax.Array, *, activation: Any, beta: float) -> tuple[jax.Array, jax.Array]:
    """For one network of depth ``ANGLE_DEPTHS[-1]`` and each depth ``L >= 2`` of the network inside it
    (:func:`_angle_networks`): ``Σ̂(x_0, x) = σ(Ã(x_0))·σ(Ã(x))/n + β²``, the output's covariance given the hidden
    layers, and the empirical NTK ``K(x_0, x)``, for every row ``x`` of ``x`` (``x_0 = x[0]``): two
    ``(len(ANGLE_DEPTHS) - 1, N)`` arrays. The NTK by back-propagation from each readout, one forward pass for all
    depths: ``K = Σ_l (A^(l)(x_0)·A^(l)(x)/n_l + β²) δ^(l+1)(x_0)·δ^(l+1)(x)`` with ``δ^(l) = ∂f/∂Ã^(l)``
    (the library's :func:`ntkbook.ntk.layerwise_ntk`, network by network, is its test)."""
    from .. import mlp

    sigma = _act_fn(activation)
    dsigma = _nngp.activation_derivative(sigma)
    fwd = mlp.forward_unchecked(params, x, sigma, beta)
    s_hat, k = [], []
    for depth in ANGLE_DEPTHS[1:]:
        a = fwd.post[depth - 1]  # A^(L-1): the readout's input
        s_hat.append(a @ a[0] / a.shape[-1] + beta**2)
        kk = s_hat[-1]  # the readout's own parameters
        d = dsigma(fwd.pre[depth - 2]) * params[depth - 1]["w"][:, 0] / math.sqrt(a.shape[-1])  # ∂f/∂Ã^(L-1)
        for l in range(depth - 2, -1, -1):
            al = fwd.post[l]
            kk = kk + (al @ al[0] / al.shape[-1] + beta**2) * (d @ d[0])
            if l:
                w = params[l]["w"]
                d = dsigma(fwd.pre[l - 1]) * (d @ w.T) / math.sqrt(w.shape[0])
        k.append(kk)
    return jnp.stack(s_hat), jnp.stack(k)


@functools.partial(jax.jit, static_argnames=("activation",))
def _angle_batch(params, x, beta, *, activation):
    return jax.vmap(lambda p: angle_kernels(p, x, activation=activation, beta=beta))(params)


@functools.lru_cache(maxsize=1)
def angle_study() -> dict:
    """The NNGP ``Σ^(L)(x_0, x_θ)`` and the NTK ``K^(L)(x_0, x_θ)`` (β = 0.1) against the angle ``θ`` between
    ``x_0`` and ``x_θ``, both on :func:`circle_inputs` (``θ = 0, 2π/N, ..., π``), for each of ``ANGLE_ACTIVATIONS`` and
    ``ANGLE_DEPTHS``, and their Monte Carlo estimates at every ``ANGLE_STRIDE``-th angle: ``ANGLE_SEEDS`` networks of
    width ``ANGLE_WIDTH`` and depth ``ANGLE_DEPTHS[-1]`` (explicit key 500, the same for both activations), each
    giving the networks of depth ``L >= 2`` inside it (:func:`_angle_networks`; at ``L = 1`` both kernels of a
    network are ``Σ^(1)`` exactly); per angle the mean over networks of ``Σ̂`` and of the empirical NTK, with its
    standard error. A dict with ``theta``, ``theta_mc`` and, per activation, ``nngp``/``ntk``
    ``(len(ANGLE_DEPTHS), len(theta))`` curves and ``nngp_mc``/``ntk_mc``/``nngp_se``/``ntk_se``
    ``(len(ANGLE_DEPTHS) - 1, len(theta_mc))`` arrays."""
    x = circle_inputs()
    half = x.shape[0] // 2 + 1  # φ_k for k = 0..N/2: the angles 0..π from x_0 = (1, 0)
    theta = 2 * np.pi * np.arange(half) / x.shape[0]
    x_mc = x[:half:ANGLE_STRIDE]
    out: dict[str, Any] = dict(theta=theta, theta_mc=theta[::ANGLE_STRIDE])
    beta = jnp.asarray(_BETA, jnp.float64)
    widths = (2,) + (ANGLE_WIDTH,) * ANGLE_DEPTHS[-1]
    params = _nngp.draw_networks(jax.random.key(500), widths, ANGLE_SEEDS)
    for act in ANGLE_ACTIVATIONS:
        # the same call (activation, depth, shapes) as pd_study: one compilation for both
        s, k = _both_by_depth(x, beta, activation=act, depth=PD_DEPTHS[-1])
        d = len(ANGLE_DEPTHS)
        res = dict(nngp=np.asarray(s[:d, 0, :half]), ntk=np.asarray(k[:d, 0, :half]))
        for name, a in zip(("nngp", "ntk"), _angle_batch(params, x_mc, beta, activation=act)):
            a = np.asarray(a)  # (S, depths - 1, angles)
            res[name + "_mc"] = a.mean(0)
            res[name + "_se"] = standard_error(a, axis=0)
        out[act] = res
    return out


@claim(
    CHAPTER,
    "On the unit circle, $\\Sigma^{(L)}(x_0, x_\\theta)$ and $K^{(L)}(x_0, x_\\theta)$ against the angle $\\theta$ "
    "(ReLU and erf, depths 2 to 4) are the means over finite networks, within 5 standard errors",
    equation="eq-ntk-recursion",
)
def check_kernel_angle_monte_carlo():
    s = angle_study()
    k = len(s["theta_mc"])
    depths = f"depths {ANGLE_DEPTHS[1]}-{ANGLE_DEPTHS[-1]}"
    out = []
    for act in ANGLE_ACTIVATIONS:
        r = s[act]
        for name, sym, what in (
            (
                "nngp",
                "\\Sigma",
                "$\\hat\\Sigma = \\sigma(\\tilde A(x_0))\\cdot\\sigma(\\tilde A(x_\\theta))/n + \\beta^2$",
            ),
            ("ntk", "K", "the empirical NTK"),
        ):
            out.append(
                check_monte_carlo(
                    f"{act}, {depths}, {k} angles in $[0, \\pi]$: mean of {what} over {ANGLE_SEEDS} networks of width "
                    f"{ANGLE_WIDTH} vs ${sym}^{{(L)}}(x_0, x_\\theta)$",
                    r[name + "_mc"],
                    r[name][1:, ::ANGLE_STRIDE],
                    r[name + "_se"],
                    sigmas=ANGLE_SIGMAS,
                    detail="the $O(1/n)$ bias is below the standard error",
                )
            )
    return out
