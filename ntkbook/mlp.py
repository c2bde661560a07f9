"""Chapter 7 -- notation: the fully connected network in the NTK parameterization.

The network of the source survey (:cite:`weng2022ntk`, section "Notation"), after
:cite:`jacot2018ntk`. Widths ``(n_0, n_1, ..., n_L)``, ``L >= 1`` affine maps, indexed
``l = 0, ..., L-1``; layer ``l`` has weights ``w^(l)`` of shape ``(n_l, n_{l+1})`` and biases
``b^(l)`` of shape ``(n_{l+1},)``, every entry i.i.d. ``N(0, 1)``:

    A^(0)      = x                                               (n_0,)
    Ã^(l+1)    = n_l^{-1/2} w^(l)^T A^(l) + beta b^(l)           (n_{l+1},)
    A^(l+1)    = sigma(Ã^(l+1))                                  (l + 1 < L)
    f(x; θ)    = Ã^(L)                                           (n_L,)   -- no activation on the output

The ``1/sqrt(n_l)`` factor (the *NTK parameterization*) keeps every pre-activation's variance
``O(1)`` as the widths grow; the *standard parameterization* puts it in the initial variance of
``w`` instead, which gives the same network at initialization but different gradients.

Parameters are a list (length ``L``) of dicts ``{"w": (n_l, n_{l+1}), "b": (n_{l+1},)}`` -- a
JAX pytree, so ``jax.grad``/``jax.jacrev`` work on it directly.

References: :cite:`weng2022ntk` (Notation), :cite:`jacot2018ntk`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _random
from . import activations as _act
from .validate import all_finite, as_array, is_concrete, positive_float, positive_int, prng_key

CHAPTER = "07-notation"

__all__ = [
    "Forward",
    "second_moment",
    "second_moments",
    "apply",
    "forward",
    "init",
    "init_batch",
    "init_sweep",
    "num_params",
    "standard_normal",
    "standard_apply",
    "widths_of",
]

Params = list  # list of {"w": (n_l, n_{l+1}), "b": (n_{l+1},)}


# --------------------------------------------------------------------------- validation helpers


def _widths(widths: Any, name: str = "widths") -> tuple[int, ...]:
    if isinstance(widths, (str, bytes)) or not isinstance(widths, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of positive integers (n_0, ..., n_L), got {type(widths).__name__}")
    ws = tuple(widths)
    if len(ws) < 2:
        raise ValueError(f"{name} must have at least two entries (n_0, ..., n_L with L >= 1), got {ws!r}")
    return tuple(positive_int(n, f"{name}[{i}]") for i, n in enumerate(ws))


def widths_of(params: Any) -> tuple[int, ...]:
    """The widths ``(n_0, ..., n_L)`` of a parameter list, checking that its shapes chain up."""
    if not isinstance(params, (list, tuple)) or len(params) == 0:
        raise TypeError(f"params must be a non-empty list of {{'w', 'b'}} dicts, got {type(params).__name__}")
    widths: list[int] = []
    for l, layer in enumerate(params):
        if not isinstance(layer, dict) or set(layer) != {"w", "b"}:
            raise TypeError(f"params[{l}] must be a dict with keys 'w' and 'b', got {type(layer).__name__}"
                            + (f" with keys {sorted(layer)}" if isinstance(layer, dict) else ""))
        w_shape = tuple(np.shape(layer["w"]))
        b_shape = tuple(np.shape(layer["b"]))
        if len(w_shape) != 2:
            raise ValueError(f"params[{l}]['w'] must have shape (n_{l}, n_{l + 1}), got {w_shape}")
        if b_shape != (w_shape[1],):
            raise ValueError(f"params[{l}]['b'] must have shape ({w_shape[1]},) to match params[{l}]['w'] {w_shape}, got {b_shape}")
        if widths and widths[-1] != w_shape[0]:
            raise ValueError(f"params[{l}]['w'] must have {widths[-1]} rows (the width of layer {l}), got shape {w_shape}")
        if not widths:
            widths.append(int(w_shape[0]))
        widths.append(int(w_shape[1]))
    return tuple(widths)


def num_params(widths: Sequence[int]) -> int:
    """``P = sum_{l=0}^{L-1} (n_l + 1) n_{l+1}``: weights ``n_l n_{l+1}`` plus biases ``n_{l+1}`` per layer."""
    ws = _widths(widths)
    return int(sum((a + 1) * b for a, b in zip(ws[:-1], ws[1:])))


# --------------------------------------------------------------------------- the network


def init(key: jax.Array, widths: Sequence[int], *, dtype: Any = None) -> Params:
    """Draw the parameters: every entry of every ``w^(l)`` and ``b^(l)`` i.i.d. ``N(0, 1)``.

    Args:
      key: a JAX PRNG key; it is split into one key per layer (and per w/b).
      widths: ``(n_0, ..., n_L)``, ``L >= 1`` positive integers.
      dtype: floating dtype (default: float64 when x64 is enabled, else float32).

    Returns:
      a list of ``L`` dicts ``{"w": (n_l, n_{l+1}), "b": (n_{l+1},)}``.
    """
    key = prng_key(key, "key")
    ws = _widths(widths)
    if dtype is None:
        dtype = jnp.result_type(float)
    elif not jnp.issubdtype(jnp.dtype(dtype), jnp.floating):
        raise TypeError(f"dtype must be a floating dtype, got {dtype!r}")
    keys = jax.random.split(key, 2 * (len(ws) - 1))
    shapes = _leaf_shapes(ws)
    leaves = _random.normals(keys, shapes, dtype)  # the numbers of jax.random.normal(keys[i], shapes[i])
    return [{"w": leaves[2 * l], "b": leaves[2 * l + 1]} for l in range(len(ws) - 1)]


def _leaf_shapes(ws: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Shapes of ``w^(0), b^(0), w^(1), ...``, in the order of :func:`init`'s keys."""
    return [s for a, b in zip(ws[:-1], ws[1:]) for s in ((a, b), (b,))]


