"""The engine's sequence layers: the textbook's (``nnscratch.time_layers``) with the same
interfaces, attributes and results, computed with fewer passes, temporaries and copies. Each
subclasses its textbook layer and overrides only how forward and backward compute (so that
``engine.use`` can swap the class of a layer the textbook built); tests prove them equal (float64,
relative difference ≤ 1e-12; float32 close).

- :class:`TimeAffine`: + b in place on the product; Σ dout by ``np.add.reduce``.
- :class:`TimeSoftmaxWithLoss`: softmax and the loss in one sweep over blocks of rows that stay
  in the CPU's cache (a GPT's scores are N·T rows of V: 768 × 9,512 floats, 29 MB); backward
  writes ∂L/∂x into the softmax's own array (forward keeps it for that alone).
- :class:`LayerNorm`: the centred x turned into x̂ in place; backward gathered into
  ∂L/∂x = (∂L/∂x̂ − mean ∂L/∂x̂ − x̂ · mean(∂L/∂x̂ · x̂)) / σ step by step on one array.
- :class:`GELU`: x³ as x·x·x (NumPy's ``x**3`` calls ``pow``, a hundred times slower than two
  products), every step in place.
- :class:`CausalSelfAttention`: Q, K, V split into heads by one copy into contiguous arrays (a
  batched product of strided views goes without BLAS, element by element); the causal mask and
  the softmax fused in place on the scores; the gradients of Q, K and V written straight into one
  array that is then ∂L/∂qkv with one copy.

Where the compiled kernels are loaded (:mod:`nnscratch.engine.compiled`), LayerNorm, GELU and
the attention's softmax run as one compiled pass each over their rows (GELU's tanh stays NumPy's,
vectorised), for float32 and float64 arrays laid out in rows; anything else goes the NumPy way.

What a layer keeps from its forward for its backward may differ from the textbook's (switch
engines between steps, not between a forward and its backward).
"""

import math

import numpy as np

from .. import time_layers
from ..errors import NnscratchError
from ..functions import check_label_range
from . import compiled

#: rows of scores per block of :class:`TimeSoftmaxWithLoss` (about 1.2 MB of float32 at V = 9,512)
SOFTMAX_BLOCK_VALUES = 1 << 18


def _rows(a):
    """``a`` (..., D) as rows (M, D), a view where it can be."""
    return a.reshape(-1, a.shape[-1])


