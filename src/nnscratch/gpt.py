"""A small GPT (GPT-2's architecture, in NumPy): a character-level language model, and sampling
text from it with or without a KV cache.

Textbook code, built from the layers of ``nnscratch.time_layers``: token ids (N, T) → token
embedding + position embedding → ``n_layers`` Transformer blocks → a final LayerNorm → an output
head → scores (N, T, V), one row of V scores per position for the token that follows it. The
loss is the mean cross-entropy over every position (TimeSoftmaxWithLoss); its gradient is
backprop through the same layers in reverse. :class:`GPT` is a :class:`~nnscratch.nets.LayerNet`:
``loss``, ``gradient``, ``loss_gradient``, ``numerical_gradient``, ``train()``/``eval()`` work as
for the chapters' networks.

Shapes: N sequences, T positions (T ≤ context), C = width features, V = vocab_size tokens,
H = n_heads heads of d = C/H features each.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import NnscratchError
from .functions import softmax
from .layers import Dropout
from .nets import LayerNet, normal_weights
from .time_layers import (
    Embedding,
    LayerNorm,
    TimeAffine,
    TimeSoftmaxWithLoss,
    TransformerBlock,
)
from .validation import (
    POSITIVE,
    PROBABILITY,
    check_float_dtype,
    check_nonnegative_int,
    check_positive_int,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from numpy.typing import ArrayLike, DTypeLike, NDArray

#: GPT-2's standard deviation of the initial weights (embeddings and every matrix)
INIT_STD = 0.02


class GPTEmbedding:
    """Token embedding plus position embedding: out[n, t] = wte[ids[n, t]] + wpe[t].

    Shapes: ids (N, T) ints in 0..V-1, T ≤ context; wte (V, C) and wpe (context, C) in
    ``params``; out (N, T, C). Position t has its own vector wpe[t] (learnt, as in GPT-2):
    without it attention would see a set of tokens, not a sequence.
    Backward: ∂L/∂wte as :class:`~nnscratch.time_layers.Embedding`'s (a sum per id);
    ∂L/∂wpe[t] = Σ_n dout[n, t] for t < T (every sequence uses the same first T rows), 0 for
    the rows past T.
    """

    T: int = 0  # forward's number of positions
    dwpe: Any = None  # ∂L/∂wpe

    def __init__(self, params: dict[str, NDArray[np.floating]]) -> None:
        self.params = params
        self.token = Embedding(params, "wte")

    def forward(self, ids: ArrayLike) -> NDArray[np.floating]:
        ids = np.asarray(ids)
        context = self.params["wpe"].shape[0]
        if ids.ndim != 2:
            raise NnscratchError(f"GPT takes token ids (N, T), got shape {ids.shape}")
        if ids.shape[1] > context:
            raise NnscratchError(
                f"{ids.shape[1]} tokens do not fit the context of {context} positions: give at "
                f"most the last {context}"
            )
        self.T = ids.shape[1]
        return self.token.forward(ids) + self.params["wpe"][: self.T]

    def backward(self, dout: NDArray[np.floating]) -> None:
        self.token.backward(dout)
        self.dwpe = np.zeros_like(self.params["wpe"])
        self.dwpe[: self.T] = np.sum(dout, axis=0)
        return None

    def param_grads(self) -> dict[str, NDArray[np.floating]]:
        return {"wte": self.token.dW, "wpe": self.dwpe}


class KVCache:
    """The keys and values of the tokens so far, per block: what generation keeps so that each
    new token costs one position's work instead of the whole sequence's.

    ``keys[l]`` and ``values[l]`` (N, H, t, d): block l's attention keys and values of the t
    positions seen so far (the same numbers a full forward computes: a position's key and value
    depend only on it and the positions before it, never on later ones).
    """

    def __init__(self, keys: list[NDArray[np.floating]], values: list[NDArray[np.floating]]):
        self.keys, self.values = keys, values

    @property
    def length(self) -> int:
        """t, the number of positions cached."""
        return int(self.keys[0].shape[2])


class GPT(LayerNet):
    """GPT-2's decoder-only Transformer, small: ids (N, T) → scores (N, T, V).

    ids → GPTEmbedding (wte, wpe) → TransformerBlock × n_layers (prefixes ``h0_``, ``h1_``, ...)
    → LayerNorm (``lnf_gamma``, ``lnf_beta``) → TimeAffine (``W_head`` (C, V), ``b_head`` (V,))
    → TimeSoftmaxWithLoss (every position counted).

    Initialisation as GPT-2's: wte, wpe and every weight matrix N(0, 0.02²); biases 0; LayerNorm
    γ 1, β 0; the two matrices of each block that write into the residual stream (``attn_W_out``
    and ``mlp_W2``) N(0, (0.02/√(2·n_layers))²) instead — the stream adds 2·n_layers such
    outputs, and this keeps its variance at the start independent of the depth.

    The head is untied: its own W_head (C, V), where GPT-2 reuses wteᵀ. Tying saves V·C
    parameters, but then wte gets gradients from two places (the input and the head) that
    backward has to add; untied, each parameter belongs to exactly one layer and backprop is the
    plain chain of the chapters. (The bias b_head, which GPT-2 has not, starts at 0 and costs V
    numbers: it lets TimeAffine serve as it is.)

    ``dropout`` p: in training, the embeddings' sum and each block's two branches are dropped out
    with probability p (GPT-2's embedding and residual dropout; nanoGPT's also drops attention
    weights, left out here), the masks from one generator drawn from ``seed`` after the weights.
    nanoGPT trains its small CPU model with p = 0.

    ``seed``: same seed, same weights. ``dtype`` float64 (gradient checks) or float32.
    """

    takes_ids = True  # token ids (N, T): the embedding takes them as ints

    def __init__(
        self,
        vocab_size: int,
        context: int = 64,
        n_layers: int = 4,
        n_heads: int = 4,
        width: int = 128,
        seed: int | np.random.SeedSequence | np.random.Generator | None = None,
        dtype: DTypeLike = np.float64,
        dropout: float = 0.0,
    ) -> None:
        # plain Python values: config() can be saved as JSON
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        self.context = check_positive_int(context, "context", hint="e.g. 64 tokens")
        self.n_layers = check_positive_int(n_layers, "n_layers", hint="e.g. 4")
        self.n_heads = check_positive_int(n_heads, "n_heads", hint="e.g. 4")
        self.width = check_positive_int(width, "width", hint="e.g. 128")
        if self.width % self.n_heads:
            raise NnscratchError(
                f"width {self.width} does not split into {self.n_heads} heads: give a width "
                "divisible by n_heads"
            )
        self.dtype = dtype = check_float_dtype(dtype)
        V, C, L = self.vocab_size, self.width, self.n_layers
        rng = np.random.default_rng(seed)
        residual_std = INIT_STD / math.sqrt(2 * L)

        self.params = {
            "wte": normal_weights(rng, INIT_STD, (V, C), dtype),
            "wpe": normal_weights(rng, INIT_STD, (self.context, C), dtype),
        }
        for i in range(L):
            p = f"h{i}_"
            self.params.update(
                {
                    p + "ln1_gamma": np.ones(C, dtype),
                    p + "ln1_beta": np.zeros(C, dtype),
                    p + "attn_W_qkv": normal_weights(rng, INIT_STD, (C, 3 * C), dtype),
                    p + "attn_b_qkv": np.zeros(3 * C, dtype),
                    p + "attn_W_out": normal_weights(rng, residual_std, (C, C), dtype),
                    p + "attn_b_out": np.zeros(C, dtype),
                    p + "ln2_gamma": np.ones(C, dtype),
                    p + "ln2_beta": np.zeros(C, dtype),
                    p + "mlp_W1": normal_weights(rng, INIT_STD, (C, 4 * C), dtype),
                    p + "mlp_b1": np.zeros(4 * C, dtype),
                    p + "mlp_W2": normal_weights(rng, residual_std, (4 * C, C), dtype),
                    p + "mlp_b2": np.zeros(C, dtype),
                }
            )
        self.params.update(
            {
                "lnf_gamma": np.ones(C, dtype),
                "lnf_beta": np.zeros(C, dtype),
                "W_head": normal_weights(rng, INIT_STD, (C, V), dtype),
                "b_head": np.zeros(V, dtype),
            }
        )
        self.buffers = {}
        self.dropout = PROBABILITY.check(dropout, "dropout", hint="e.g. 0.1, or 0 for none")
        drop_rng = np.random.default_rng(rng.integers(2**63))  # after the weights: they stay
        self.embedding = GPTEmbedding(self.params)
        self.blocks = [
            TransformerBlock(
                self.params, f"h{i}_", self.n_heads, dropout=self.dropout, rng=drop_rng
            )
            for i in range(L)
        ]
        self.ln_f = LayerNorm(self.params, "lnf_gamma", "lnf_beta")
        self.head = TimeAffine(self.params, "W_head", "b_head")
        # LayerNet's loss_gradient runs backward through these in reverse
        # the embeddings' dropout, first of the layers that draw: a checkpoint saves its
        # generator, the one every block draws from (checkpoints.layers_with_rng)
        dropped = [Dropout(self.dropout, drop_rng)] if self.dropout else []
        self.layers = [self.embedding, *dropped, *self.blocks, self.ln_f, self.head]  # type: ignore[list-item]
        self.last_layer = TimeSoftmaxWithLoss(ignore_label=None)  # type: ignore[assignment]
        self.train()

    def config(self) -> dict[str, Any]:
        """The constructor's arguments (seed aside): enough to rebuild the same architecture."""
        return {
            "vocab_size": self.vocab_size,
            "context": self.context,
            "n_layers": self.n_layers,
            "n_heads": self.n_heads,
            "width": self.width,
            "dtype": self.dtype.name,
            "dropout": self.dropout,
        }

    # --- forward --------------------------------------------------------------------------
    # --- generation with a KV cache ---------------------------------------------------------
    def check_ids(self, ids: NDArray[Any]) -> None:
        """A clear error unless ``ids`` are integers in 0..V-1."""
        if ids.dtype.kind not in "iu" or (
            ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size)
        ):
            raise NnscratchError(
                f"token ids must be integers 0..{self.vocab_size - 1}, got {ids.dtype} values "
                f"{ids.min() if ids.size else ''}..{ids.max() if ids.size else ''}"
            )

    def prefill(self, ids: ArrayLike) -> tuple[NDArray[np.floating], KVCache]:
        """The full forward of ids (N, T) (T ≤ context), and a cache of its keys and values:
        returns (the last position's scores (N, V), cache). Each block's attention keeps the
        keys and values (N, H, T, d) of its forward; the cache holds them."""
        ids = np.asarray(ids)
        self.check_ids(ids)
        scores = self.scores(ids)
        cache = KVCache([b.attn.k for b in self.blocks], [b.attn.v for b in self.blocks])
        return scores[:, -1], cache

    def forward_step(self, ids: ArrayLike, cache: KVCache) -> NDArray[np.floating]:
        """One new token per sequence, at position t = ``cache.length``: ids (N,) → its scores
        (N, V); its keys and values are appended to ``cache``.

        Only the new position is computed: the position-wise parts (LayerNorm, the MLP) on one
        row, and attention as q·Kᵀ/√d over the t + 1 cached keys, no mask needed (every cached
        position comes before the new one): exactly the last row of the full forward's attention.
        Needs t < context (there is no position embedding for t = context).
        """
        ids = np.asarray(ids)
        self.check_ids(ids)
        t = cache.length
        if t >= self.context:
            raise NnscratchError(
                f"the cache is full ({t} of {self.context} positions): recompute from the last "
                f"{self.context} tokens instead"
            )
        x = (self.params["wte"][ids] + self.params["wpe"][t])[:, np.newaxis, :]  # (N, 1, C)
        N, C, H = len(ids), self.width, self.n_heads
        d = C // H
        for i, block in enumerate(self.blocks):
            p = f"h{i}_attn_"
            a = block.ln1.forward(x)
            qkv = a.reshape(N, C) @ self.params[p + "W_qkv"] + self.params[p + "b_qkv"]
            q, k, v = (qkv[:, j * C : (j + 1) * C].reshape(N, H, 1, d) for j in range(3))
            cache.keys[i] = np.concatenate([cache.keys[i], k], axis=2)  # (N, H, t + 1, d)
            cache.values[i] = np.concatenate([cache.values[i], v], axis=2)
            A = softmax(q @ cache.keys[i].transpose(0, 1, 3, 2) / math.sqrt(d))  # (N, H, 1, t+1)
            y = (A @ cache.values[i]).reshape(N, C)  # heads side by side: H blocks of d
            h = x + (y @ self.params[p + "W_out"] + self.params[p + "b_out"])[:, np.newaxis, :]
            mlp = block.fc2.forward(block.gelu.forward(block.fc1.forward(block.ln2.forward(h))))
            x = h + mlp
        return self.head.forward(self.ln_f.forward(x))[:, 0, :]