def init_batch(keys: jax.Array, widths: Sequence[int], *, dtype: Any = None) -> Params:
    """The parameters of one network per key, stacked: ``jax.vmap(lambda k: init(k, widths))(keys)``.

    The same numbers, drawn for all keys at once by :func:`init_sweep`.

    Args:
      keys: a batch of ``S`` PRNG keys (shape ``(S,)``, or ``(S, 2)`` for raw ``uint32`` keys).
      widths: ``(n_0, ..., n_L)``; dtype: as in :func:`init`.

    Returns:
      a list of ``L`` dicts ``{"w": (S, n_l, n_{l+1}), "b": (S, n_{l+1})}``.
    """
    return init_sweep(keys, [widths], dtype=dtype)[0]


def init_sweep(keys: jax.Array, widths_list: Sequence[Sequence[int]], *, dtype: Any = None) -> list[Params]:
    """``[init_batch(keys, widths) for widths in widths_list]`` for networks of one depth, drawn once.

    :func:`init` draws each leaf with its own key, and a draw is the first numbers of any longer
    draw with the same key (:mod:`ntkbook._random`). So each leaf is drawn once for all keys, at its
    largest size over ``widths_list``, and cut to each width: the numbers of separate :func:`init`
    calls, with the random draws compiled once for a whole width study (whatever the widths and the
    number of keys), so that a jitted study that takes the parameters as an input compiles no
    random draw at all. Under a trace it is ``vmap`` of :func:`init`.

    Args:
      keys: a batch of ``S`` PRNG keys (shape ``(S,)``, or ``(S, 2)`` for raw ``uint32`` keys).
      widths_list: widths ``(n_0, ..., n_L)`` of the networks, all with the same ``L``.
      dtype: as in :func:`init`.

    Returns:
      one parameter list per entry of ``widths_list``, leaves ``(S, n_l, n_{l+1})`` and ``(S, n_{l+1})``.
    """
    keys = prng_key(keys, "keys")
    typed = jnp.issubdtype(keys.dtype, jax.dtypes.prng_key)
    if keys.ndim != (1 if typed else 2) or keys.shape[0] == 0:
        raise ValueError(f"keys must be a non-empty batch of PRNG keys (e.g. jax.random.split(key, S)), got shape {keys.shape}")
    if isinstance(widths_list, (str, bytes)) or not isinstance(widths_list, Sequence) or len(widths_list) == 0:
        raise TypeError(f"widths_list must be a non-empty sequence of widths, got {type(widths_list).__name__}")
    wss = [_widths(ws, f"widths_list[{j}]") for j, ws in enumerate(widths_list)]
    if len({len(ws) for ws in wss}) != 1:
        raise ValueError(f"widths_list must hold networks of one depth, got {[len(ws) - 1 for ws in wss]} layers")
    if dtype is not None and not jnp.issubdtype(jnp.dtype(dtype), jnp.floating):
        raise TypeError(f"dtype must be a floating dtype, got {dtype!r}")
    if not is_concrete(keys) or not jax.config.jax_threefry_partitionable:
        return [jax.vmap(lambda k, ws=ws: init(k, ws, dtype=dtype))(keys) for ws in wss]
    L = len(wss[0]) - 1
    drawn = _random.split_normals(keys, 2 * L, [_leaf_shapes(ws) for ws in wss], dtype)
    return [[{"w": jax.device_put(lv[2 * l]), "b": jax.device_put(lv[2 * l + 1])} for l in range(L)] for lv in drawn]


