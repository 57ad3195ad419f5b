"""The engine's compiled kernels: loops that numba compiles to machine code, each doing in one pass
over its arrays what NumPy does in several (imported only through
:func:`nnscratch.engine.compiled.kernels`, which says whether they run).

Each kernel computes the same operations in the same order as the NumPy engine's code it
replaces, in the arrays' own dtype (the scalars come cast to it): an update reads a parameter,
its gradient and its state once and writes them once, where NumPy's fourteen passes for Adam read
and wrote each array again and again. ``error_model="numpy"`` lets a division be a plain division
(no Python ZeroDivisionError check in the loop), so that the compiler can vectorise it; no
``fastmath``: the rounding stays IEEE's, operation by operation. Each kernel is compiled twice
(:class:`Kernel`): its ``prange`` loop split over the threads that
:func:`nnscratch.engine.compiled.set_threads` allows, for arrays of at least
:data:`PARALLEL_VALUES`, and on the calling thread alone for smaller ones, where waking a thread
costs more than it saves. Compiled code is cached on disk (``cache=True``).

Arrays come flat (``reshape(-1)`` of contiguous arrays: views).
"""

import types
from typing import Any

import numpy as np
from numba import njit, prange

#: how every kernel is compiled (module docstring)
OPTIONS: dict[str, Any] = {"cache": True, "error_model": "numpy", "nogil": True}
#: values from which a kernel's loop is split over threads: 65,536 float32 values are 256 KB an
#: array; Adam on 50,000 values took 165 µs on one thread and 82 on two, on 10,000 32 and 20
PARALLEL_VALUES = 1 << 16


class Kernel:
    """A loop over the values of its first array, compiled twice from one function: parallel
    (``prange`` split over the threads) for arrays of at least :data:`PARALLEL_VALUES` values,
    serial below. Called as the function."""

    def __init__(self, function):
        self.__doc__ = function.__doc__
        # a copy under another name: numba's disk cache is keyed by the function's name
        serial = types.FunctionType(
            function.__code__, function.__globals__, function.__name__ + "_serial"
        )
        serial.__qualname__ = function.__qualname__ + "_serial"
        self.parallel = njit(parallel=True, **OPTIONS)(function)
        self.serial = njit(**OPTIONS)(serial)

    def __call__(self, first, *args):
        run = self.parallel if first.size >= PARALLEL_VALUES else self.serial
        return run(first, *args)


@Kernel
def sgd(p, g, lr):
    """W ← W − lr·g."""
    for i in prange(p.size):
        p[i] -= g[i] * lr


@Kernel
def momentum(p, g, v, alpha, lr, tiny, nesterov, flush):
    """v ← α·v − lr·g (entries below ``tiny`` set to 0 with ``flush``); W ← W + v, or with
    ``nesterov`` W ← W + (α·v − lr·g)."""
    zero = tiny - tiny  # 0 in the arrays' dtype: an int 0 would make the values float64
    for i in prange(p.size):
        lr_g = g[i] * lr
        vi = v[i] * alpha - lr_g
        if flush and abs(vi) < tiny:
            vi = zero
        v[i] = vi
        p[i] += vi * alpha - lr_g if nesterov else vi


@Kernel
def adagrad(p, g, h, lr, eps):
    """h ← h + g²; W ← W − lr·g / (√h + ε)."""
    for i in prange(p.size):
        gi = g[i]
        hi = h[i] + gi * gi
        h[i] = hi
        p[i] -= gi * lr / (np.sqrt(hi) + eps)


@Kernel
def rmsprop(p, g, h, rho, one_minus_rho, lr, eps, tiny, flush):
    """h ← ρ·h + (1 − ρ)·g² (entries below ``tiny`` set to 0 with ``flush``);
    W ← W − lr·g / (√h + ε)."""
    zero = tiny - tiny
    for i in prange(p.size):
        gi = g[i]
        hi = h[i] * rho + gi * gi * one_minus_rho
        if flush and abs(hi) < tiny:
            hi = zero
        h[i] = hi
        p[i] -= gi * lr / (np.sqrt(hi) + eps)


