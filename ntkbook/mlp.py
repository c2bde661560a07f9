"""The fully connected network in the NTK parameterization (chapter 7 of the book, "Notation").

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
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _random
from . import activations as _act
from .validate import all_finite, as_array, is_concrete, nonnegative_float, positive_float, positive_int, prng_key

__all__ = [
    "Forward",
    "apply",
    "check_arguments",
    "check_widths",
    "forward",
    "forward_unchecked",
    "init",
    "init_batch",
    "init_sweep",
    "num_params",
    "second_moment",
    "second_moments",
    "standard_apply",
    "standard_normal",
    "widths_of",
]

Params = list  # list of {"w": (n_l, n_{l+1}), "b": (n_{l+1},)}


# --------------------------------------------------------------------------- validation helpers


def check_widths(widths: Any, name: str = "widths") -> tuple[int, ...]:
    """``widths`` checked to be ``(n_0, ..., n_L)``, ``L >= 1``, positive integers: returned as a tuple of ints.

    ``name`` is the argument's name in the error messages (``TypeError`` for a non-sequence or a
    non-integer entry, ``ValueError`` for fewer than two entries or an entry below 1).
    """
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
            raise TypeError(
                f"params[{l}] must be a dict with keys 'w' and 'b', got {type(layer).__name__}"
                + (f" with keys {sorted(layer)}" if isinstance(layer, dict) else "")
            )
        w_shape = tuple(np.shape(layer["w"]))
        b_shape = tuple(np.shape(layer["b"]))
        if len(w_shape) != 2:
            raise ValueError(f"params[{l}]['w'] must have shape (n_{l}, n_{l + 1}), got {w_shape}")
        if b_shape != (w_shape[1],):
            raise ValueError(
                f"params[{l}]['b'] must have shape ({w_shape[1]},) to match params[{l}]['w'] {w_shape}, got {b_shape}"
            )
        if widths and widths[-1] != w_shape[0]:
            raise ValueError(
                f"params[{l}]['w'] must have {widths[-1]} rows (the width of layer {l}), got shape {w_shape}"
            )
        if not widths:
            widths.append(int(w_shape[0]))
        widths.append(int(w_shape[1]))
    return tuple(widths)


def num_params(widths: Sequence[int]) -> int:
    """``P = sum_{l=0}^{L-1} (n_l + 1) n_{l+1}``: weights ``n_l n_{l+1}`` plus biases ``n_{l+1}`` per layer."""
    ws = check_widths(widths)
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
    ws = check_widths(widths)
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
    draw with the same key (``ntkbook._random``). So each leaf is drawn once for all keys, at its
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
        raise ValueError(
            f"keys must be a non-empty batch of PRNG keys (e.g. jax.random.split(key, S)), got shape {keys.shape}"
        )
    if isinstance(widths_list, (str, bytes)) or not isinstance(widths_list, Sequence) or len(widths_list) == 0:
        raise TypeError(f"widths_list must be a non-empty sequence of widths, got {type(widths_list).__name__}")
    wss = [check_widths(ws, f"widths_list[{j}]") for j, ws in enumerate(widths_list)]
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
    size instead of once per shape (``ntkbook._random.normal``): for seeded inputs of any shape."""
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


def _check_finite_params(params) -> None:
    for l, layer in enumerate(params):
        for k in ("w", "b"):
            if not all_finite(layer[k]):
                raise ValueError(f"params[{l}]['{k}'] must be finite, got non-finite values (nan or inf)")


def check_arguments(params: Params, x: Any, activation: Any = "relu", beta: Any = 0.0):
    """The arguments of :func:`apply` checked and resolved, for callers that run the network themselves.

    Checks that ``params`` chain up and are finite, that ``x`` is a finite array ``(N, n_0)`` or
    ``(n_0,)`` with ``n_0`` the network's input width, that ``activation`` names an activation (or is
    callable) and that ``beta >= 0`` (a traced ``beta`` passes unchecked).

    Returns:
      ``(widths, x, sigma, beta)``: the widths ``(n_0, ..., n_L)``, ``x`` as a floating array, the
      activation as an elementwise callable, and ``beta``.
    """
    widths = widths_of(params)
    _check_finite_params(params)
    x = as_array(x, "x", ndim=(1, 2))
    if x.shape[-1] != widths[0]:
        raise ValueError(f"x must have last dimension n_0 = {widths[0]}, got shape {x.shape}")
    sigma = _act.get(activation, "activation")
    beta = nonnegative_float(beta, "beta")
    return widths, x, sigma, beta


def forward_unchecked(params: Params, x: jax.Array, sigma: Callable[[jax.Array], jax.Array], beta: Any) -> Forward:
    """The forward pass of :func:`forward` without any checks (traceable; not jitted): ``sigma`` an
    elementwise callable, arguments as returned by :func:`check_arguments`. ``x`` of shape
    ``(N, n_0)`` or ``(n_0,)``."""
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


_forward_jit = jax.jit(forward_unchecked, static_argnums=2)