def standard_normal(key: jax.Array, shape: Sequence[int], dtype: Any = None) -> jax.Array:
    """``jax.random.normal(key, shape, dtype)``, the same numbers, compiled once per power-of-two
    size instead of once per shape (:func:`ntkbook._random.normal`): for the inputs of the claims."""
    return _random.normal(key, shape, dtype)


class Forward(NamedTuple):
    """All intermediate values of one forward pass, for a batch ``(N, .)`` or a single input.

    Attributes:
      pre: ``[Ã^(1), ..., Ã^(L)]`` (length ``L``), ``pre[l]`` of shape ``(N, n_{l+1})``; ``pre[-1] = f``.
      post: ``[A^(0) = x, A^(1), ..., A^(L-1)]`` (length ``L``), ``post[l]`` of shape ``(N, n_l)``:
        the input of affine map ``l``.
    """

    pre: list
    post: list

    @property
    def output(self) -> jax.Array:
        return self.pre[-1]


def _check_beta(beta: Any) -> float:
    if isinstance(beta, jax.core.Tracer):
        return beta
    return positive_float(beta, "beta", allow_zero=True)


def _as_input(x: Any) -> jax.Array:
    try:
        return as_array(x, "x", ndim=(1, 2))
    except jax.errors.TracerBoolConversionError:
        # A concrete x used inside a trace (e.g. closed over by lax.map/scan): the finiteness
        # test is itself traced there, so only the rank and dtype can be checked.
        return as_array(x, "x", ndim=(1, 2), finite=False)


def _check_finite_params(params) -> None:
    for l, layer in enumerate(params):
        for k in ("w", "b"):
            if not all_finite(layer[k]):
                raise ValueError(f"params[{l}]['{k}'] must be finite, got non-finite values (nan or inf)")


def _prepare(params, x, activation, beta):
    widths = widths_of(params)
    _check_finite_params(params)
    x = _as_input(x)
    if x.shape[-1] != widths[0]:
        raise ValueError(f"x must have last dimension n_0 = {widths[0]}, got shape {x.shape}")
    sigma = _act.get(activation, "activation")
    beta = _check_beta(beta)
    return widths, x, sigma, beta


def _forward(params, x, sigma, beta) -> Forward:
    a = x
    pre, post = [], []
    L = len(params)
    for l, layer in enumerate(params):
        n_l = layer["w"].shape[0]
        post.append(a)
        z = a @ layer["w"] / jnp.sqrt(jnp.asarray(n_l, dtype=layer["w"].dtype)) + beta * layer["b"]
        pre.append(z)
        if l + 1 < L:
            a = sigma(z)
    return Forward(pre, post)


_forward_jit = jax.jit(_forward, static_argnums=2)


def forward(params: Params, x: jax.Array, *, activation: Any = "relu", beta: float = 0.0) -> Forward:
    """One forward pass keeping every pre-activation ``Ã^(l+1)`` and post-activation ``A^(l)``.

    Args:
      params: from :func:`init`.
      x: inputs, shape ``(N, n_0)`` or ``(n_0,)``.
      activation: a name from :data:`ntkbook.activations.NAMES` or an elementwise callable.
      beta: the bias scale ``beta >= 0``.

    Returns:
      a :class:`Forward` (``pre``: ``L`` arrays ``(N, n_{l+1})``; ``post``: ``L`` arrays ``(N, n_l)``;
      without the leading ``N`` for a single input).
    """
    _, x, sigma, beta = _prepare(params, x, activation, beta)
    return _forward_jit(params, x, sigma, beta)