@Kernel
def adam(p, g, m, v, beta1, one_minus_beta1, beta2, one_minus_beta2, c1, c2, lr, eps, tiny,
         shrink, flush):  # fmt: skip
    """AdamW's step with W first shrunk (W ← W·shrink; Adam: shrink = 1 leaves it):
    m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g² (entries below ``tiny`` set to 0 with
    ``flush``), W ← W − lr·(m / c1) / (√(v / c2) + ε), c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ."""
    zero = tiny - tiny
    for i in prange(p.size):
        gi = g[i]
        mi = m[i] * beta1 + gi * one_minus_beta1
        vi = v[i] * beta2 + gi * gi * one_minus_beta2
        if flush:
            if abs(mi) < tiny:
                mi = zero
            if abs(vi) < tiny:
                vi = zero
        m[i] = mi
        v[i] = vi
        pi = p[i] * shrink if shrink != 1 else p[i]
        p[i] = pi - (mi / c1) * lr / (np.sqrt(vi / c2) + eps)


# --- sequence layers (nnscratch.engine.time_layers): arrays of rows (M, C) --------------------
# A literal (1, 0.5, an int count) meeting a float32 value would make it float64 in numba: such
# numbers come as arguments of the arrays' dtype (``n``, ``one``, ``half``).


@Kernel
def layer_norm(x, gamma, beta, eps, n, out, x_hat, std):
    """Each row of x (M, C), n = C: μ = mean x, σ = √(mean (x − μ)² + ε) (into ``std`` (M,)),
    x̂ = (x − μ) / σ (into ``x_hat``), out = γ·x̂ + β."""
    M, C = x.shape
    for r in prange(M):
        mu = x[r, 0] - x[r, 0]  # 0 in x's dtype
        for c in range(C):
            mu += x[r, c]
        mu /= n
        var = mu - mu
        for c in range(C):
            d = x[r, c] - mu
            var += d * d
        var /= n
        s = np.sqrt(var + eps)
        std[r] = s
        for c in range(C):
            xh = (x[r, c] - mu) / s
            x_hat[r, c] = xh
            out[r, c] = gamma[c] * xh + beta[c]


@Kernel
def layer_norm_backward(dout, x_hat, std, gamma, n, dx):
    """Each row, n = C: ∂L/∂x̂ = dout·γ, ∂L/∂x = (∂L/∂x̂ − mean ∂L/∂x̂ − x̂ · mean(∂L/∂x̂ · x̂)) / σ
    (into ``dx``)."""
    M, C = dout.shape
    for r in prange(M):
        mean_dxh = dout[r, 0] - dout[r, 0]
        mean_dxh_xh = mean_dxh
        for c in range(C):
            dxh = dout[r, c] * gamma[c]
            mean_dxh += dxh
            mean_dxh_xh += dxh * x_hat[r, c]
        mean_dxh /= n
        mean_dxh_xh /= n
        s = std[r]
        for c in range(C):
            dx[r, c] = (dout[r, c] * gamma[c] - mean_dxh - x_hat[r, c] * mean_dxh_xh) / s


@njit(**OPTIONS)
def column_sums(a, b, sum_a, sum_ab):
    """sum_a = Σ_rows a, sum_ab = Σ_rows a·b (a, b: (M, C)), row after row."""
    M, C = a.shape
    for c in range(C):
        sum_a[c] = a[0, c] - a[0, c]
        sum_ab[c] = sum_a[c]
    for r in range(M):
        for c in range(C):
            sum_a[c] += a[r, c]
            sum_ab[c] += a[r, c] * b[r, c]


@Kernel
def gelu_inner(x, a, c, u):
    """u = c·(x + a·x·x·x) (GELU's argument of tanh), as the NumPy engine orders it."""
    for i in prange(x.size):
        xi = x[i]
        u[i] = (xi * xi * xi * a + xi) * c


@Kernel
def gelu_outer(x, th, one, half, out):
    """out = ½·x·(1 + tanh u), as (tanh u + 1)·x·½."""
    for i in prange(x.size):
        out[i] = (th[i] + one) * x[i] * half


@Kernel
def gelu_backward(x, th, dout, a3, c, one, half, dx):
    """∂L/∂x = dout·(½(1 + tanh u) + ½·x·(1 − tanh²u)·c·(1 + 3a·x²)), a3 = 3a, as the NumPy engine
    orders it."""
    for i in prange(x.size):
        xi, ti = x[i], th[i]
        du = (xi * xi * a3 + one) * c
        dx[i] = ((one - ti * ti) * xi * half * du + (ti + one) * half) * dout[i]


