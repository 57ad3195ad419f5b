"""A recurrent language model (the book's SimpleRnnlm): word ids (N, T) → scores (N, T, V) for
the word that follows each position, trained by truncated backpropagation through time.

Textbook code, built from the layers of ``nnscratch.time_layers``: ids → Embedding → TimeRNN
(stateful) → TimeAffine → TimeSoftmaxWithLoss, the mean cross-entropy over every position.
:class:`RNNLM` is a :class:`~nnscratch.nets.LayerNet`: ``loss``, ``gradient``,
``loss_gradient``, ``numerical_gradient`` work as for the chapters' networks.

Truncated BPTT: a long corpus is fed in blocks of T words, one block after the other, N
sequences side by side (each reading its own stretch of the corpus). The RNN's hidden state runs
on from one block into the next (``stateful``), the gradient does not: each block's backward
stops at the block's first step. ``reset_state()`` starts over from zeros.

Shapes: N sequences, T time steps, V = vocab_size words, D = wordvec_size, H = hidden_size.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import NnscratchError
from .nets import LayerNet, normal_weights
from .numgrad import numerical_gradient
from .time_layers import Embedding, TimeAffine, TimeRNN, TimeSoftmaxWithLoss
from .validation import check_float_dtype, check_positive_int

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike, NDArray

#: the standard deviation of the initial word vectors, as in the book
EMBED_STD = 0.01


class RNNLM(LayerNet):
    """The book's SimpleRnnlm: ids (N, T) → scores (N, T, V).

    ids → Embedding (``W_embed`` (V, D)) → TimeRNN, stateful (``W_x`` (D, H), ``W_h`` (H, H),
    ``b_rnn`` (H,)) → TimeAffine (``W_affine`` (H, V), ``b_affine`` (V,))
    → TimeSoftmaxWithLoss (every position counted).

    Initialisation as the book's: word vectors N(0, 0.01²); the RNN's and the affine layer's
    matrices "Xavier", N(0, 1/n) with n the number of rows (the inputs each output sums over:
    D for W_x, H for W_h and W_affine); biases 0.

    ``seed``: same seed, same weights. ``dtype`` float64 (gradient checks) or float32.
    ``stateful``: each forward starts from the state the last one left, as the book reads a
    text block after block; False: from h = 0, for windows drawn at random (``Trainer``).
    """

    takes_ids = True  # token ids (N, T): the embedding takes them as ints

    def __init__(
        self,
        vocab_size: int,
        wordvec_size: int = 100,
        hidden_size: int = 100,
        seed: int | np.random.SeedSequence | np.random.Generator | None = None,
        dtype: DTypeLike = np.float64,
        stateful: bool = True,
    ) -> None:
        # plain Python values: config() can be saved as JSON
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        self.wordvec_size = check_positive_int(wordvec_size, "wordvec_size", hint="e.g. 100")
        self.hidden_size = check_positive_int(hidden_size, "hidden_size", hint="e.g. 100")
        self.dtype = dtype = check_float_dtype(dtype)
        V, D, H = self.vocab_size, self.wordvec_size, self.hidden_size
        rng = np.random.default_rng(seed)
        self.params = {
            "W_embed": normal_weights(rng, EMBED_STD, (V, D), dtype),
            "W_x": normal_weights(rng, 1.0 / math.sqrt(D), (D, H), dtype),
            "W_h": normal_weights(rng, 1.0 / math.sqrt(H), (H, H), dtype),
            "b_rnn": np.zeros(H, dtype),
            "W_affine": normal_weights(rng, 1.0 / math.sqrt(H), (H, V), dtype),
            "b_affine": np.zeros(V, dtype),
        }
        self.buffers = {}
        self.embedding = Embedding(self.params, "W_embed")
        self.stateful = bool(stateful)
        self.rnn = TimeRNN(self.params, "W_x", "W_h", "b_rnn", stateful=self.stateful)
        self.affine = TimeAffine(self.params, "W_affine", "b_affine")
        # LayerNet's loss_gradient runs backward through these in reverse
        self.layers = [self.embedding, self.rnn, self.affine]  # type: ignore[list-item]
        self.last_layer = TimeSoftmaxWithLoss(ignore_label=None)  # type: ignore[assignment]
        self.train()

    def config(self) -> dict[str, Any]:
        """The constructor's arguments (seed aside): enough to rebuild the same architecture."""
        return {
            "vocab_size": self.vocab_size,
            "wordvec_size": self.wordvec_size,
            "hidden_size": self.hidden_size,
            "dtype": self.dtype.name,
            "stateful": self.stateful,
        }

    def reset_state(self) -> None:
        """Forget the hidden state: the next forward starts from zeros (a new sequence)."""
        self.rnn.reset_state()

    def scores(self, x: ArrayLike) -> NDArray[np.floating]:
        """Scores before softmax: ids (N, T) → (N, T, V); row [n, t] scores the word that
        follows x[n, t], given the words before it (in this block, and in earlier blocks
        through the carried state)."""
        shape = np.shape(x)
        if len(shape) != 2:
            raise NnscratchError(f"RNNLM takes word ids (N, T), got shape {shape}")
        return super().scores(x)

    def numerical_gradient(
        self, x: ArrayLike, t: ArrayLike, h: float = 1e-4
    ) -> dict[str, NDArray[np.floating]]:
        """∂L/∂θ by central differences, every loss evaluation starting from the hidden state the
        network holds now (zeros after ``reset_state()``), which is restored afterwards.

        Without this, the stateful RNN would start each of the thousands of evaluations from the
        state the one before left: every difference would measure a different function. Holding
        the incoming state fixed is also exactly what truncated BPTT differentiates: the loss of
        this block with h_{-1} a constant. Call it before ``loss_gradient`` (which moves the
        state on) to compare the two from the same state."""
        state = self.rnn.h

        def loss_w(_: object) -> float:
            self.rnn.h = state
            return float(self.loss(x, t))

        try:
            return {key: numerical_gradient(loss_w, param, h) for key, param in self.params.items()}
        finally:
            self.rnn.h = state