def apply(params: Params, x: jax.Array, *, activation: Any = "relu", beta: float = 0.0) -> jax.Array:
    """The network output ``f(x; θ) = Ã^(L)``: shape ``(N, n_L)`` for ``x`` of shape ``(N, n_0)``,
    ``(n_L,)`` for ``x`` of shape ``(n_0,)``.

    ``Ã^(l+1) = n_l^{-1/2} w^(l)^T A^(l) + beta b^(l)``, ``A^(l+1) = sigma(Ã^(l+1))``, no activation
    on the last layer. Works under ``jit``/``vmap``/``grad`` (shapes are checked while tracing).

    References: :cite:`weng2022ntk` (Notation), :cite:`jacot2018ntk`.
    """
    _, x, sigma, beta = _prepare(params, x, activation, beta)
    return _forward_jit(params, x, sigma, beta).pre[-1]


def standard_apply(params: Params, x: jax.Array, *, activation: Any = "relu", beta: float = 0.0) -> jax.Array:
    """The *standard parameterization* for comparison: ``Ã^(l+1) = w^(l)^T A^(l) + beta b^(l)``
    (no ``1/sqrt(n_l)``), same shapes and conventions as :func:`apply`. With ``w ~ N(0, 1)`` its
    pre-activation variance grows like ``n_l``; rescaling the initial ``w`` by ``n_l^{-1/2}`` gives
    the same function as :func:`apply` at initialization.
    """
    _, x, sigma, beta = _prepare(params, x, activation, beta)
    a = x
    L = len(params)
    for l, layer in enumerate(params):
        z = a @ layer["w"] + beta * layer["b"]
        if l + 1 < L:
            a = sigma(z)
    return z


# --------------------------------------------------------------------------- the chapter's experiments


def second_moments(
    key: jax.Array,
    configs: Sequence[Sequence[int]],
    xs: Sequence[jax.Array],
    *,
    activation: Any = "relu",
    beta: float = 0.0,
    parameterization: str = "ntk",
    samples: int = 1000,
) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo estimates of ``E[f_m(x)^2]`` over the initialization, with standard errors, for
    several networks at once (one compiled program for all of them).

    For each network ``widths = configs[c]`` and input ``xs[c]`` (shape ``(n_0,)``), draws
    ``samples`` independent initializations (``vmap`` over keys ``fold_in(key, c)`` split
    ``samples`` ways), averages ``f_m(x)^2`` over the ``n_L`` outputs of each draw, and treats the
    per-draw averages as the i.i.d. replicates (the outputs of one draw share the hidden layers,
    so they are not independent of each other).

    Args:
      key: PRNG key; configs: widths ``(n_0, ..., n_L)`` per network; xs: one input per network.
      parameterization: ``"ntk"`` (:func:`apply`) or ``"standard"`` (:func:`standard_apply`).

    Returns:
      ``(estimates, stderrs)``, each of shape ``(len(configs),)``.
    """
    key = prng_key(key, "key")
    if isinstance(configs, (str, bytes)) or not isinstance(configs, Sequence) or len(configs) == 0:
        raise TypeError(f"configs must be a non-empty sequence of widths, got {type(configs).__name__}")
    cfgs = tuple(_widths(c, f"configs[{i}]") for i, c in enumerate(configs))
    if not isinstance(xs, Sequence) or len(xs) != len(cfgs):
        raise ValueError(f"xs must be a sequence of {len(cfgs)} inputs (one per config), got {type(xs).__name__}")
    arrs = []
    for i, (ws, x) in enumerate(zip(cfgs, xs)):
        x = as_array(x, f"xs[{i}]", ndim=1)
        if x.shape != (ws[0],):
            raise ValueError(f"xs[{i}] must have shape ({ws[0]},), got {x.shape}")
        arrs.append(x)
    if parameterization not in ("ntk", "standard"):
        raise ValueError(f"parameterization must be 'ntk' or 'standard', got {parameterization!r}")
    samples = positive_int(samples, "samples", minimum=2)
    _act.get(activation, "activation")
    beta = positive_float(beta, "beta", allow_zero=True)
    keys = tuple(jax.random.split(jax.random.fold_in(key, i), samples) for i in range(len(cfgs)))
    both = _squared_outputs(keys, tuple(arrs), beta, cfgs, activation)  # (C, samples, 2)
    vals = np.asarray(both[:, :, 0 if parameterization == "ntk" else 1])  # (C, samples)
    return vals.mean(axis=1), vals.std(axis=1, ddof=1) / np.sqrt(samples)


def second_moment(key, widths, x, **kwargs) -> tuple[float, float]:
    """:func:`second_moments` for one network: ``(estimate, stderr)`` of ``E[f_m(x)^2]``."""
    est, se = second_moments(key, [widths], [x], **kwargs)
    return float(est[0]), float(se[0])


@functools.partial(jax.jit, static_argnums=(3, 4))
def _squared_outputs(keys, xs, beta, cfgs, activation):
    """``mean_m f_m(x)^2`` per draw, for both parameterizations of the same draw: ``(C, samples, 2)``
    (``[..., 0]``: :func:`apply`, ``[..., 1]``: :func:`standard_apply`). One compiled program serves
    both parameterizations (most of its compilation is the random draws, not the networks)."""

    def one(kk, x, ws):
        p = init(kk, ws, dtype=x.dtype)
        return jnp.stack([jnp.mean(fn(p, x, activation=activation, beta=beta) ** 2) for fn in (apply, standard_apply)])

    return jnp.stack([jax.vmap(lambda kk, x=x, ws=ws: one(kk, x, ws))(k) for k, x, ws in zip(keys, xs, cfgs)])


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


def elementwise_reference(params: Params, x: np.ndarray, *, activation: Any = "relu", beta: float = 0.0) -> np.ndarray:
    """The forward pass written entry by entry as in the source, in NumPy with explicit sums:
    ``Ã_m^(l+1) = n_l^{-1/2} sum_i w_im A_i^(l) + beta b_m`` -- an independent check of :func:`apply`.
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