@Kernel
def causal_softmax(scores, T, sqrt_d):
    """Rows of S (R, T), row r the query i = r mod T: S ← softmax_j≤i(S / √d), 0 for j > i
    (the causal mask's −∞), in place."""
    R = scores.shape[0]
    for r in prange(R):
        i = r % T
        m = scores[r, 0] / sqrt_d
        for j in range(i + 1):
            a = scores[r, j] / sqrt_d
            scores[r, j] = a
            m = max(m, a)
        s = m - m
        for j in range(i + 1):
            e = np.exp(scores[r, j] - m)
            scores[r, j] = e
            s += e
        for j in range(i + 1):
            scores[r, j] /= s
        for j in range(i + 1, T):
            scores[r, j] = s - s


@Kernel
def softmax_backward(dA, A, sqrt_d):
    """Rows: ∂L/∂S = (∂L/∂A − Σ_j ∂L/∂A·A) · A / √d, in place on ``dA``."""
    R, T = dA.shape
    for r in prange(R):
        s = dA[r, 0] - dA[r, 0]
        for j in range(T):
            s += dA[r, j] * A[r, j]
        for j in range(T):
            dA[r, j] = (dA[r, j] - s) * A[r, j] / sqrt_d


# --- dense layers (nnscratch.engine.layers): a batch of rows (N, D) ----------------------------


@njit(**OPTIONS)
def batch_norm(x, gamma, beta, eps, n, mu, var, std, x_hat, out):
    """Batch norm in training, n = N: μ = Σ_n x / N, σ² = Σ_n (x − μ)² / N (into ``mu``,
    ``var``, (D,)), σ = √(σ² + ε) (into ``std``), x̂ = (x − μ) / σ, out = γ·x̂ + β (N, D)."""
    N, D = x.shape
    for d in range(D):
        mu[d] = x[0, d] - x[0, d]
        var[d] = mu[d]
    for r in range(N):
        for d in range(D):
            mu[d] += x[r, d]
    for d in range(D):
        mu[d] /= n
    for r in range(N):
        for d in range(D):
            xc = x[r, d] - mu[d]
            x_hat[r, d] = xc
            var[d] += xc * xc
    for d in range(D):
        var[d] /= n
        std[d] = np.sqrt(var[d] + eps)
    for r in range(N):
        for d in range(D):
            xh = x_hat[r, d] / std[d]
            x_hat[r, d] = xh
            out[r, d] = gamma[d] * xh + beta[d]


@njit(**OPTIONS)
def batch_norm_backward(dout, x_hat, std, gamma, n, dgamma, dbeta, dx):
    """Batch norm's backward in training, n = N: ∂L/∂β = Σ_n dout, ∂L/∂γ = Σ_n dout·x̂ (D,),
    ∂L/∂x = (γ / σ)·(dout − ∂L/∂β / N − x̂·∂L/∂γ / N) (N, D)."""
    N, D = dout.shape
    column_sums(dout, x_hat, dbeta, dgamma)
    for r in range(N):
        for d in range(D):
            dx[r, d] = (dout[r, d] - (x_hat[r, d] * (dgamma[d] / n) + dbeta[d] / n)) * (
                gamma[d] / std[d]
            )


@Kernel
def relu_backward(dout, out, dx):
    """∂L/∂x = dout where the output is > 0, else 0."""
    for i in prange(dout.size):
        dx[i] = dout[i] if out[i] > 0 else dout[i] - dout[i]


@njit(**OPTIONS)
def softmax_cross_entropy(x, t, y):
    """Rows of scores x (N, C), labels t (N,): y = softmax(x) (into ``y``) and the loss
    E = −(1/N) Σ_n log y[n, t_n], from log y = x − max x − log Σ exp(x − max x)."""
    N, C = x.shape
    total = 0.0
    for r in range(N):
        m = x[r, 0]
        for c in range(1, C):
            m = max(m, x[r, c])
        s = m - m
        for c in range(C):
            e = np.exp(x[r, c] - m)
            y[r, c] = e
            s += e
        for c in range(C):
            y[r, c] /= s
        total += np.log(s) - (x[r, t[r]] - m)
    return total / N


@Kernel
def sigmoid_backward(dout, out, one, dx):
    """∂L/∂x = dout·y·(1 − y), y the sigmoid's output."""
    for i in prange(dout.size):
        dx[i] = dout[i] * out[i] * (one - out[i])