def forward(params: Params, x: jax.Array, *, activation: Any = "relu", beta: float = 0.0) -> Forward:
    """One forward pass keeping every pre-activation ``Ã^(l+1)`` and post-activation ``A^(l)``.

    Args:
      params: from :func:`init`.
      x: inputs, shape ``(N, n_0)`` or ``(n_0,)``.
      activation: a name from ``ntkbook.activations.NAMES`` or an elementwise callable.
      beta: the bias scale ``beta >= 0``.

    Returns:
      a :class:`Forward` (``pre``: ``L`` arrays ``(N, n_{l+1})``; ``post``: ``L`` arrays ``(N, n_l)``;
      without the leading ``N`` for a single input).
    """
    _, x, sigma, beta = check_arguments(params, x, activation, beta)
    return _forward_jit(params, x, sigma, beta)


def apply(params: Params, x: jax.Array, *, activation: Any = "relu", beta: float = 0.0) -> jax.Array:
    """The network output ``f(x; θ) = Ã^(L)``: shape ``(N, n_L)`` for ``x`` of shape ``(N, n_0)``,
    ``(n_L,)`` for ``x`` of shape ``(n_0,)``.

    ``Ã^(l+1) = n_l^{-1/2} w^(l)^T A^(l) + beta b^(l)``, ``A^(l+1) = sigma(Ã^(l+1))``, no activation
    on the last layer. Works under ``jit``/``vmap``/``grad`` (shapes are checked while tracing).

    References: :cite:`weng2022ntk` (Notation), :cite:`jacot2018ntk`.
    """
    _, x, sigma, beta = check_arguments(params, x, activation, beta)
    return _forward_jit(params, x, sigma, beta).pre[-1]


def standard_apply(params: Params, x: jax.Array, *, activation: Any = "relu", beta: float = 0.0) -> jax.Array:
    """The forward pass of the *standard parameterization*: ``Ã^(l+1) = w^(l)^T A^(l) + beta b^(l)``
    (no ``1/sqrt(n_l)``), same shapes and conventions as :func:`apply`.

    The standard parameterization of the literature initializes ``w^(l)`` with variance ``1/n_l``: pass
    such weights (``w / sqrt(n_l)`` of :func:`init`'s) and this is the same function as :func:`apply` at
    initialization (the same forward law), with different gradients. With :func:`init`'s ``N(0, 1)``
    weights as they are it is the *unscaled* network, whose pre-activation variance grows like ``n_l``
    (chapter 7 compares the three).
    """
    _, x, sigma, beta = check_arguments(params, x, activation, beta)
    a = x
    L = len(params)
    for l, layer in enumerate(params):
        z = a @ layer["w"] + beta * layer["b"]
        if l + 1 < L:
            a = sigma(z)
    return z


# --------------------------------------------------------------------------- Monte Carlo over the initialization


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
      parameterization: ``"ntk"`` (:func:`apply`) or ``"unscaled"`` (:func:`standard_apply` on the same
        ``N(0, 1)`` draws: no ``1/sqrt(n_l)`` anywhere -- not the standard parameterization, which scales
        the weights' initial variance).

    Returns:
      ``(estimates, stderrs)``, each of shape ``(len(configs),)``.
    """
    key = prng_key(key, "key")
    if isinstance(configs, (str, bytes)) or not isinstance(configs, Sequence) or len(configs) == 0:
        raise TypeError(f"configs must be a non-empty sequence of widths, got {type(configs).__name__}")
    cfgs = tuple(check_widths(c, f"configs[{i}]") for i, c in enumerate(configs))
    if not isinstance(xs, Sequence) or len(xs) != len(cfgs):
        raise ValueError(f"xs must be a sequence of {len(cfgs)} inputs (one per config), got {type(xs).__name__}")
    arrs = []
    for i, (ws, x) in enumerate(zip(cfgs, xs)):
        x = as_array(x, f"xs[{i}]", ndim=1)
        if x.shape != (ws[0],):
            raise ValueError(f"xs[{i}] must have shape ({ws[0]},), got {x.shape}")
        arrs.append(x)
    if parameterization not in ("ntk", "unscaled"):
        raise ValueError(
            f"parameterization must be 'ntk' or 'unscaled', got {parameterization!r}"
            + (
                " (N(0, 1) weights without 1/sqrt(n_l) are 'unscaled'; see mlp.standard_apply)"
                if parameterization == "standard"
                else ""
            )
        )
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
    (``[..., 0]``: :func:`apply`, ``[..., 1]``: :func:`standard_apply`, the unscaled network). One compiled
    program serves both (most of its compilation is the random draws, not the networks)."""

    def one(kk, x, ws):
        p = init(kk, ws, dtype=x.dtype)
        return jnp.stack([jnp.mean(fn(p, x, activation=activation, beta=beta) ** 2) for fn in (apply, standard_apply)])

    return jnp.stack([jax.vmap(lambda kk, x=x, ws=ws: one(kk, x, ws))(k) for k, x, ws in zip(keys, xs, cfgs)])