from .claims import check_close, check_monte_carlo, check_slope, check_symbolic, claim  # noqa: E402

_ROUNDING_TOL = 1e-12  # two float64 evaluations of the same sums in different orders (|f| ~ 1, <= 64 terms)


@claim(CHAPTER, "A network with widths (n_0, ..., n_L) has L affine maps, l = 0, ..., L-1, not L + 1",
       equation="eq-forward", source_holds=False, where="Notation, forward pass",
       source_says="For l = 0, ..., L, each layer l defines an affine transformation with w^(l) in R^{n_l x n_{l+1}}",
       truth="there are L affine maps, l = 0, ..., L-1: w^(L) would need a width n_{L+1} that does not exist, and "
             "the source's own count P = sum_{l=0}^{L-1} (n_l + 1) n_{l+1} sums over L layers")
def check_layer_count():
    results = []
    for ws in [(3, 5, 2), (4, 8, 8, 1), (2, 3, 4, 5, 6)]:
        L = len(ws) - 1
        params = jax.eval_shape(lambda k, ws=ws: init(k, ws), jax.random.key(0))  # shapes only
        results.append(check_close(f"number of affine maps for widths {ws} (L = {L}) equals L + 1 = {L + 1} (as written)",
                                   len(params), L + 1, atol=0, expect=False))
    return results


@claim(CHAPTER, "The network has L affine maps (l = 0, ..., L-1) and the recursion ends at f = Ã^(L)", equation="eq-forward")
def check_layer_count_corrected():
    results = []
    for ws in [(3, 5, 2), (4, 8, 8, 1), (2, 3, 4, 5, 6)]:
        L = len(ws) - 1
        params = init(jax.random.key(0), ws)
        fwd = forward(params, jnp.ones(ws[0]))
        results.append(check_close(f"affine maps, pre-activations, layer inputs for widths {ws} all number L = {L}",
                                   [len(params), len(fwd.pre), len(fwd.post)], [L, L, L], atol=0))
    return results


@claim(CHAPTER, "P = sum_{l=0}^{L-1} (n_l + 1) n_{l+1} counts the parameters", equation="eq-num-params",
       source_holds=True, where="Notation")
