"""Normal draws that compile once per size, not once per shape: the numbers of ``jax.random.normal``.

Every ``jax.random.normal`` is compiled anew for each shape, and its threefry hash costs 0.1-0.3 s
of XLA compilation on a CPU -- most of the run time of a chapter that draws networks of many
widths. JAX's threefry is counter-based (``jax_threefry_partitionable``, the default): entry ``i``
of a draw, in row-major order, depends on the key and ``i`` alone, so a draw of ``n`` numbers is
the first ``n`` numbers of any longer draw with the same key. The functions here draw longer rows,
of a few fixed lengths, and cut them: the same numbers, bit for bit (``tests/test_random.py``),
with far fewer compilations. With the legacy threefry they fall back to ``jax.random.normal``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .validate import is_concrete

MIN_LENGTH = 4096  # short draws share one compilation; 4096 normals take ~0.1 ms
KEY_CHUNK = 8  # batch draws take this many keys at a time, so their compilation does not depend on the batch


def _prefix_property() -> bool:
    return bool(jax.config.jax_threefry_partitionable)


def draw_length(size: int) -> int:
    """The number of normals drawn for ``size`` of them: a power of two, at least ``MIN_LENGTH``."""
    return max(MIN_LENGTH, 1 << max(size - 1, 0).bit_length())


def _dtype(dtype: Any) -> np.dtype:
    return jnp.dtype(jnp.result_type(float) if dtype is None else dtype)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _row(key, length, dtype):
    return jax.random.normal(key, (length,), dtype=dtype)


def normal(key: jax.Array, shape: Sequence[int], dtype: Any = None) -> jax.Array:
    """``jax.random.normal(key, shape, dtype)``, compiled once per :func:`draw_length`.

    Draws a row of ``draw_length(prod(shape))`` numbers, keeps the first ones and reshapes them on
    the host (a jitted slice would again compile once per shape). Inside a trace
    (``jit``/``vmap``/``grad``) it is ``jax.random.normal`` itself.

    Args:
      key: a JAX PRNG key; shape: the shape of the result; dtype: floating dtype (default float64
        when x64 is enabled, else float32).
    """
    shape = tuple(int(n) for n in shape)
    dtype = _dtype(dtype)
    if not is_concrete(key) or not _prefix_property():
        return jax.random.normal(key, shape, dtype=dtype)
    size = math.prod(shape)
    return jax.device_put(np.asarray(_row(key, draw_length(size), dtype))[:size].reshape(shape))


def group_by_length(sizes: Sequence[int]) -> list[list[int]]:
    """Indices of draws to make together, in rows as long as the group's first (largest) one: largest
    first, a draw joins the current group while the group draws at most twice the numbers it keeps,
    or at most ``2^14`` numbers in all."""
    groups: list[list[int]] = []
    for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        if groups:
            g = groups[-1]
            drawn, kept = (len(g) + 1) * sizes[g[0]], sum(sizes[j] for j in g) + sizes[i]
            if drawn <= max(2 * kept, 2**14):
                g.append(i)
                continue
        groups.append([i])
    return groups


def normals(keys: jax.Array, shapes: Sequence[tuple[int, ...]], dtype: Any = None) -> list[jax.Array]:
    """``[jax.random.normal(keys[i], shapes[i], dtype) for i ...]`` for a 1-D array of keys.

    Concrete keys: one :func:`normal` each. Inside a trace, where every draw adds its own threefry
    hash to the program being compiled, the draws are made in groups (:func:`group_by_length`): one
    ``vmap``-ed draw over the group's keys, rows as long as the group's largest, cut to length.
    """
    dtype = _dtype(dtype)
    if is_concrete(keys):
        return [normal(keys[i], s, dtype) for i, s in enumerate(shapes)]
    if not _prefix_property():
        return [jax.random.normal(keys[i], s, dtype=dtype) for i, s in enumerate(shapes)]
    sizes = [math.prod(s) for s in shapes]
    out: list[Any] = [None] * len(shapes)
    for g in group_by_length(sizes):
        n = sizes[g[0]]
        rows = jax.vmap(lambda k, n=n: jax.random.normal(k, (n,), dtype=dtype))(keys[np.array(g)])
        for r, i in enumerate(g):
            out[i] = rows[r, : sizes[i]].reshape(shapes[i])
    return out


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4, 5))
def _split_rows(data, impl, n_split, picks, length, dtype):
    """Split every key (raw key ``data``; ``impl`` its implementation, ``None`` for raw ``uint32``
    keys) into ``n_split`` keys and draw ``length`` normals with the keys at ``picks``:
    ``(S, len(picks), length)``."""
    keys = data if impl is None else jax.random.wrap_key_data(data, impl=impl)
    sub = jax.vmap(lambda k: jax.random.split(k, n_split))(keys)[:, np.array(picks)]
    return jax.vmap(jax.vmap(lambda k: jax.random.normal(k, (length,), dtype=dtype)))(sub)


def split_normals(
    keys: jax.Array, n_split: int, shapes_list: Sequence[Sequence[tuple[int, ...]]], dtype: Any = None
) -> list[list[np.ndarray]]:
    """For concrete keys ``(S,)``: split each key into ``n_split`` (``jax.random.split``) and draw
    with subkey ``i`` the ``i``-th shape of every entry of ``shapes_list``, stacked over the keys.

    ``out[j][i]`` is ``jax.vmap(lambda k: jax.random.normal(jax.random.split(k, n_split)[i],
    shapes_list[j][i], dtype))(keys)`` as a NumPy array: each subkey draws once, at the largest of
    its shapes over ``shapes_list`` (rounded up by :func:`draw_length`), for ``KEY_CHUNK`` keys
    at a time -- compiled once per group of lengths, whatever the shapes and the number of keys.
    Requires the counter-based threefry (``jax.config.jax_threefry_partitionable``).
    """
    if not _prefix_property():
        raise RuntimeError("split_normals needs jax_threefry_partitionable (JAX's default)")
    dtype = _dtype(dtype)
    typed = jnp.issubdtype(keys.dtype, jax.dtypes.prng_key)
    impl = jax.random.key_impl(keys) if typed else None
    data = np.asarray(jax.random.key_data(keys) if typed else keys)
    n_keys = data.shape[0]
    data = np.concatenate([data, np.repeat(data[-1:], -n_keys % KEY_CHUNK, axis=0)])
    chunks = [data[i : i + KEY_CHUNK] for i in range(0, data.shape[0], KEY_CHUNK)]
    longest = [max(math.prod(shapes[i]) for shapes in shapes_list) for i in range(n_split)]
    out: list[list[Any]] = [[None] * n_split for _ in shapes_list]
    for picks in group_by_length(longest):
        length = draw_length(longest[picks[0]])
        block = np.concatenate([np.asarray(_split_rows(c, impl, n_split, tuple(picks), length, dtype)) for c in chunks])
        for r, i in enumerate(picks):
            for j, shapes in enumerate(shapes_list):
                out[j][i] = block[:n_keys, r, : math.prod(shapes[i])].reshape((n_keys,) + tuple(shapes[i]))
    return out