def in_parallel(work, count, step):
    """``work(first, last)`` over 0..count split into one run of whole steps per thread of the
    compiled kernels (:func:`nnscratch.engine.compiled.threads`), the first run on this thread,
    the others on a pool's; NumPy's loops let go of the GIL, so the runs compute at once. One
    thread (or one step): ``work(0, count)`` here."""
    threads = min(compiled.threads(), -(-count // step))
    if threads <= 1:
        work(0, count)
        return
    steps = -(-count // step)
    bounds = [min(count, step * (steps * k // threads)) for k in range(threads + 1)]
    pool = compiled.thread_pool(threads - 1)
    others = [pool.submit(work, a, b) for a, b in zip(bounds[1:-1], bounds[2:])]
    work(bounds[0], bounds[1])
    for other in others:
        other.result()


class TimeAffine(time_layers.TimeAffine):
    """``time_layers.TimeAffine``: out = x·W + b with the + b in place on the product."""

    def forward(self, x):
        self.x = x
        W = self.params[self.weight_key]
        out = _rows(x) @ W
        out += self.params[self.bias_key]
        return out.reshape(*x.shape[:-1], W.shape[1])

    def backward(self, dout):
        x_rows, dout_rows = _rows(self.x), _rows(dout)
        self.dW = x_rows.T @ dout_rows
        self.db = np.add.reduce(dout_rows, axis=0)
        return (dout_rows @ self.params[self.weight_key].T).reshape(self.x.shape)


class TimeSoftmaxWithLoss(time_layers.TimeSoftmaxWithLoss):
    """``time_layers.TimeSoftmaxWithLoss``: per block of rows, z = x − max x, the true classes'
    z picked by flat position, exp(z) in place, its row sums s, softmax = exp(z) / s in place;
    the loss is −(1/K) Σ (z_t − log s) (the textbook's log_softmax at the targets, the same
    numbers). Backward: ∂L/∂x = (y − onehot(t)) · mask · dout / K, written into y itself (``y``
    is then no longer the softmax: forward keeps it for backward alone)."""

    positions = None  # the flat positions n·V + t_n of the targets in y (N·T, V)

    def forward(self, x, t):
        V = x.shape[-1]
        x_rows = _rows(x)
        t = np.asarray(t).reshape(-1)
        if t.shape[0] != x_rows.shape[0]:
            raise NnscratchError(
                f"targets {np.shape(t)} do not match scores {x.shape}: give one per position"
            )
        if self.ignore_label is None:
            counted = None
            self.count = len(t)
        else:
            counted = t != self.ignore_label
            self.count = int(np.add.reduce(counted))
            if self.count == 0:
                raise NnscratchError(
                    "every target is the ignore label: there is no loss to average"
                )
            t = np.where(counted, t, 0)  # any class stands in for an ignored target (masked)
        self.t = check_label_range(t.astype(np.intp, copy=False), V)
        dtype = np.result_type(x_rows.dtype, np.float32)
        self.mask = np.ones(len(t), dtype) if counted is None else counted.astype(dtype)
        self.shape = x.shape
        self.positions = np.arange(0, len(t) * V, V) + self.t
        y = np.empty(x_rows.shape, dtype)
        picked = np.empty(len(t), dtype)  # z at the targets, then log softmax at the targets
        step = max(1, SOFTMAX_BLOCK_VALUES // max(V, 1))

        def blocks(first, last):  # rows first..last, block by block
            for start in range(first, last, step):
                rows = slice(start, min(start + step, last))
                z = y[rows]
                np.subtract(
                    x_rows[rows], np.maximum.reduce(x_rows[rows], axis=1, keepdims=True), out=z
                )
                picked[rows] = z.ravel().take(self.positions[rows] - start * V)
                np.exp(z, out=z)
                s = np.add.reduce(z, axis=1, keepdims=True)
                z /= s
                picked[rows] -= np.log(s[:, 0])

        in_parallel(blocks, len(t), step)
        self.y = y
        if counted is not None:
            picked *= self.mask
        return -np.sum(picked) / self.count

    def backward(self, dout=1.0):
        dx = self.y
        self.y = None  # its array is ∂L/∂x now
        dx.ravel()[self.positions] -= 1.0
        if self.count != len(self.mask):
            dx *= self.mask[:, np.newaxis]
        dx *= dout / self.count
        return dx.reshape(self.shape)


class LayerNorm(time_layers.LayerNorm):
    """``time_layers.LayerNorm``: x − μ centred into a new array that becomes x̂ in place;
    backward's ∂L/∂x̂ − mean ∂L/∂x̂ − x̂ · mean(∂L/∂x̂ · x̂) built on one array, then ÷ σ."""

    def forward(self, x):
        C = x.shape[-1]
        gamma, beta = self.params[self.gamma_key], self.params[self.beta_key]
        kernels = compiled.loaded_for(x, gamma, beta)
        if kernels is not None:
            rows, n = _rows(x), x.dtype.type
            out, x_hat = np.empty_like(rows), np.empty_like(rows)
            std = np.empty((len(rows), 1), x.dtype)
            kernels.layer_norm(rows, gamma, beta, n(self.eps), n(C), out, x_hat, std[:, 0])
            self.std = std.reshape(*x.shape[:-1], 1)
            self.x_hat = x_hat.reshape(x.shape)
            return out.reshape(x.shape)
        mu = np.add.reduce(x, axis=-1, keepdims=True)
        mu /= C
        xc = x - mu
        var = np.add.reduce(np.square(xc), axis=-1, keepdims=True)
        var /= C
        var += self.eps
        self.std = np.sqrt(var, out=var)
        self.x_hat = np.divide(xc, self.std, out=xc)
        out = self.params[self.gamma_key] * self.x_hat
        out += self.params[self.beta_key]
        return out

    def backward(self, dout):
        C = dout.shape[-1]
        dout_rows, x_hat_rows = _rows(dout), _rows(self.x_hat)
        gamma = self.params[self.gamma_key]
        kernels = compiled.loaded_for(dout_rows, x_hat_rows, self.std, gamma)
        if kernels is not None:
            dx = np.empty_like(dout_rows)
            kernels.layer_norm_backward(
                dout_rows, x_hat_rows, self.std.reshape(-1), gamma, dout.dtype.type(C), dx
            )
            self.dbeta, self.dgamma = np.empty_like(gamma), np.empty_like(gamma)
            kernels.column_sums(dout_rows, x_hat_rows, self.dbeta, self.dgamma)
            return dx.reshape(dout.shape)
        self.dbeta = np.add.reduce(dout_rows, axis=0)
        dx_hat = dout * self.params[self.gamma_key]
        prod = dout_rows * x_hat_rows
        self.dgamma = np.add.reduce(prod, axis=0)
        np.multiply(dx_hat, self.x_hat, out=prod.reshape(dx_hat.shape))
        mean_dx_hat_x_hat = np.add.reduce(prod.reshape(dx_hat.shape), axis=-1, keepdims=True)
        mean_dx_hat_x_hat /= C
        mean_dx_hat = np.add.reduce(dx_hat, axis=-1, keepdims=True)
        mean_dx_hat /= C
        dx_hat -= mean_dx_hat
        np.multiply(self.x_hat, mean_dx_hat_x_hat, out=prod.reshape(dx_hat.shape))
        dx_hat -= prod.reshape(dx_hat.shape)
        dx_hat /= self.std
        return dx_hat


class GELU(time_layers.GELU):
    """``time_layers.GELU``: u = √(2/π)(x + 0.044715·x·x·x) and the output ½x(1 + tanh u) in
    place on two arrays; backward on two arrays likewise."""

    def forward(self, x):
        kernels = compiled.loaded_for(x)
        if kernels is not None:
            n, flat = x.dtype.type, x.reshape(-1)
            u, out = np.empty_like(x), np.empty_like(x)
            kernels.gelu_inner(flat, n(time_layers.GELU_A), n(time_layers.GELU_C), u.reshape(-1))
            self.x, self.tanh_u = x, np.tanh(u, out=u)
            kernels.gelu_outer(flat, u.reshape(-1), n(1.0), n(0.5), out.reshape(-1))
            return out
        u = np.multiply(x, x)
        u *= x
        u *= time_layers.GELU_A
        u += x
        u *= time_layers.GELU_C
        self.x, self.tanh_u = x, np.tanh(u, out=u)
        out = np.add(u, 1.0)
        out *= x
        out *= 0.5
        return out

    def backward(self, dout):
        x, th = self.x, self.tanh_u
        kernels = compiled.loaded_for(x, th, dout)
        if kernels is not None:
            n, dx = x.dtype.type, np.empty_like(x)
            numbers = n(3.0 * time_layers.GELU_A), n(time_layers.GELU_C), n(1.0), n(0.5)
            kernels.gelu_backward(
                x.reshape(-1), th.reshape(-1), dout.reshape(-1), *numbers, dx.reshape(-1)
            )
            return dx
        du_dx = np.multiply(x, x)
        du_dx *= 3.0 * time_layers.GELU_A
        du_dx += 1.0
        du_dx *= time_layers.GELU_C
        dx = np.multiply(th, th)
        np.subtract(1.0, dx, out=dx)
        dx *= x
        dx *= 0.5
        dx *= du_dx
        half = np.add(th, 1.0, out=du_dx)
        half *= 0.5
        dx += half
        dx *= dout
        return dx


class CausalSelfAttention(time_layers.CausalSelfAttention):
    """``time_layers.CausalSelfAttention``: [Q K V] split into heads by one copy, (3, N, H, T, d)
    contiguous (``q``, ``k`` and ``v`` are its three views); S = Q·Kᵀ / √d, the mask added as 0
    or −∞ and the softmax computed in place on S; Y = A·V merged by one copy. Backward: ∂L/∂Q,
    ∂L/∂K, ∂L/∂V computed into one (3, N, H, T, d) array, merged into ∂L/∂qkv (N·T, 3C) by one
    copy; the softmax's backward in place on ∂L/∂A."""

    #: the causal mask as scores to add (T, T): 0 where j ≤ i, −∞ above the diagonal, per dtype
    _masks: dict = {}

    @classmethod
    def causal_mask(cls, T, dtype):
        key = (T, np.dtype(dtype))
        mask = cls._masks.get(key)
        if mask is None:
            mask = np.triu(np.full((T, T), -np.inf, dtype), k=1)
            mask.flags.writeable = False
            cls._masks[key] = mask
        return mask

    def forward(self, x):
        N, T, C = x.shape
        H = self.n_heads
        if C % H:
            raise NnscratchError(
                f"{C} features do not split into {H} heads: give a C divisible by n_heads"
            )
        d = C // H
        self.x = x
        qkv = x.reshape(N * T, C) @ self.params[self.qkv_weight_key]
        qkv += self.params[self.qkv_bias_key]
        heads = np.ascontiguousarray(qkv.reshape(N, T, 3, H, d).transpose(2, 0, 3, 1, 4))
        self.q, self.k, self.v = heads[0], heads[1], heads[2]
        A = self.q @ self.k.transpose(0, 1, 3, 2)
        kernels = compiled.loaded_for(A)
        if kernels is not None:  # the steps below in one pass, row by row
            kernels.causal_softmax(A.reshape(-1, T), T, A.dtype.type(math.sqrt(d)))
        else:
            A /= math.sqrt(d)
            A += self.causal_mask(T, A.dtype)
            A -= np.maximum.reduce(A, axis=-1, keepdims=True)
            np.exp(A, out=A)
            A /= np.add.reduce(A, axis=-1, keepdims=True)
        self.attention = A
        self.y = (A @ self.v).transpose(0, 2, 1, 3).reshape(N, T, C)
        out = self.y.reshape(N * T, C) @ self.params[self.out_weight_key]
        out += self.params[self.out_bias_key]
        return out.reshape(N, T, C)

    def backward(self, dout):
        N, T, C = dout.shape
        H = self.n_heads
        d = C // H
        dout_rows = dout.reshape(N * T, C)
        self.dW_out = self.y.reshape(N * T, C).T @ dout_rows
        self.db_out = np.add.reduce(dout_rows, axis=0)
        dy = dout_rows @ self.params[self.out_weight_key].T
        dy = np.ascontiguousarray(dy.reshape(N, T, H, d).transpose(0, 2, 1, 3))
        A = self.attention
        dheads = np.empty((3, N, H, T, d), dy.dtype)
        np.matmul(A.transpose(0, 1, 3, 2), dy, out=dheads[2])  # ∂L/∂V
        dS = dy @ self.v.transpose(0, 1, 3, 2)  # ∂L/∂A, then ∂L/∂S in place
        kernels = compiled.loaded_for(dS, A)
        if kernels is not None:  # the steps below in one pass, row by row
            kernels.softmax_backward(
                dS.reshape(-1, T), A.reshape(-1, T), A.dtype.type(math.sqrt(d))
            )
        else:
            dS -= np.add.reduce(dS * A, axis=-1, keepdims=True)
            dS *= A
            dS /= math.sqrt(d)
        np.matmul(dS, self.k, out=dheads[0])  # ∂L/∂Q
        np.matmul(dS.transpose(0, 1, 3, 2), self.q, out=dheads[1])  # ∂L/∂K
        dqkv = dheads.transpose(1, 3, 0, 2, 4).reshape(N * T, 3 * C)
        self.dW_qkv = self.x.reshape(N * T, C).T @ dqkv
        self.db_qkv = np.add.reduce(dqkv, axis=0)
        return (dqkv @ self.params[self.qkv_weight_key].T).reshape(N, T, C)
