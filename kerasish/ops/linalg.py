"""``keras.ops.linalg``: linear algebra on torch tensors (batched over
leading axes; integer inputs computed in float32).

Example:
    >>> from kerasish import ops
    >>> ops.linalg.det(ops.eye(3) * 2).item()
    8.0
"""

from __future__ import annotations

import torch

from kerasish.ops.numpy import _common, _floatify, _tt, norm  # norm: ops.linalg.norm is ops.norm

__all__ = [
    "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "logdet", "lstsq", "lu_factor", "matrix_rank", "norm",
    "pinv", "qr", "slogdet", "solve", "solve_triangular", "svd",
]


def _square(x, fn):
    x = _floatify(_tt(x))
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{fn}: expected (..., n, n) square matrices, got shape {tuple(x.shape)}")
    return x


def _matrix(x, fn):
    x = _floatify(_tt(x))
    if x.ndim < 2:
        raise ValueError(f"{fn}: expected (..., m, n) matrices, got shape {tuple(x.shape)}")
    return x


def cholesky(x, upper=False):
    """Cholesky factor of symmetric positive-definite ``x``: ``L`` with
    ``x = L @ L.T`` (``U`` with ``x = U.T @ U`` when ``upper``)."""
    x = _square(x, "cholesky")
    out, info = torch.linalg.cholesky_ex(x, upper=upper)
    if bool((info != 0).any()):
        raise ValueError(f"cholesky: input of shape {tuple(x.shape)} is not positive definite")
    return out


def cholesky_inverse(x, upper=False):
    """The inverse of ``A`` from its Cholesky factor ``x`` (lower, or upper when ``upper``)."""
    return torch.cholesky_inverse(_square(x, "cholesky_inverse"), upper=upper)


def det(x):
    """Determinant of square matrices."""
    return torch.linalg.det(_square(x, "det"))


def slogdet(x):
    """``(sign, log|det|)`` of square matrices."""
    return tuple(torch.linalg.slogdet(_square(x, "slogdet")))


def logdet(x):
    """``log(det(x))`` of (positive-definite) square matrices."""
    return torch.logdet(_square(x, "logdet"))


def eig(x):
    """Eigenvalues and eigenvectors of general square matrices (complex)."""
    return tuple(torch.linalg.eig(_square(x, "eig")))


def eigh(x):
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices."""
    return tuple(torch.linalg.eigh(_square(x, "eigh")))


def inv(x):
    """Inverse of square matrices."""
    return torch.linalg.inv(_square(x, "inv"))


def pinv(x, rcond=None):
    """Moore-Penrose pseudo-inverse (singular values below ``rcond * max`` dropped)."""
    x = _matrix(x, "pinv")
    return torch.linalg.pinv(x) if rcond is None else torch.linalg.pinv(x, rtol=rcond)


def matrix_rank(x, tol=None):
    """Numerical rank (singular values above ``tol``), as int32."""
    x = _matrix(x, "matrix_rank")
    out = torch.linalg.matrix_rank(x) if tol is None else torch.linalg.matrix_rank(x, atol=tol, rtol=0.0)
    return out.to(torch.int32)


def lu_factor(x):
    """LU factorisation with partial pivoting: ``(LU, pivots)`` with 0-based
    pivots (int32), as ``scipy.linalg.lu_factor``."""
    lu, piv = torch.linalg.lu_factor(_square(x, "lu_factor"))
    return lu, (piv - 1).to(torch.int32)


def qr(x, mode="reduced"):
    """QR decomposition ``(q, r)``; ``mode`` ``"reduced"`` or ``"complete"``."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: `mode` must be 'reduced' or 'complete', got {mode!r}")
    return tuple(torch.linalg.qr(_matrix(x, "qr"), mode=mode))


def svd(x, full_matrices=True, compute_uv=True):
    """Singular value decomposition ``(u, s, vh)`` with ``x = u @ diag(s) @ vh``;
    only ``s`` when not ``compute_uv``."""
    x = _matrix(x, "svd")
    if not compute_uv:
        return torch.linalg.svdvals(x)
    return tuple(torch.linalg.svd(x, full_matrices=full_matrices))


def _system(a, b, fn):
    a = _square(a, fn)
    b = _floatify(_tt(b))
    a, b = _common(a, b)
    if b.ndim == 0 or b.shape[0 if b.ndim == 1 else -2] != a.shape[-1]:
        raise ValueError(f"{fn}: `b` of shape {tuple(b.shape)} does not match `a` of shape {tuple(a.shape)}")
    return a, b


def solve(a, b):
    """``x`` with ``a @ x = b`` (``b`` of shape ``(..., n)`` or ``(..., n, k)``)."""
    a, b = _system(a, b, "solve")
    return torch.linalg.solve(a, b)


def solve_triangular(a, b, lower=False):
    """``x`` with ``a @ x = b`` for triangular ``a`` (upper unless ``lower``)."""
    a, b = _system(a, b, "solve_triangular")
    vec = b.ndim == a.ndim - 1
    out = torch.linalg.solve_triangular(a, b.unsqueeze(-1) if vec else b, upper=not lower)
    return out.squeeze(-1) if vec else out


def lstsq(a, b, rcond=None):
    """Least-squares ``x`` minimising ``|a @ x - b|`` (``a`` of shape ``(m, n)``)."""
    a = _matrix(a, "lstsq")
    b = _floatify(_tt(b))
    a, b = _common(a, b)
    if b.shape[0] != a.shape[0]:
        raise ValueError(f"lstsq: `b` of shape {tuple(b.shape)} does not match `a` of shape {tuple(a.shape)}")
    vec = b.ndim == 1
    # the SVD driver treats rcond as numpy does (the default CPU driver does not)
    out = torch.linalg.lstsq(a, b.unsqueeze(-1) if vec else b, rcond=rcond, driver="gelsd").solution
    return out.squeeze(-1) if vec else out



def jvp(fun, primals, tangents, has_aux=False):
    """Forward-mode Jacobian-vector product of ``fun`` at ``primals`` along ``tangents``.

    Args:
        fun: a function of tensors (torch / kerasish.ops operations).
        primals: a tuple or list of its positional arguments.
        tangents: the same structure and shapes as ``primals``.
        has_aux: ``fun`` returns ``(output, aux)``; ``aux`` is passed through.

    Returns:
        ``(primals_out, tangents_out)``, or ``(primals_out, tangents_out, aux)``.

    Example:
        >>> from kerasish import ops
        >>> out, tangent = ops.jvp(ops.sin, (ops.convert_to_tensor(0.0),), (ops.convert_to_tensor(2.0),))
        >>> float(out), float(tangent)
        (0.0, 2.0)
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"jvp: `primals` and `tangents` must be tuples or lists, got {type(primals).__name__} and {type(tangents).__name__}")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: `primals` has {len(primals)} items, `tangents` {len(tangents)}")
    p = tuple(_tt(x) for x in primals)
    t = tuple(_tt(x) for x in tangents)
    for n, (a, b) in enumerate(zip(p, t)):
        if a.shape != b.shape:
            raise ValueError(f"jvp: primal {n} has shape {tuple(a.shape)}, its tangent {tuple(b.shape)}")
    return torch.func.jvp(fun, p, t, has_aux=has_aux)