def sample_next(
    scores: NDArray[np.floating],
    temperature: float,
    top_k: int | None,
    rng: np.random.Generator,
) -> int:
    """One token drawn from softmax(scores / temperature), restricted to the top_k highest
    scores (the others get probability 0). scores (V,). Temperature < 1 sharpens the
    distribution, > 1 flattens it; top_k = 1 is greedy decoding (always the argmax)."""
    logits = scores.astype(np.float64) / temperature
    if top_k is not None and top_k < len(logits):
        kth = np.sort(logits)[-top_k]  # the k-th highest score
        logits = np.where(logits < kth, -np.inf, logits)
    return int(rng.choice(len(logits), p=softmax(logits)))


def generate(
    model: LayerNet,
    prompt_ids: ArrayLike,
    n_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    rng: int | np.random.Generator | None = None,
    cache: bool = True,
) -> NDArray[np.intp]:
    """Continue ``prompt_ids`` (T0,) by ``n_tokens`` tokens, each drawn from the model's
    softmax(scores / temperature) at the last position, restricted to the top_k (None: all);
    returns the generated ids (n_tokens,), the prompt not included (:func:`stream`, all at
    once)."""
    tokens = stream(model, prompt_ids, n_tokens, temperature, top_k, rng, cache)
    return np.fromiter(tokens, dtype=np.intp, count=n_tokens)


