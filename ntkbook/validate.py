"""Input validation shared by the public functions: clear errors naming the argument.

Every public function of ntkbook checks its inputs here first, so that bad input gives a
``TypeError``/``ValueError`` that names the argument and what was expected -- never a silent
NaN or a deep JAX trace. The checks run on concrete values only: under ``jit`` tracing,
values are unknown and only shapes and dtypes are checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "all_finite",
    "as_array",
    "as_callable",
    "input_pair",
    "is_concrete",
    "nonnegative_float",
    "positive_float",
    "positive_int",
    "prng_key",
]


def is_concrete(x: Any) -> bool:
    """True when ``x`` has a value now (not a tracer inside ``jit``/``vmap``/``grad``)."""
    return not isinstance(x, jax.core.Tracer)


def as_array(x: Any, name: str, *, ndim: int | tuple[int, ...] | None = None, finite: bool = True) -> jax.Array:
    """Convert ``x`` to a floating JAX array, checking rank and (when concrete) finiteness.

    Integer and boolean inputs are promoted to JAX's default float dtype. A concrete array closed
    over inside a trace (``lax.map``, ``scan``) is checked for rank and dtype only: there the
    finiteness test is itself traced.
    """
    if isinstance(x, (str, bytes)) or x is None or callable(x) and not hasattr(x, "shape"):
        raise TypeError(f"{name} must be an array of real numbers, got {type(x).__name__}")
    try:
        arr = jnp.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers, got {type(x).__name__}") from exc
    if jnp.issubdtype(arr.dtype, jnp.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        arr = arr.astype(jnp.result_type(float))
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} dimension(s), got shape {arr.shape}")
    if finite:
        try:
            ok = all_finite(arr)
        except jax.errors.TracerBoolConversionError:
            ok = True
        if not ok:
            raise ValueError(f"{name} must be finite, got non-finite values (nan or inf)")
    return arr


def all_finite(x: Any) -> bool:
    """True when every entry of ``x`` is finite; always True for a traced value (unknown until run).

    The test runs in NumPy on the concrete values: a jitted ``jnp.isfinite`` would be compiled
    afresh for every new shape (tens of milliseconds each), and a concrete array closed over
    inside ``jit``/``vmap`` would be traced.
    """
    if not is_concrete(x):
        return True
    return bool(np.all(np.isfinite(np.asarray(x))))


def as_callable(f: Any, name: str) -> Callable[..., Any]:
    if not callable(f):
        raise TypeError(f"{name} must be callable, got {type(f).__name__}")
    return f


def positive_int(n: Any, name: str, *, minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(n).__name__}")
    if n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {n}")
    return int(n)


def positive_float(x: Any, name: str, *, allow_zero: bool = False) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    x = float(x)
    if not np.isfinite(x) or (x < 0 if allow_zero else x <= 0):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} and finite, got {x}")
    return x


def nonnegative_float(x: Any, name: str) -> Any:
    """A number ``>= 0`` and finite, as a float; a traced value (under ``jit``/``vmap``/``grad``) passes
    unchecked, since its value is unknown until run."""
    if not is_concrete(x):
        return x
    return positive_float(x, name, allow_zero=True)


def input_pair(x1: Any, x2: Any) -> tuple[jax.Array, jax.Array | None]:
    """Two sets of network inputs: ``x1 (N1, n_0)`` and ``x2 (N2, n_0)`` or ``None``, finite, with the
    same ``n_0`` and at least one row each; returned in one common floating dtype."""
    x1 = as_array(x1, "x1", ndim=2)
    if x1.shape[0] == 0 or x1.shape[1] == 0:
        raise ValueError(f"x1 must have shape (N1, n_0) with N1, n_0 >= 1, got {x1.shape}")
    if x2 is None:
        return x1, None
    x2 = as_array(x2, "x2", ndim=2)
    if x2.shape[0] == 0:
        raise ValueError(f"x2 must have shape (N2, n_0) with N2 >= 1, got {x2.shape}")
    if x2.shape[1] != x1.shape[1]:
        raise ValueError(f"x1 and x2 must have the same number of features n_0, got shapes {x1.shape} and {x2.shape}")
    dtype = jnp.result_type(x1, x2)
    return x1.astype(dtype), x2.astype(dtype)


def prng_key(key: Any, name: str = "key") -> jax.Array:
    """Accept a new-style typed key or a raw uint32[2] key; refuse anything else."""
    arr = key
    if isinstance(arr, jax.Array) and jnp.issubdtype(arr.dtype, jax.dtypes.prng_key):
        return arr
    try:
        arr = jnp.asarray(arr) if not isinstance(arr, (int, float, str)) and arr is not None else None
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.dtype != jnp.uint32 or arr.shape[-1:] != (2,):
        raise TypeError(
            f"{name} must be a JAX PRNG key (jax.random.key or jax.random.PRNGKey), got {type(key).__name__}"
        )
    return arr
