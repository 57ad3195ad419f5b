"""Layers for sequences: embeddings, time-distributed affine and loss, LayerNorm, GELU, causal
self-attention and the Transformer block GPT-2 stacks.

Textbook code, in the conventions of ``nnscratch.layers``: every forward and backward is its
formula in plain NumPy, and ``forward`` keeps exactly what ``backward`` needs. A sequence batch
is ``(N, T, ...)``: N sequences of T positions (time steps) each.

``backward(dout)`` takes ∂L/∂out and returns ∂L/∂x; it never writes into its arguments or into
what forward kept. Layers with parameters read them from the network's ``params`` dict by key at
every call (so perturbing or replacing ``params["W_embed"]`` is always seen) and after backward
give their gradients by the same keys through ``param_grads()``. None of these layers behaves
differently in training and in evaluation (there is no dropout here), so none has a ``training``
attribute.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import NnscratchError
from .functions import check_label_range, log_softmax, one_hot, softmax
from .layers import Dropout
from .validation import POSITIVE, check_positive_int, default_of

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


class Embedding:
    """Looks up one row of W per id: out = W[ids].

    Shapes: W (V, D) in ``params`` under ``weight_key`` (V words, D features each); ids (N,) or
    (N, T) ints in 0..V-1; out ids.shape + (D,).
    The same as one-hot(ids)·W without building the one-hot matrix. Backward: ∂L/∂W_v is the sum
    of dout over every position whose id is v (``np.add.at``, which adds once per occurrence: a
    repeated id collects all its gradients, where ``dW[ids] += dout`` would keep only one).
    The ids are integers, with no gradient: backward returns None.
    """

    ids: Any = None  # forward's ids
    dW: Any = None  # backward's ∂L/∂W

    def __init__(self, params: dict[str, NDArray[np.floating]], weight_key: str) -> None:
        self.params, self.weight_key = params, weight_key

    def forward(self, ids: ArrayLike) -> NDArray[np.floating]:
        W = self.params[self.weight_key]
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu":
            raise NnscratchError(f"embedding ids must be integers, got dtype {ids.dtype}")
        # a negative id would silently pick a row from the end, a too large one fail in indexing
        if ids.size and (ids.min() < 0 or ids.max() >= W.shape[0]):
            raise NnscratchError(
                f"embedding ids must be 0..{W.shape[0] - 1} (one per row of W), got values from "
                f"{ids.min()} to {ids.max()}"
            )
        self.ids = ids
        return W[ids]

    def backward(self, dout: NDArray[np.floating]) -> None:
        W = self.params[self.weight_key]
        self.dW = np.zeros_like(W)
        np.add.at(self.dW, self.ids, dout)
        return None

    def param_grads(self) -> dict[str, NDArray[np.floating]]:
        return {self.weight_key: self.dW}


class TimeAffine:
    """The same affine map at every position: out_t = x_t·W + b.

    Shapes: x (N, T, D), W (D, H), b (H,), out (N, T, H). The N·T positions are one batch of
    rows: x is reshaped to (N·T, D), multiplied, and the result reshaped back.
    Backward, with x and dout as (N·T, D) and (N·T, H) rows: ∂L/∂x = dout·Wᵀ, ∂L/∂W = xᵀ·dout
    (a sum over every position), ∂L/∂b = Σ_rows dout.
    """

    x: Any = None  # forward's input
    dW: Any = None  # ∂L/∂W
    db: Any = None  # ∂L/∂b

    def __init__(
        self, params: dict[str, NDArray[np.floating]], weight_key: str, bias_key: str
    ) -> None:
        self.params, self.weight_key, self.bias_key = params, weight_key, bias_key

    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        self.x = x
        W, b = self.params[self.weight_key], self.params[self.bias_key]
        out = x.reshape(-1, x.shape[-1]) @ W + b
        return out.reshape(*x.shape[:-1], W.shape[1])

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]:
        W = self.params[self.weight_key]
        x_rows = self.x.reshape(-1, self.x.shape[-1])
        dout_rows = dout.reshape(-1, dout.shape[-1])
        self.dW = x_rows.T @ dout_rows
        self.db = np.sum(dout_rows, axis=0)
        return (dout_rows @ W.T).reshape(self.x.shape)

    def param_grads(self) -> dict[str, NDArray[np.floating]]:
        return {self.weight_key: self.dW, self.bias_key: self.db}


class TimeSoftmaxWithLoss:
    """Softmax and cross-entropy at every position, averaged:
    L = -(1/K) Σ_{n,t counted} log softmax(x_nt)[t_nt].

    Shapes: scores x (N, T, V), targets t (N, T) ints in 0..V-1; L a scalar. A target equal to
    ``ignore_label`` (-1 by default, e.g. padding after the end of a sentence) is not counted:
    it adds nothing to the sum and K is the number of counted positions. ``ignore_label=None``
    counts every position (then every target must be a class).
    Backward: ∂L/∂x_nt = (softmax(x_nt) - onehot(t_nt)) / K at counted positions, 0 elsewhere.
    """

    y: Any = None  # softmax(x) (N·T, V)
    t: Any = None  # the targets (N·T,), an ignored one replaced by class 0
    mask: Any = None  # (N·T,) 1 where counted, 0 where ignored
    count: int = 0  # K
    shape: tuple[int, ...] = ()  # x's shape

    def __init__(self, ignore_label: int | None = -1) -> None:
        self.ignore_label = ignore_label

    def forward(self, x: NDArray[np.floating], t: ArrayLike) -> np.floating:
        V = x.shape[-1]
        x_rows = x.reshape(-1, V)
        t = np.asarray(t).reshape(-1)
        if t.shape[0] != x_rows.shape[0]:
            raise NnscratchError(
                f"targets {np.shape(t)} do not match scores {x.shape}: give one per position"
            )
        counted = (
            np.ones(t.shape, dtype=bool) if self.ignore_label is None else t != self.ignore_label
        )
        self.count = int(np.sum(counted))
        if self.count == 0:
            raise NnscratchError("every target is the ignore label: there is no loss to average")
        t = np.where(counted, t, 0)  # any class stands in for an ignored target (masked below)
        self.t = check_label_range(t.astype(np.intp), V)
        self.mask = counted.astype(x.dtype)
        self.y = softmax(x_rows)
        self.shape = x.shape
        log_y = log_softmax(x_rows)
        return -np.sum(log_y[np.arange(len(self.t)), self.t] * self.mask) / self.count

    def backward(self, dout: float = 1.0) -> NDArray[np.floating]:
        t = one_hot(self.t, self.y.shape[-1], dtype=self.y.dtype)
        dx = (self.y - t) * self.mask[:, np.newaxis] * (dout / self.count)
        return dx.reshape(self.shape)


class LayerNorm:
    """Layer normalisation (Ba, Kiros & Hinton 2016) of each position over its features.

    μ = mean_c x, σ = √(mean_c (x - μ)² + ε), x̂ = (x - μ) / σ, out = γ x̂ + β — per position,
    over the last axis (unlike BatchNorm, which averages over the batch): the same in training
    and in evaluation.
    Shapes: x (..., C) (e.g. (N, T, C)), γ and β (C,) in ``params`` under ``gamma_key`` /
    ``beta_key``, out x's shape.
    Backward, with ∂L/∂x̂ = dout · γ and the means over the last axis:
    ∂L/∂x = (1/σ) (∂L/∂x̂ - mean(∂L/∂x̂) - x̂ · mean(∂L/∂x̂ · x̂)),
    ∂L/∂γ = Σ dout · x̂ and ∂L/∂β = Σ dout, summed over every leading axis.
    """

    x_hat: Any = None  # x̂
    std: Any = None  # σ (..., 1)
    dgamma: Any = None  # ∂L/∂γ
    dbeta: Any = None  # ∂L/∂β

    def __init__(
        self,
        params: dict[str, NDArray[np.floating]],
        gamma_key: str,
        beta_key: str,
        eps: float = 1e-5,
    ) -> None:
        self.params, self.gamma_key, self.beta_key = params, gamma_key, beta_key
        self.eps: float = POSITIVE.check(
            eps, "LayerNorm eps", hint=lambda: f"use e.g. {default_of(LayerNorm, 'eps')}"
        )

    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        mu = np.mean(x, axis=-1, keepdims=True)
        xc = x - mu
        self.std = np.sqrt(np.mean(xc**2, axis=-1, keepdims=True) + self.eps)
        self.x_hat = xc / self.std
        return self.params[self.gamma_key] * self.x_hat + self.params[self.beta_key]

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]:
        C = dout.shape[-1]
        self.dbeta = np.sum(dout.reshape(-1, C), axis=0)
        self.dgamma = np.sum((dout * self.x_hat).reshape(-1, C), axis=0)
        dx_hat = dout * self.params[self.gamma_key]
        mean_dx_hat = np.mean(dx_hat, axis=-1, keepdims=True)
        mean_dx_hat_x_hat = np.mean(dx_hat * self.x_hat, axis=-1, keepdims=True)
        return (dx_hat - mean_dx_hat - self.x_hat * mean_dx_hat_x_hat) / self.std

    def param_grads(self) -> dict[str, NDArray[np.floating]]:
        return {self.gamma_key: self.dgamma, self.beta_key: self.dbeta}


#: √(2/π), the GELU tanh approximation's constant
GELU_C = math.sqrt(2.0 / math.pi)
#: the cubic term's coefficient of the GELU tanh approximation
GELU_A = 0.044715


class GELU:
    """Gaussian error linear unit, in the tanh approximation GPT-2 uses, elementwise:
    out = ½ x (1 + tanh u), u = √(2/π) (x + 0.044715 x³).

    Shapes: any; out has x's shape. (The exact GELU is x·Φ(x), Φ the standard normal CDF; the
    approximation is within about 1e-3 of it.)
    Backward, the exact derivative of that formula:
    ∂L/∂x = dout · (½ (1 + tanh u) + ½ x (1 - tanh² u) · √(2/π) (1 + 3·0.044715 x²)).
    """

    x: Any = None  # forward's input
    tanh_u: Any = None  # tanh u

    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        self.x = x
        # x³ as x·x·x: NumPy's x**3 calls pow, a hundred times slower
        self.tanh_u = np.tanh(GELU_C * (x + GELU_A * (x * x * x)))
        return 0.5 * x * (1.0 + self.tanh_u)

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]:
        x, th = self.x, self.tanh_u
        du_dx = GELU_C * (1.0 + 3.0 * GELU_A * x**2)
        return dout * (0.5 * (1.0 + th) + 0.5 * x * (1.0 - th**2) * du_dx)


class CausalSelfAttention:
    """Multi-head causal self-attention, as in GPT-2: each position attends to itself and to the
    positions before it, never to later ones.

    Parameters in ``params``: ``prefix + "W_qkv"`` (C, 3C) and ``prefix + "b_qkv"`` (3C,), the
    query, key and value maps side by side; ``prefix + "W_out"`` (C, C) and ``prefix + "b_out"``
    (C,), the output projection. With H = ``n_heads`` heads of d = C/H features each:

    1. [Q K V] = x·W_qkv + b_qkv, each (N, T, C), split into heads: (N, H, T, d);
    2. S = Q·Kᵀ / √d (N, H, T, T); S_ij = -∞ for j > i (the causal mask: exp(-∞) = 0);
    3. A = softmax(S) row by row (kept as ``attention``: row i, the weights of positions 0..i);
    4. Y = A·V (N, H, T, d), the heads side by side again (N, T, C);
    5. out = Y·W_out + b_out (N, T, C).

    Shapes: x (N, T, C), out (N, T, C). Backward, the steps in reverse:
    ∂L/∂W_out = Yᵀ·dout, ∂L/∂b_out = Σ dout, ∂L/∂Y = dout·W_outᵀ (split into heads);
    ∂L/∂A = ∂L/∂Y·Vᵀ, ∂L/∂V = Aᵀ·∂L/∂Y;
    ∂L/∂S = A · (∂L/∂A - Σ_j ∂L/∂A_ij A_ij) (softmax's backward, row by row; where A is 0 —
    above the diagonal — so is ∂L/∂S: no gradient flows through the mask);
    ∂L/∂Q = ∂L/∂S·K / √d, ∂L/∂K = ∂L/∂Sᵀ·Q / √d; [∂L/∂Q ∂L/∂K ∂L/∂V] (heads merged, (N, T, 3C))
    = ∂L/∂qkv; ∂L/∂W_qkv = xᵀ·∂L/∂qkv, ∂L/∂b_qkv = Σ ∂L/∂qkv, ∂L/∂x = ∂L/∂qkv·W_qkvᵀ.
    """

    x: Any = None  # forward's input (N, T, C)
    q: Any = None  # queries (N, H, T, d)
    k: Any = None  # keys (N, H, T, d)
    v: Any = None  # values (N, H, T, d)
    attention: Any = None  # A (N, H, T, T), the attention weights of the last forward
    y: Any = None  # A·V with the heads merged (N, T, C)
    dW_qkv: Any = None
    db_qkv: Any = None
    dW_out: Any = None
    db_out: Any = None

    def __init__(self, params: dict[str, NDArray[np.floating]], prefix: str, n_heads: int) -> None:
        self.params = params
        self.qkv_weight_key, self.qkv_bias_key = prefix + "W_qkv", prefix + "b_qkv"
        self.out_weight_key, self.out_bias_key = prefix + "W_out", prefix + "b_out"
        self.n_heads = check_positive_int(n_heads, "n_heads", hint="GPT-2 small uses 12")

    def _split_heads(self, z: NDArray[np.floating]) -> NDArray[np.floating]:
        """(N, T, C) → (N, H, T, d): the features of each position cut into H heads."""
        N, T, C = z.shape
        return z.reshape(N, T, self.n_heads, C // self.n_heads).transpose(0, 2, 1, 3)

    @staticmethod
    def _merge_heads(z: NDArray[np.floating]) -> NDArray[np.floating]:
        """(N, H, T, d) → (N, T, C): the heads side by side again (the inverse of the split)."""
        N, H, T, d = z.shape
        return z.transpose(0, 2, 1, 3).reshape(N, T, H * d)

    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        N, T, C = x.shape
        if C % self.n_heads:
            raise NnscratchError(
                f"{C} features do not split into {self.n_heads} heads: give a C divisible by "
                "n_heads"
            )
        d = C // self.n_heads
        self.x = x
        qkv = (
            x.reshape(N * T, C) @ self.params[self.qkv_weight_key] + self.params[self.qkv_bias_key]
        )
        qkv = qkv.reshape(N, T, 3 * C)
        self.q = self._split_heads(qkv[..., :C])
        self.k = self._split_heads(qkv[..., C : 2 * C])
        self.v = self._split_heads(qkv[..., 2 * C :])
        scores = self.q @ self.k.transpose(0, 1, 3, 2) / math.sqrt(d)
        causal = np.tril(np.ones((T, T), dtype=bool))  # causal[i, j]: j ≤ i
        scores = np.where(causal, scores, -np.inf)
        self.attention = softmax(scores)
        self.y = self._merge_heads(self.attention @ self.v)
        out = (
            self.y.reshape(N * T, C) @ self.params[self.out_weight_key]
            + self.params[self.out_bias_key]
        )
        return out.reshape(N, T, C)

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]:
        N, T, C = dout.shape
        d = C // self.n_heads
        dout_rows = dout.reshape(N * T, C)
        self.dW_out = self.y.reshape(N * T, C).T @ dout_rows
        self.db_out = np.sum(dout_rows, axis=0)
        dy = self._split_heads((dout_rows @ self.params[self.out_weight_key].T).reshape(N, T, C))
        A = self.attention
        dA = dy @ self.v.transpose(0, 1, 3, 2)
        dv = A.transpose(0, 1, 3, 2) @ dy
        dscores = A * (dA - np.sum(dA * A, axis=-1, keepdims=True)) / math.sqrt(d)
        dq = dscores @ self.k
        dk = dscores.transpose(0, 1, 3, 2) @ self.q
        dqkv = np.concatenate(
            [self._merge_heads(dq), self._merge_heads(dk), self._merge_heads(dv)], axis=-1
        ).reshape(N * T, 3 * C)
        self.dW_qkv = self.x.reshape(N * T, C).T @ dqkv
        self.db_qkv = np.sum(dqkv, axis=0)
        return (dqkv @ self.params[self.qkv_weight_key].T).reshape(N, T, C)

    def param_grads(self) -> dict[str, NDArray[np.floating]]:
        return {
            self.qkv_weight_key: self.dW_qkv,
            self.qkv_bias_key: self.db_qkv,
            self.out_weight_key: self.dW_out,
            self.out_bias_key: self.db_out,
        }


class TransformerBlock:
    """One pre-norm Transformer block, as GPT-2 stacks them:
    h = x + attn(ln1(x)), out = h + mlp(ln2(h)), mlp = TimeAffine(C, 4C) → GELU → TimeAffine(4C, C).
    With ``dropout`` p > 0, each branch's output is dropped out in training before it is added
    (GPT-2's residual dropout): h = x + drop(attn(ln1(x))), out = h + drop(mlp(ln2(h))), the
    masks drawn from ``rng``.

    Shapes: x (N, T, C), out (N, T, C). Parameters in ``params``, under ``prefix`` +
    ``ln1_gamma``, ``ln1_beta`` (C,); ``attn_W_qkv`` (C, 3C), ``attn_b_qkv`` (3C,), ``attn_W_out``
    (C, C), ``attn_b_out`` (C,) (:class:`CausalSelfAttention`); ``ln2_gamma``, ``ln2_beta`` (C,);
    ``mlp_W1`` (C, 4C), ``mlp_b1`` (4C,), ``mlp_W2`` (4C, C), ``mlp_b2`` (C,).
    Backward chains the parts' backwards in reverse; each residual sum passes its gradient to both
    of its terms: ∂L/∂h = dout + ln2ᵀ(mlpᵀ(dout)), ∂L/∂x = ∂L/∂h + ln1ᵀ(attnᵀ(∂L/∂h)), where
    fᵀ(g) stands for f's backward of g.
    """

    def __init__(
        self,
        params: dict[str, NDArray[np.floating]],
        prefix: str,
        n_heads: int,
        eps: float = 1e-5,
        dropout: float = 0.0,
        rng: np.random.Generator | None = None,
    ) -> None:
        p = prefix
        self.ln1 = LayerNorm(params, p + "ln1_gamma", p + "ln1_beta", eps)
        self.attn = CausalSelfAttention(params, p + "attn_", n_heads)
        self.ln2 = LayerNorm(params, p + "ln2_gamma", p + "ln2_beta", eps)
        self.fc1 = TimeAffine(params, p + "mlp_W1", p + "mlp_b1")
        self.gelu = GELU()
        self.fc2 = TimeAffine(params, p + "mlp_W2", p + "mlp_b2")
        rng = np.random.default_rng(0) if rng is None else rng  # draws only when dropout > 0
        self.drop_attn, self.drop_mlp = Dropout(dropout, rng), Dropout(dropout, rng)

    @property
    def training(self) -> bool:
        """Training mode (dropout on) or evaluation mode: the network sets it on its layers."""
        return self.drop_attn.training

    @training.setter
    def training(self, mode: bool) -> None:
        self.drop_attn.training = self.drop_mlp.training = mode

    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        h = x + self.drop_attn.forward(self.attn.forward(self.ln1.forward(x)))
        mlp = self.fc2.forward(self.gelu.forward(self.fc1.forward(self.ln2.forward(h))))
        return h + self.drop_mlp.forward(mlp)

    def backward(self, dout: NDArray[np.floating]) -> NDArray[np.floating]:
        dmlp = self.drop_mlp.backward(dout)
        dh = dout + self.ln2.backward(
            self.fc1.backward(self.gelu.backward(self.fc2.backward(dmlp)))
        )
        return dh + self.ln1.backward(self.attn.backward(self.drop_attn.backward(dh)))

    def param_grads(self) -> dict[str, NDArray[np.floating]]:
        grads: dict[str, NDArray[np.floating]] = {}
        for part in (self.ln1, self.attn, self.ln2, self.fc1, self.fc2):
            grads.update(part.param_grads())
        return grads


class RNN:
    """One step of a simple (Elman) recurrent layer: h_next = tanh(h_prev·W_h + x·W_x + b).

    Shapes: x (N, D), h_prev (N, H), h_next (N, H); W_x (D, H), W_h (H, H), b (H,) in ``params``
    under ``Wx_key``, ``Wh_key``, ``b_key``. The same three parameters serve every time step:
    :class:`TimeRNN` runs T of these steps and adds their gradients.
    Backward, with ∂L/∂a = ∂L/∂h_next · (1 - h_next²) (tanh' = 1 - tanh², a the sum inside):
    ∂L/∂x = ∂L/∂a·W_xᵀ, ∂L/∂h_prev = ∂L/∂a·W_hᵀ, ∂L/∂W_x = xᵀ·∂L/∂a, ∂L/∂W_h = h_prevᵀ·∂L/∂a,
    ∂L/∂b = Σ_n ∂L/∂a. ``backward`` returns (∂L/∂x, ∂L/∂h_prev).
    """

    x: Any = None  # forward's x (N, D)
    h_prev: Any = None  # forward's h_prev (N, H)
    h_next: Any = None  # forward's output (N, H)
    dWx: Any = None  # ∂L/∂W_x
    dWh: Any = None  # ∂L/∂W_h
    db: Any = None  # ∂L/∂b

    def __init__(
        self, params: dict[str, NDArray[np.floating]], Wx_key: str, Wh_key: str, b_key: str
    ) -> None:
        self.params, self.Wx_key, self.Wh_key, self.b_key = params, Wx_key, Wh_key, b_key

    def forward(
        self, x: NDArray[np.floating], h_prev: NDArray[np.floating]
    ) -> NDArray[np.floating]:
        Wx, Wh, b = self.params[self.Wx_key], self.params[self.Wh_key], self.params[self.b_key]
        self.x, self.h_prev = x, h_prev
        self.h_next = np.tanh(h_prev @ Wh + x @ Wx + b)
        return self.h_next

    def backward(
        self, dh_next: NDArray[np.floating]
    ) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
        Wx, Wh = self.params[self.Wx_key], self.params[self.Wh_key]
        da = dh_next * (1.0 - self.h_next**2)
        self.db = np.sum(da, axis=0)
        self.dWh = self.h_prev.T @ da
        self.dWx = self.x.T @ da
        return da @ Wx.T, da @ Wh.T

    def param_grads(self) -> dict[str, NDArray[np.floating]]:
        return {self.Wx_key: self.dWx, self.Wh_key: self.dWh, self.b_key: self.db}


class TimeRNN:
    """T steps of :class:`RNN` over a sequence, the same parameters at every step:
    h_t = tanh(h_{t-1}·W_h + x_t·W_x + b), t = 0..T-1, hs = (h_0, ..., h_{T-1}).

    Shapes: xs (N, T, D), hs (N, T, H); W_x (D, H), W_h (H, H), b (H,) in ``params``.
    The state before the first step, h_{-1}, is zeros (N, H) — unless ``stateful``: then it is
    the last h of the previous call (``self.h``), so that a long sequence can be fed in blocks
    of T steps and the hidden state runs on through it. ``reset_state()`` sets it back to zeros
    (at the start of a new sequence); ``set_state(h)`` to a given h (N, H).

    Backward through time, the steps in reverse: step t receives ∂L/∂h_t = dhs[:, t] (from the
    layers above) + the dh that step t+1 passed back (0 for the last step); its backward returns
    ∂L/∂x_t and the dh for step t-1. ∂L/∂W_x, ∂L/∂W_h, ∂L/∂b are the sums over the T steps.
    Truncated BPTT: the dh of the first step, ∂L/∂h_{-1}, is kept as ``self.dh`` and goes no
    further: the previous block's forward is over, and its steps get no gradient from this one
    (h_{-1} is treated as a constant input).
    """

    h: Any = None  # the last hidden state (N, H): h_{-1} of the next call when stateful
    dh: Any = None  # ∂L/∂h_{-1} of the last backward
    dWx: Any = None  # ∂L/∂W_x, summed over the steps
    dWh: Any = None  # ∂L/∂W_h
    db: Any = None  # ∂L/∂b

    def __init__(
        self,
        params: dict[str, NDArray[np.floating]],
        Wx_key: str,
        Wh_key: str,
        b_key: str,
        stateful: bool = False,
    ) -> None:
        self.params, self.Wx_key, self.Wh_key, self.b_key = params, Wx_key, Wh_key, b_key
        self.stateful = bool(stateful)
        self.layers: list[RNN] = []

    def forward(self, xs: NDArray[np.floating]) -> NDArray[np.floating]:
        N, T, _ = xs.shape
        H = self.params[self.Wh_key].shape[0]
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype=xs.dtype)
        elif self.h.shape != (N, H):
            raise NnscratchError(
                f"the carried state is {self.h.shape}, but this batch needs ({N}, {H}): call "
                "reset_state() before a batch of another size"
            )
        hs = np.empty((N, T, H), dtype=np.result_type(xs, self.params[self.Wh_key]))
        self.layers = []
        for t in range(T):
            layer = RNN(self.params, self.Wx_key, self.Wh_key, self.b_key)
            self.h = layer.forward(xs[:, t, :], self.h)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs: NDArray[np.floating]) -> NDArray[np.floating]:
        N, T, _ = dhs.shape
        D = self.params[self.Wx_key].shape[0]
        dxs = np.empty((N, T, D), dtype=dhs.dtype)
        dh: Any = 0.0  # nothing comes back from after the last step
        self.dWx = np.zeros_like(self.params[self.Wx_key])
        self.dWh = np.zeros_like(self.params[self.Wh_key])
        self.db = np.zeros_like(self.params[self.b_key])
        for t in reversed(range(T)):
            layer = self.layers[t]
            dxs[:, t, :], dh = layer.backward(dhs[:, t, :] + dh)
            self.dWx += layer.dWx
            self.dWh += layer.dWh
            self.db += layer.db
        self.dh = dh
        return dxs

    def set_state(self, h: NDArray[np.floating]) -> None:
        """h_{-1} of the next (stateful) forward: h (N, H)."""
        self.h = h

    def reset_state(self) -> None:
        """Start the next forward from zeros (a new sequence)."""
        self.h = None

    def param_grads(self) -> dict[str, NDArray[np.floating]]:
        return {self.Wx_key: self.dWx, self.Wh_key: self.dWh, self.b_key: self.db}