def check_num_params():
    import sympy as sp

    results = []
    l = sp.symbols("l", integer=True, nonnegative=True)
    n = sp.IndexedBase("n")
    for L in (1, 2, 3, 5):
        # count the pytree as the shapes say: w^(l) has n_l * n_{l+1} entries, b^(l) has n_{l+1}
        by_shapes = sum(n[k] * n[k + 1] + n[k + 1] for k in range(L))
        source = sp.Sum((n[l] + 1) * n[l + 1], (l, 0, L - 1)).doit()
        results.append(check_symbolic(f"entries of w^(l), b^(l) summed over l = 0..{L - 1} equals the source's sum (L = {L})",
                                      by_shapes, source))
    examples = [(1, 1), (3, 5, 2), (10, 100, 100, 1), (784, 256, 128, 10)]
    # the pytree init returns, by shapes only (jax.eval_shape: no random numbers drawn)
    trees = [jax.eval_shape(lambda k, ws=ws: init(k, ws), jax.random.key(1)) for ws in examples]
    counted = [sum(int(np.prod(leaf.shape)) for leaf in jax.tree_util.tree_leaves(t)) for t in trees]
    formula = [sum((a + 1) * b for a, b in zip(ws[:-1], ws[1:])) for ws in examples]
    results.append(check_close(f"leaves of init(...) counted vs the formula for widths {examples}", counted, formula, atol=0))
    results.append(check_close("num_params(widths) vs the leaf count", [num_params(ws) for ws in examples], counted, atol=0))
    return results


@claim(CHAPTER, "apply computes the entrywise recursion of the source, for every activation", equation="eq-forward",
       source_holds=True, where="Notation, forward pass")
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
        results.append(check_close(f"{name}: batched apply vs explicit entrywise sums (beta = 0.7)", batch, ref, atol=_ROUNDING_TOL))
        results.append(check_close(f"{name}: batched vs one-input apply", batch, single, atol=_ROUNDING_TOL))
    return results


@claim(CHAPTER, "All parameters are drawn i.i.d. N(0, 1)", source_holds=True, where="Notation, initialization")
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
        check_monte_carlo(f"mean, second and fourth moments of all P = {P} parameters vs 0, 1, 3", est, np.array([0.0, 1.0, 3.0]), se),
        check_monte_carlo("lag-1 product of the flattened parameters vs 0 (independence)", corr, 0.0, 1 / np.sqrt(P - 1)),
    ]


_WIDTHS = (4, 16, 64, 256)


@functools.lru_cache(maxsize=None)
def _first_layer_variances(parameterization: str, beta: float) -> np.ndarray:
    """Rows ``(estimate, stderr, exact)`` of ``E[Ã^(1)_m(x)^2]`` for input widths ``_WIDTHS``
    (networks ``(n_0, 2)``, 2000 draws, one fixed x per width): ``|x|^2/n_0 + beta^2`` (NTK) or
    ``|x|^2 + beta^2`` (standard)."""
    xs = [standard_normal(jax.random.fold_in(jax.random.key(5), i), (n0,)) for i, n0 in enumerate(_WIDTHS)]
    key = jax.random.key(100 if parameterization == "ntk" else 150)
    est, se = second_moments(key, [(n0, 2) for n0 in _WIDTHS], xs, beta=beta, parameterization=parameterization, samples=2000)
    sq = np.array([float(x @ x) for x in xs])
    n0 = np.array(_WIDTHS, dtype=float)
    exact = sq / n0 + beta**2 if parameterization == "ntk" else sq + beta**2
    return np.stack([est, se, exact], axis=1)


@functools.lru_cache(maxsize=None)
def _hidden_layer_variances(parameterization: str, beta: float) -> np.ndarray:
    """Rows ``(estimate, stderr, exact)`` of ``E[f(x)^2]`` for ReLU networks ``(8, n, 1)``, hidden
    widths ``n`` in ``_WIDTHS``, 1000 draws: ``(|x|^2/8 + beta^2)/2 + beta^2`` (NTK) or
    ``n (|x|^2 + beta^2)/2 + beta^2`` (standard)."""
    x = standard_normal(jax.random.key(6), (8,))
    sq = float(x @ x)
    key = jax.random.key(200 if parameterization == "ntk" else 250)
    est, se = second_moments(key, [(8, n, 1) for n in _WIDTHS], [x] * len(_WIDTHS), activation="relu", beta=beta,
                             parameterization=parameterization, samples=1000)
    n = np.array(_WIDTHS, dtype=float)
    exact = np.full_like(n, (sq / 8 + beta**2) / 2 + beta**2) if parameterization == "ntk" else n * (sq + beta**2) / 2 + beta**2
    return np.stack([est, se, exact], axis=1)


