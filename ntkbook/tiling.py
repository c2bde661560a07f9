"""Kernel matrices in tiles: bounded device memory, any N, and the tiles sharded over devices.

A kernel matrix ``K(x1, x2)`` of ``N1 x N2`` entries (times any per-pair output shape) is computed
tile by tile: the rows of ``x1`` and of ``x2`` are cut into blocks of ``tile_size``, and
``kernel_fn(x1_block, x2_block)`` is evaluated for each pair of blocks. Only one step's tiles are
on the device at a time; the result is assembled in host memory (``numpy``), or written into
arrays the caller provides (``out=``, e.g. ``numpy.memmap`` files for matrices larger than RAM).

Any kernel whose entry ``(a, b)`` depends only on ``x1[a]`` and ``x2[b]`` works:
:func:`ntkbook.infinite_ntk.infinite_width_kernels` (``(Σ, K)``), ``ntkbook._fast.kernels``,
:func:`ntkbook.ntk.empirical_ntk` (``(N1, N2, n_L, n_L)``), ... With ``x2 = None`` the tiles on the
diagonal are computed as ``kernel_fn(block, None)``, exactly as the untiled call does it for the
whole batch (so a kernel's special handling of ``x2 = None`` -- an exact diagonal -- carries over).

Where JAX sees several devices, the tiles are sharded over them with JAX's own machinery: each
step stacks one tile per device, places the stack with a :class:`jax.sharding.NamedSharding` over a
one-axis :class:`jax.sharding.Mesh` (axis ``"tiles"``), and one ``jit(shard_map(...))`` program
evaluates ``kernel_fn`` on every device's tile. On a CPU this can be tried with
``XLA_FLAGS=--xla_force_host_platform_device_count=4`` (set before JAX starts).

Exactness: each entry is computed by the same elementwise code whether tiled or not; it can differ
from the untiled result only through the matrix product ``x1 x2ᵀ`` (or the Jacobian contraction),
which a BLAS may sum in a different order for a different block shape -- a few units of rounding
at most, and in practice bit for bit for blocks of two rows or more (``tests/test_tiling.py`` measures it).

References: :cite:`novak2022fast` (the cost of empirical NTKs, batched evaluation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from .validate import as_array, as_callable, positive_int

__all__ = ["DEFAULT_TILE", "mesh_for", "tile_plan", "tiled"]

DEFAULT_TILE = 1024
_AXIS = "tiles"


def tile_plan(n1: int, n2: int | None, tile_size: int, *, symmetric: bool = False) -> list[tuple[int, int, bool]]:
    """The tiles to compute: ``(i, j, on_diagonal)`` for row block ``i`` and column block ``j``.

    ``n2 = None`` means ``x2 = x1`` (square, diagonal tiles flagged); ``symmetric`` then keeps only
    ``i <= j`` (the others are mirrored).
    """
    tile_size = positive_int(tile_size, "tile_size")
    nb1 = -(-positive_int(n1, "n1") // tile_size)
    nb2 = nb1 if n2 is None else -(-positive_int(n2, "n2") // tile_size)
    plan = []
    for i in range(nb1):
        for j in range(nb2):
            if n2 is None and symmetric and j < i:
                continue
            plan.append((i, j, n2 is None and i == j))
    return plan


def mesh_for(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A one-axis mesh (axis ``"tiles"``) over ``devices`` (default: all of ``jax.devices()``)."""
    devs = list(jax.devices() if devices is None else devices)
    if not devs:
        raise ValueError("devices must hold at least one device")
    return Mesh(np.array(devs), (_AXIS,))


def _pad_rows(x: np.ndarray, start: int, size: int) -> np.ndarray:
    """Rows ``start .. start + size`` of ``x``, padded by repeating the last row (padding rows give
    entries that are computed and dropped; repeating a real row keeps them finite)."""
    block = x[start : start + size]
    if block.shape[0] < size:
        block = np.concatenate([block, np.repeat(block[-1:], size - block.shape[0], axis=0)])
    return block


def _mirror(a: np.ndarray) -> np.ndarray:
    """``K(x', x)`` from ``K(x, x')``: swap the two input axes and reverse the per-pair axes
    (``K(x', x) = K(x, x')ᵀ`` for matrix-valued kernels)."""
    return np.transpose(a, (1, 0) + tuple(range(a.ndim - 1, 1, -1)))