def stream(
    model: LayerNet,
    prompt_ids: ArrayLike,
    n_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    rng: int | np.random.Generator | None = None,
    cache: bool = True,
    window: int | None = None,
    exclude: Sequence[int] = (),
) -> Iterator[int]:
    """The tokens :func:`generate` draws, one at a time as each is drawn (``nnscratch generate``
    prints each character as it comes).

    ``cache=False``: each step runs the whole sequence so far, cropped to its last ``context``
    tokens, through the model. ``cache=True`` (a :class:`GPT`): the prompt is run once
    (:meth:`GPT.prefill`), then each step computes only the new token
    (:meth:`GPT.forward_step`) against the cached keys and values. Once the sequence is longer
    than ``context`` the window slides: every position shifts by one, so every cached key is
    stale; the cached path then falls back to the plain one (the whole last ``context`` tokens
    each step), and both give the same tokens. Another language model (an RNNLM) reads the last
    ``window`` tokens each step (None: all of them). ``rng``: a Generator or a seed (same seed,
    same text). ``exclude``: ids never drawn (a tokenizer's unknown, which has no character).
    """
    prompt = np.asarray(prompt_ids)
    if prompt.ndim != 1 or not prompt.size:
        raise NnscratchError(
            f"the prompt must be token ids (T0,), T0 ≥ 1, got shape {prompt.shape}"
        )
    vocab = model.params[model.layers[-1].weight_key].shape[1]  # type: ignore[attr-defined]
    if prompt.dtype.kind not in "iu" or prompt.min() < 0 or prompt.max() >= vocab:
        raise NnscratchError(f"the prompt's token ids must be integers 0..{vocab - 1}")
    ids = [int(i) for i in prompt]
    n_tokens = check_nonnegative_int(n_tokens, "n_tokens")
    temperature = POSITIVE.check(temperature, "temperature", hint="e.g. 1.0, or 0.8 for safer")
    if top_k is not None:
        top_k = check_positive_int(top_k, "top_k", hint="e.g. 10, 1 for greedy, None for all")
    rng = np.random.default_rng(rng)
    gpt = model if isinstance(model, GPT) else None
    window = gpt.context if gpt is not None else window
    kv: KVCache | None = None
    with model.evaluating():
        for _ in range(n_tokens):
            if gpt is not None and cache and len(ids) <= gpt.context:
                if kv is None:
                    scores, kv = gpt.prefill(np.array([ids]))
                else:
                    scores = gpt.forward_step(np.array([ids[-1]]), kv)
            else:
                if hasattr(model, "reset_state"):  # a stateful RNN: read the window from h = 0
                    model.reset_state()
                scores = model.scores(np.array([ids[-window:] if window else ids]))[:, -1]
            scores = scores[0]
            if exclude:
                scores = scores.copy()
                scores[list(exclude)] = -np.inf
            ids.append(sample_next(scores, temperature, top_k, rng))
            yield ids[-1]