@claim(CHAPTER, "NTK parameterization: Var Ã^(1)(x) = |x|^2/n_0 + beta^2 at every width", equation="eq-var-first")
def check_first_layer_variance():
    beta = 0.5
    ntk_ = _first_layer_variances("ntk", beta)
    sp_ = _first_layer_variances("standard", beta)
    return [
        check_monte_carlo(f"NTK: Monte Carlo E[Ã_m^(1)(x)^2] vs |x|^2/n_0 + beta^2, n_0 in {_WIDTHS}, 2000 draws x 2 outputs",
                          ntk_[:, 0], ntk_[:, 2], ntk_[:, 1]),
        check_monte_carlo(f"standard: Monte Carlo E[Ã_m^(1)(x)^2] vs |x|^2 + beta^2, n_0 in {_WIDTHS}, 2000 draws x 2 outputs",
                          sp_[:, 0], sp_[:, 2], sp_[:, 1]),
    ]


@claim(CHAPTER, "Through a ReLU layer the output variance is O(1) in the width under the NTK parameterization "
       "and grows like the width under the standard one", equation="eq-var-hidden")
def check_hidden_layer_variance():
    beta = 0.0  # so that the standard parameterization's variance is exactly proportional to n
    ntk_ = _hidden_layer_variances("ntk", beta)
    sp_ = _hidden_layer_variances("standard", beta)
    n = np.array(_WIDTHS, dtype=float)
    return [
        check_monte_carlo("NTK: Monte Carlo E[f(x)^2] vs (|x|^2/n_0 + beta^2)/2 + beta^2 for hidden widths "
                          f"{_WIDTHS}", ntk_[:, 0], ntk_[:, 2], ntk_[:, 1]),
        check_monte_carlo("standard: Monte Carlo E[f(x)^2] vs n (|x|^2 + beta^2)/2 + beta^2", sp_[:, 0], sp_[:, 2], sp_[:, 1]),
        # relative standard error of each estimate ~ 4.5% (1000 draws) -> slope standard error ~ 0.015; 0.075 = 5 of those
        check_slope("NTK: log-log slope of the output variance vs hidden width is 0", n, ntk_[:, 0], 0.0, atol=0.075),
        check_slope("standard: log-log slope of the output variance vs hidden width is 1", n, sp_[:, 0], 1.0, atol=0.075),
    ]


@claim(CHAPTER, "The standard parameterization with w^(l) scaled by n_l^(-1/2) is the same function")
def check_standard_equivalence():
    ws = (5, 32, 16, 3)
    params = init(jax.random.key(7), ws)
    scaled = [{"w": p["w"] / np.sqrt(p["w"].shape[0]), "b": p["b"]} for p in params]
    xs = standard_normal(jax.random.key(8), (6, ws[0]))
    return check_close("apply(params) vs standard_apply(w / sqrt(n_l)) on 6 inputs, tanh, beta = 0.3",
                       apply(params, xs, activation="tanh", beta=0.3),
                       standard_apply(scaled, xs, activation="tanh", beta=0.3), atol=_ROUNDING_TOL)


@claim(CHAPTER, "Each activation of the set is Lipschitz continuous: sup |sigma'| is finite and known",
       source_holds=True, where="Notation (sigma is Lipschitz continuous)")
def check_lipschitz():
    exact = lipschitz_constants()
    names = ("identity", "relu", "erf", "tanh", "sigmoid", "gelu")
    grid = [lipschitz_on_grid(a) for a in names]
    # grid step h = 1e-4: at an interior maximum sigma'' = 0, so the grid misses at most h^2 |sigma'''| / 8 < 1e-8
    return check_close(f"max |sigma'| on a grid of [-10, 10] vs the exact sup (sympy) for {names}",
                       grid, [exact[a][1] for a in names], atol=1e-8,
                       detail="exact: " + ", ".join(f"{a} {exact[a][1]:.6f}" for a in names))