def _check_leaves(leaves, ta, tb):
    for leaf in leaves:
        if not hasattr(leaf, "shape") or len(leaf.shape) < 2 or tuple(leaf.shape[:2]) != (ta, tb):
            raise ValueError(
                f"kernel_fn must return arrays of shape (len(x1_tile), len(x2_tile), ...) = ({ta}, {tb}, ...), "
                f"got {getattr(leaf, 'shape', type(leaf).__name__)}"
            )


def tiled(
    kernel_fn: Callable[[jax.Array, jax.Array | None], Any],
    x1: Any,
    x2: Any = None,
    *,
    tile_size: int = DEFAULT_TILE,
    symmetric: bool = False,
    devices: Sequence[jax.Device] | str | None = "auto",
    out: Any = None,
) -> Any:
    """Evaluate ``kernel_fn(x1, x2)`` tile by tile, with bounded device memory.

    Args:
      kernel_fn: ``kernel_fn(a, b)`` maps blocks ``a`` ``(Ta, n_0)`` and ``b`` ``(Tb, n_0)`` (or ``b = None``,
        meaning ``b = a``) to an array of shape ``(Ta, Tb, ...)`` or a tuple/list of them; entry
        ``(p, q)`` may depend only on ``a[p]`` and ``b[q]``. E.g.
        ``functools.partial(infinite_width_kernels, depth=3)`` or
        ``lambda a, b: empirical_ntk(f, params, a, b)``.
      x1: ``(N1, n_0)``; x2: ``(N2, n_0)`` or ``None`` (``x2 = x1``).
      tile_size: rows per block, ``>= 1``; every call of ``kernel_fn`` sees ``tile_size`` rows on each
        side (the last block is padded by repeating its last row, and the padding is dropped), so it
        is compiled at most twice. Device memory ~ one tile's working set per device.
      symmetric: with ``x2 = None``, compute only tiles on and above the diagonal and mirror the rest
        (for kernels with ``K(x', x) = K(x, x')ᵀ``; halves the work).
      devices: ``"auto"`` (every device of ``jax.devices()``; sharded when there are several),
        ``None`` (no sharding, the default device) or a list of devices to shard the tiles over.
      out: optional preallocated host array(s) of the full shape, matching ``kernel_fn``'s structure
        (e.g. ``numpy.memmap``); written in place and returned.

    Returns:
      the same structure as ``kernel_fn`` returns, as ``numpy`` arrays of shape ``(N1, N2, ...)``.

    Example:
      >>> nngp, ntk = tiled(functools.partial(infinite_width_kernels, depth=3), x, tile_size=2048)

    References: :cite:`novak2022fast`.
    """
    kernel_fn = as_callable(kernel_fn, "kernel_fn")
    tile_size = positive_int(tile_size, "tile_size")
    if not isinstance(symmetric, bool):
        raise TypeError(f"symmetric must be a bool, got {type(symmetric).__name__}")
    x1 = as_array(x1, "x1", ndim=2)
    if x2 is not None:
        x2 = as_array(x2, "x2", ndim=2)
        if x2.shape[1] != x1.shape[1]:
            raise ValueError(f"x1 and x2 must have the same input dimension, got shapes {x1.shape} and {x2.shape}")
        dtype = jnp.result_type(x1, x2)
        x1, x2 = x1.astype(dtype), x2.astype(dtype)
        if symmetric:
            raise ValueError("symmetric=True needs x2=None (a kernel of one batch with itself)")
    if x1.shape[0] == 0 or (x2 is not None and x2.shape[0] == 0):
        raise ValueError("x1 and x2 must hold at least one input each")
    if isinstance(devices, str):
        if devices != "auto":
            raise ValueError(f"devices must be 'auto', None or a list of devices, got {devices!r}")
        devices = jax.devices() if len(jax.devices()) > 1 else None
    n1 = x1.shape[0]
    n2 = n1 if x2 is None else x2.shape[0]
    t = tile_size
    plan = tile_plan(n1, None if x2 is None else n2, t, symmetric=symmetric)
    h1 = np.asarray(x1)
    h2 = h1 if x2 is None else np.asarray(x2)
    if devices is None or len(list(devices)) == 1:
        dev = None if devices is None else list(devices)[0]
        results = _run_single(kernel_fn, h1, h2, plan, t, dev)
    else:
        results = _run_sharded(kernel_fn, h1, h2, plan, t, mesh_for(devices))
    return _assemble(results, plan, n1, n2, t, symmetric, out)


