"""The small array dialect in which the dose engine's per-curve algorithm is written once.

The self-start, start grid, Levenberg-Marquardt iteration, covariance and limit fits
(:mod:`~kinresist.dose.log_dose_models`, :mod:`~kinresist.dose.curve_starts`,
:mod:`~kinresist.dose.lm`, :mod:`~kinresist.dose.covariance`,
:mod:`~kinresist.dose.limits`) are plain Python functions over "one curve". Run as they
are, with NumPy arrays whose *last* axis is the curve (points ``(m, n)``, per-curve
scalars ``(n,)``, parameter vectors ``(k, n)``), they are the vectorised NumPy backend.
Registered with numba (:func:`register_numba`), the same functions compile to the scalar
per-curve kernel of the numba backend (points ``(m,)``, scalars ``float``). Nothing is
written twice.

Rules of the dialect (what keeps one source valid in both modes):

* arithmetic and NumPy ufuncs (``np.exp``, ``np.maximum``, ``np.isfinite`` ...) only;
  per-curve choices through :func:`sel`, never ``if`` on data (``if`` on structural
  constants such as a fixed-parameter mask is fine);
* ``for i in points(m)`` visits every point: in NumPy mode it runs once with
  ``i = ...`` (all points at once), so its body must not accumulate; reductions over
  points go through :func:`dot`, :func:`psum`, :func:`pmin`, :func:`pmax`;
  ``for i in range(m)`` (integer index) is valid in both modes;
* outputs are written into arrays passed in (``out[q] = value``).

Model functions (:class:`~kinresist.dose.log_dose_models.LogDoseModel` ``shape``,
``h_inv``, ``tail``) are passed as arguments, so one kernel serves every model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "KERNELS",
    "any_true",
    "copy_if",
    "dot",
    "eig_minmax",
    "full",
    "gram",
    "kernel",
    "lnot",
    "pmax",
    "pmin",
    "points",
    "psum",
    "register_numba",
    "sel",
    "sort_by",
    "wsums",
]

#: every dialect function (registered with numba by :func:`register_numba`)
KERNELS: list[Callable[..., Any]] = []
#: the ones compiled into their callers (the per-iteration path)
INLINE: set[Callable[..., Any]] = set()


def kernel(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``fn`` as a dialect function (returned unchanged)."""
    KERNELS.append(fn)
    return fn