def _call(kernel_fn, a, b, diag):
    res = kernel_fn(a, None) if diag else kernel_fn(a, b)
    leaves, treedef = jax.tree_util.tree_flatten(res)
    if not leaves:
        raise ValueError("kernel_fn returned no arrays")
    return leaves, treedef


def _run_single(kernel_fn, h1, h2, plan, t, device):
    """One tile per call, the next dispatched before the previous is copied to the host."""
    put = (lambda a: jax.device_put(a, device)) if device is not None else jnp.asarray
    pending, done = None, []
    for i, j, diag in plan:
        a = put(_pad_rows(h1, i * t, t))
        b = None if diag else put(_pad_rows(h2, j * t, t))
        leaves, treedef = _call(kernel_fn, a, b, diag)
        _check_leaves(leaves, t, t)
        if pending is not None:
            done.append(_host(pending))
        pending = ((i, j), leaves, treedef)
    done.append(_host(pending))
    return done


def _host(item):
    (i, j), leaves, treedef = item
    return (i, j), [np.asarray(leaf) for leaf in leaves], treedef


def _run_sharded(kernel_fn, h1, h2, plan, t, mesh):
    """Steps of ``d`` tiles (``d`` devices): the stacked blocks are placed with a NamedSharding over the
    ``"tiles"`` axis and one ``jit(shard_map(kernel_fn))`` evaluates every device's tile."""
    d = mesh.devices.size
    sharding = NamedSharding(mesh, P(_AXIS))
    programs = {}

    def program(diag):
        if diag not in programs:

            def body(a, b):
                leaves, treedef = _call(kernel_fn, a, b, diag)
                return treedef.unflatten(leaves)

            programs[diag] = jax.jit(
                jax.shard_map(body, mesh=mesh, in_specs=(P(_AXIS), P(_AXIS)), out_specs=P(_AXIS), check_vma=False)
            )
        return programs[diag]

    done = []
    for diag in (True, False):
        tiles = [p for p in plan if p[2] == diag]
        pending = None
        for s in range(0, len(tiles), d):
            step = tiles[s : s + d]
            step = step + [step[-1]] * (d - len(step))  # pad the last step with copies (dropped)
            a = np.concatenate([_pad_rows(h1, i * t, t) for i, _, _ in step])
            b = np.concatenate([_pad_rows(h2, j * t, t) for _, j, _ in step])
            res = program(diag)(jax.device_put(a, sharding), jax.device_put(b, sharding))
            leaves, treedef = jax.tree_util.tree_flatten(res)
            _check_leaves(leaves, d * t, t)
            if pending is not None:
                done.extend(_unstack(pending))
            pending = (tiles[s : s + d], leaves, treedef)
        if pending is not None:
            done.extend(_unstack(pending))
    return done


def _unstack(item):
    step, leaves, treedef = item
    t = leaves[0].shape[1]
    host = [np.asarray(leaf) for leaf in leaves]
    return [((i, j), [h[k * t : (k + 1) * t] for h in host], treedef) for k, (i, j, _) in enumerate(step)]


def _assemble(results, plan, n1, n2, t, symmetric, out):
    (_, leaves0, treedef) = results[0]
    if out is None:
        outs = [np.empty((n1, n2) + leaf.shape[2:], leaf.dtype) for leaf in leaves0]
    else:
        outs = jax.tree_util.tree_leaves(out)
        want = [(n1, n2) + leaf.shape[2:] for leaf in leaves0]
        if len(outs) != len(leaves0) or any(tuple(o.shape) != w for o, w in zip(outs, want)):
            raise ValueError(
                f"out must match kernel_fn's output: shapes {want}, got {[getattr(o, 'shape', None) for o in outs]}"
            )
    for (i, j), leaves, _ in results:
        r0, c0 = i * t, j * t
        r1, c1 = min(r0 + t, n1), min(c0 + t, n2)
        for o, leaf in zip(outs, leaves):
            o[r0:r1, c0:c1] = leaf[: r1 - r0, : c1 - c0]
            if symmetric and i != j:
                o[c0:c1, r0:r1] = _mirror(leaf[: r1 - r0, : c1 - c0])
    return treedef.unflatten(outs)