def hot(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A dialect function on the per-iteration path: compiled into its callers."""
    INLINE.add(fn)
    return kernel(fn)


# -- primitives: NumPy-mode implementations (numba ones in register_numba) ----------------
def sel(c: Any, a: Any, b: Any) -> Any:
    """``a`` where ``c`` else ``b``."""
    return np.where(c, a, b)


def lnot(c: Any) -> Any:
    """Logical not."""
    return np.logical_not(c)


def points(m: int) -> Any:
    """The point loop: ``range(m)`` compiled, a single all-points pass in NumPy mode."""
    return (Ellipsis,)


def dot(a: Any, b: Any) -> Any:
    """Σ over points of ``a·b`` (sequential, in point order)."""
    return np.einsum("i...,i...->...", a, b)


def gram(jac: Any, res: Any, idx: Any, a: Any, g: Any) -> None:
    """``a[q, j] = Σ jac[idx[q]]·jac[idx[j]]`` and ``g[q] = Σ jac[idx[q]]·res`` over points
    (symmetric ``a``; sums in point order). Compiled: each sum kept in a register (for
    k = 4, the 14 sums side by side in one pass over the points)."""
    k = len(idx)
    for q in range(k):
        for j in range(q + 1):
            a[q, j] = a[j, q] = dot(jac[idx[q]], jac[idx[j]])
        g[q] = dot(jac[idx[q]], res)


def wsums(wt: Any, u: Any, v: Any) -> tuple[Any, Any, Any]:
    """(Σ wt, Σ wt·u, Σ wt·v) over points (compiled: one pass)."""
    return psum(wt), dot(wt, u), dot(wt, v)


def psum(a: Any) -> Any:
    """Σ over points."""
    return np.sum(a, axis=0)


def pmin(a: Any) -> Any:
    """Minimum over points (NaN propagates)."""
    return np.min(a, axis=0)


def pmax(a: Any) -> Any:
    """Maximum over points (NaN propagates)."""
    return np.max(a, axis=0)


def copy_if(c: Any, src: Any, dst: Any) -> None:
    """``dst[...] = src`` for the curves where ``c`` (arrays of point rows)."""
    dst[...] = np.where(c, src, dst)


def any_true(c: Any) -> bool:
    """Whether ``c`` holds for any curve."""
    return bool(np.any(c))


def full(like: Any, value: Any) -> Any:
    """A per-curve scalar equal to ``value`` (shaped like ``like``)."""
    return np.full(np.shape(like), value)


def sort_by(key: Any, a: Any, b: Any, ks: Any, as_: Any, bs: Any) -> None:
    """Sort the points by ``key`` (ascending) into ``ks``; permute ``a``, ``b`` alike."""
    order = np.argsort(key, axis=0, kind="stable")
    ks[...] = np.take_along_axis(key, order, axis=0)
    as_[...] = np.take_along_axis(a, order, axis=0)
    bs[...] = np.take_along_axis(b, order, axis=0)


def eig_minmax(s: Any, k: int, scratch: Any) -> tuple[Any, Any]:
    """Smallest and largest eigenvalue of the symmetric ``(k, k)`` matrix ``s``."""
    mats = np.moveaxis(np.asarray(s), (0, 1), (-2, -1))
    ok = np.isfinite(mats).all(axis=(-2, -1))
    ev = np.linalg.eigvalsh(np.where(ok[..., None, None], mats, np.eye(k)))
    return np.where(ok, ev[..., 0], np.nan), np.where(ok, ev[..., -1], np.nan)


# -- numba ------------------------------------------------------------------------------
_REGISTERED = False


def register_numba() -> None:
    """Give every primitive its compiled (scalar) implementation and make every dialect
    function callable from compiled code. Idempotent; imports numba."""
    global _REGISTERED
    if _REGISTERED:
        return
    import math

    from numba.extending import overload, register_jitable

    # no function here allocates, so none needs reference counting: without it a call
    # costs no atomic incref/decref per array argument (a third of the run time)
    no_nrt: Any = {"_nrt": False}

    def ov(fn: Callable[..., Any], impl: Callable[..., Any]) -> None:
        overload(fn, strict=False, jit_options=no_nrt)(lambda *args: impl)

    def sel_(c, a, b):  # type: ignore[no-untyped-def]
        return a if c else b

    def lnot_(c):  # type: ignore[no-untyped-def]
        return not c

    def points_(m):  # type: ignore[no-untyped-def]
        return range(m)

    def dot_(a, b):  # type: ignore[no-untyped-def]
        s = 0.0
        for i in range(a.shape[0]):
            s += a[i] * b[i]
        return s

    def gram_(jac, res, idx, a, g):  # type: ignore[no-untyped-def]
        k = idx.shape[0]
        m = res.shape[0]
        if k == 4:  # the four-parameter fits: 14 sums side by side, one pass over the points
            j0, j1, j2, j3 = jac[idx[0]], jac[idx[1]], jac[idx[2]], jac[idx[3]]
            g0 = g1 = g2 = g3 = 0.0
            a00 = a10 = a11 = a20 = a21 = a22 = a30 = a31 = a32 = a33 = 0.0
            for i in range(m):
                v0, v1, v2, v3, r = j0[i], j1[i], j2[i], j3[i], res[i]
                g0 += v0 * r
                g1 += v1 * r
                g2 += v2 * r
                g3 += v3 * r
                a00 += v0 * v0
                a10 += v1 * v0
                a11 += v1 * v1
                a20 += v2 * v0
                a21 += v2 * v1
                a22 += v2 * v2
                a30 += v3 * v0
                a31 += v3 * v1
                a32 += v3 * v2
                a33 += v3 * v3
            g[0], g[1], g[2], g[3] = g0, g1, g2, g3
            a[0, 0], a[1, 1], a[2, 2], a[3, 3] = a00, a11, a22, a33
            a[1, 0] = a[0, 1] = a10
            a[2, 0] = a[0, 2] = a20
            a[2, 1] = a[1, 2] = a21
            a[3, 0] = a[0, 3] = a30
            a[3, 1] = a[1, 3] = a31
            a[3, 2] = a[2, 3] = a32
            return
        for q in range(k):
            jq = jac[idx[q]]
            s = 0.0
            for i in range(m):
                s += jq[i] * res[i]
            g[q] = s
            for j in range(q + 1):
                jj = jac[idx[j]]
                s = 0.0
                for i in range(m):
                    s += jq[i] * jj[i]
                a[q, j] = s
                a[j, q] = s

    def wsums_(wt, u, v):  # type: ignore[no-untyped-def]
        s0 = s1 = s2 = 0.0
        for i in range(wt.shape[0]):
            s0 += wt[i]
            s1 += wt[i] * u[i]
            s2 += wt[i] * v[i]
        return s0, s1, s2

    def psum_(a):  # type: ignore[no-untyped-def]
        s = 0.0
        for i in range(a.shape[0]):
            s += a[i]
        return s

    def pmin_(a):  # type: ignore[no-untyped-def]
        s = a[0]
        for i in range(1, a.shape[0]):
            s = np.minimum(s, a[i])
        return s

    def pmax_(a):  # type: ignore[no-untyped-def]
        s = a[0]
        for i in range(1, a.shape[0]):
            s = np.maximum(s, a[i])
        return s

    def copy_if_(c, src, dst):  # type: ignore[no-untyped-def]
        if c:
            for r in range(src.shape[0]):
                for i in range(src.shape[1]):
                    dst[r, i] = src[r, i]

    def any_true_(c):  # type: ignore[no-untyped-def]
        return c

    def full_(like, value):  # type: ignore[no-untyped-def]
        return value

    def sort_by_(key, a, b, ks, as_, bs):  # type: ignore[no-untyped-def]
        # stable insertion sort (a curve has few points); outputs must not alias inputs
        for i in range(key.shape[0]):
            kv, av, bv = key[i], a[i], b[i]
            j = i
            while j > 0 and ks[j - 1] > kv:
                ks[j], as_[j], bs[j] = ks[j - 1], as_[j - 1], bs[j - 1]
                j -= 1
            ks[j], as_[j], bs[j] = kv, av, bv

    def eig_minmax_(s, k, b):  # type: ignore[no-untyped-def]
        # cyclic Jacobi rotations on a copy (b is (k, k) scratch)
        for i in range(k):
            for j in range(k):
                b[i, j] = s[i, j]
        for _sweep in range(100):
            off = 0.0
            tot = 0.0
            for i in range(k):
                tot += b[i, i] * b[i, i]
                for j in range(i + 1, k):
                    off += b[i, j] * b[i, j]
            if off <= 1e-36 * tot or off == 0.0:
                break
            for p in range(k - 1):
                for q in range(p + 1, k):
                    apq = b[p, q]
                    if apq == 0.0:
                        continue
                    theta = (b[q, q] - b[p, p]) / (2.0 * apq)
                    t = 1.0 / (abs(theta) + math.sqrt(theta * theta + 1.0))
                    t = -t if theta < 0 else t
                    c = 1.0 / math.sqrt(t * t + 1.0)
                    sn = t * c
                    b[p, p] -= t * apq
                    b[q, q] += t * apq
                    b[p, q] = 0.0
                    b[q, p] = 0.0
                    for r in range(k):
                        if r != p and r != q:
                            brp, brq = b[r, p], b[r, q]
                            b[r, p] = b[p, r] = c * brp - sn * brq
                            b[r, q] = b[q, r] = sn * brp + c * brq
        lo = hi = b[0, 0]
        for i in range(1, k):
            lo = min(lo, b[i, i])
            hi = max(hi, b[i, i])
        return lo, hi

    for fn, impl in (
        (sel, sel_),
        (lnot, lnot_),
        (points, points_),
        (dot, dot_),
        (gram, gram_),
        (wsums, wsums_),
        (psum, psum_),
        (pmin, pmin_),
        (pmax, pmax_),
        (copy_if, copy_if_),
        (any_true, any_true_),
        (full, full_),
        (sort_by, sort_by_),
        (eig_minmax, eig_minmax_),
    ):
        ov(fn, impl)
    for fn in KERNELS:
        register_jitable(_nrt=False, inline="always" if fn in INLINE else "never")(fn)
    _REGISTERED = True
