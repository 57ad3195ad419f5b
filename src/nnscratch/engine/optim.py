"""The engine's optimizers: the textbook's (``nnscratch.optim``) with the same hyperparameters,
state and results, each update computed in place and block by block, and moving averages kept
out of the subnormal floats (:func:`flush_subnormal`). Tests prove them equal.

The textbook writes an update as its formula, each step a new array. Here each intermediate
(``lr · g``, ``√h + ε``, ...) goes into a work array kept from step to step (the same operations
in the same order, so the same numbers), the moments are updated in place, and ``grads`` is
never written into. A large parameter is updated block by block (:data:`UPDATE_BLOCK` values, a
few rows at a time): each formula is still one pass over the block, but the block and its
intermediates stay in the CPU's cache from one pass to the next, where a whole weight matrix and
its moments would come back from memory at every pass (Adam on a SimpleConvNet's 434,000 float32
parameters: 1.9 → 1.45 ms).

Where the compiled kernels run (:mod:`nnscratch.engine.compiled`), each optimizer's
:meth:`~BlockedUpdate.update_compiled` does the whole update of a parameter in one compiled pass
(:mod:`nnscratch.engine.kernels`: the same operations in the same order), on every core that
BLAS may use: Adam on a 784-256-128-10 network's 235,000 float32 parameters, 0.75 → 0.32 ms.
"""

import math

import numpy as np

from .. import optim
from . import compiled

#: steps between two flushes of the moving averages' subnormal entries (:func:`flush_subnormal`):
#: an entry that decays through them (from 1.2e-38 down to 0 takes float32 about 150 steps at a
#: rate of 0.9) stays there at most this many steps, at a sixteenth of a flush per step's cost
FLUSH_EVERY = 16
#: values per block of an update: 32768 float32 values are 128 KB, so that a block of a
#: parameter, its gradient, its state and two work arrays (under 1 MB) stay in the CPU's cache
UPDATE_BLOCK = 1 << 15


def row_blocks(param):
    """Slices of consecutive rows of ``param`` (along its first axis) of about
    :data:`UPDATE_BLOCK` values each, covering it; ``...`` (all of it) for a 0-d or small one."""
    if param.ndim == 0 or param.size <= UPDATE_BLOCK:
        return [...]
    rows = max(1, UPDATE_BLOCK * len(param) // param.size)
    return [slice(start, start + rows) for start in range(0, len(param), rows)]


def work_arrays(store, param, grad, count):
    """``count`` work arrays of ``param``'s shape for the intermediates of an update, in the dtype
    ``param`` and ``grad`` combine to: views of flat buffers ``store[dtype]`` kept from call to
    call (grown when a larger block comes)."""
    # np.result_type only when the dtypes differ: the usual case goes without its cost
    dtype = param.dtype if grad.dtype == param.dtype else np.result_type(param, grad)
    buffers = store.get(dtype)
    if buffers is None or len(buffers) < count or buffers[0].size < param.size:
        size = max(param.size, buffers[0].size if buffers else 0)
        buffers = store[dtype] = [np.empty(size, dtype) for _ in range(count)]
    return [buffer[: param.size].reshape(param.shape) for buffer in buffers[:count]]


class BlockedUpdate:
    """``update(params, grads)`` block by block: ``update_block(param, grad, *slots)`` gets the
    same rows of a parameter, its gradient and each of its state arrays (``slots``), and
    :meth:`work` arrays for the intermediates (buffers kept between steps, not state)."""

    def update(self, params, grads):
        self.t += 1
        slots = [self.slot(name, params) for name in self.slots]
        kernels = compiled.loaded()
        numbers = {}  # by dtype: the step's scalars for the kernels, worked out once
        for key in params:
            param, grad = params[key], grads[key]
            state = [arrays[key] for arrays in slots]
            if kernels is not None and compilable(param, *state) and grad.dtype == param.dtype:
                # read once: a strided gradient (a convolution's ∂L/∂W is a transposed
                # product) is copied flat, a pass the NumPy engine's strided reads cost too
                grad = np.ascontiguousarray(grad)
                dtype = param.dtype
                if dtype not in numbers:
                    numbers[dtype] = [dtype.type(x) for x in self.kernel_numbers(dtype)]
                self.update_compiled(kernels, numbers[dtype], param, grad, *state)
                continue
            for rows in row_blocks(param):
                self.update_block(param[rows], grad[rows], *(array[rows] for array in state))

    @property
    def flush(self):
        """Whether this step sets the moving averages' subnormal entries to 0
        (every :data:`FLUSH_EVERY` steps)."""
        return self.t % FLUSH_EVERY == 0

    def work(self, param, grad, count=1):
        """``count`` work arrays of ``param``'s shape (:func:`work_arrays`), from buffers made on
        first use (the class may be swapped in on an optimizer made by the textbook)."""
        return work_arrays(self.__dict__.setdefault("work_buffers", {}), param, grad, count)

    def update_block(self, param, grad, *slots):  # pragma: no cover - each optimizer has one
        raise NotImplementedError

    def kernel_numbers(self, dtype):  # pragma: no cover - each optimizer has its own
        """The step's hyperparameters as its kernel takes them (cast to ``dtype`` by
        :meth:`update`, as NumPy casts a Python float that meets an array: the kernel then
        computes in that dtype, as the NumPy engine does)."""
        raise NotImplementedError

    def update_compiled(self, kernels, numbers, param, grad, *slots):  # pragma: no cover
        """The update of one parameter by a compiled kernel, given :meth:`kernel_numbers` (cast),
        the parameter, its gradient and its state, all C-contiguous and of one float dtype
        (:func:`compilable`)."""
        raise NotImplementedError


def compilable(*arrays):
    """Whether a compiled kernel can update ``arrays`` (a parameter and its state) through flat
    views (:func:`flat`): all C-contiguous (else a flat copy would be updated, not the array) and
    of one float dtype, float32 or float64 (else the NumPy engine computes in the dtype they
    combine to)."""
    dtype = arrays[0].dtype
    return dtype.char in "fd" and all(
        array.dtype == dtype and array.flags.c_contiguous for array in arrays
    )


def flat(*arrays):
    """Flat views of C-contiguous ``arrays`` (the kernels' loops run over one index)."""
    return [array.reshape(-1) for array in arrays]


def flush_subnormal(average, work):
    """Set the entries of ``average`` smaller than the smallest normal float to 0, in place
    (``work``: scratch of its shape). A moving average of a gradient that stays 0 (the weights
    into a dead ReLU unit) decays geometrically into the subnormal floats (0.9ᵏ · 1e-3 is below
    float32's 1.2e-38 after about 800 steps), and x86 computes with subnormal numbers many times
    slower: Adam on a 784-256-128 ReLU net went from 1.4 s an epoch to 2.4 s by the third, 1.7 s
    with this, every :data:`FLUSH_EVERY` steps. The change is below 1.2e-38 (2.2e-308 in
    float64), far below any rounding."""
    np.abs(average, out=work)
    np.copyto(average, 0, where=work < np.finfo(average.dtype).tiny)
    return average


def moving_average(average, rate, g, work, squared=False, flush=False):
    """average ← rate·average + (1 − rate)·g, in place (``squared``: + (1 − rate)·g²), rounded
    as the textbook's expression is, bit for bit; with ``flush``, subnormal entries then set to
    0; ``work`` is scratch."""
    average *= rate
    if squared:
        np.multiply(g, g, out=work)
        work *= 1 - rate
    else:
        np.multiply(g, 1 - rate, out=work)
    average += work
    return flush_subnormal(average, work) if flush else average


def scaled_step(lr, g, h, eps, out, denom, h_scale=None):
    """out ← lr·g / (√(h / h_scale) + ε) (without ``h_scale``: √h), computed in ``out`` and
    ``denom``, the denominator first (``g`` may be ``out`` itself)."""
    if h_scale is None:
        np.sqrt(h, out=denom)
    else:
        np.sqrt(np.divide(h, h_scale, out=denom), out=denom)
    denom += eps
    np.multiply(g, lr, out=out)
    out /= denom
    return out


class SGD(BlockedUpdate, optim.SGD):
    """``optim.SGD``: W ← W − lr·g, with lr·g in a work array."""

    def update_block(self, param, grad):
        (lr_g,) = self.work(param, grad)
        param -= np.multiply(grad, self.lr, out=lr_g)

    def kernel_numbers(self, dtype):
        return (self.lr,)

    def update_compiled(self, kernels, numbers, param, grad):
        kernels.sgd(*flat(param, grad), *numbers)


def velocity(v, momentum, lr, grad, lr_g, scratch, flush=False):
    """v ← α·v − lr·g, in place (lr·g left in the work array ``lr_g``); with ``flush``, subnormal
    entries then set to 0 (``scratch``: a work array)."""
    v *= momentum
    v -= np.multiply(grad, lr, out=lr_g)
    return flush_subnormal(v, scratch) if flush else v


def velocity_numbers(optimizer, dtype):
    """Momentum's and Nesterov's kernel numbers: α, lr and the least normal float of ``dtype``."""
    return optimizer.momentum, optimizer.lr, np.finfo(dtype).tiny


class Momentum(BlockedUpdate, optim.Momentum):
    """``optim.Momentum``: v ← α·v − lr·g in place, then W ← W + v."""

    def update_block(self, param, grad, v):
        lr_g, scratch = self.work(param, grad, 2)
        param += velocity(v, self.momentum, self.lr, grad, lr_g, scratch, self.flush)

    kernel_numbers = velocity_numbers

    def update_compiled(self, kernels, numbers, param, grad, v):
        kernels.momentum(*flat(param, grad, v), *numbers, False, self.flush)


class Nesterov(BlockedUpdate, optim.Nesterov):
    """``optim.Nesterov``: v ← α·v − lr·g in place, then W ← W + (α·v − lr·g)."""

    def update_block(self, param, grad, v):
        lr_g, step = self.work(param, grad, 2)
        v = velocity(v, self.momentum, self.lr, grad, lr_g, step, self.flush)
        np.multiply(v, self.momentum, out=step)
        step -= lr_g
        param += step

    kernel_numbers = velocity_numbers

    def update_compiled(self, kernels, numbers, param, grad, v):
        kernels.momentum(*flat(param, grad, v), *numbers, True, self.flush)


class AdaGrad(BlockedUpdate, optim.AdaGrad):
    """``optim.AdaGrad``: h ← h + g², W ← W − lr·g / (√h + ε), in place."""

    def update_block(self, param, grad, h):
        work, denom = self.work(param, grad, 2)
        h += np.multiply(grad, grad, out=work)
        param -= scaled_step(self.lr, grad, h, self.eps, work, denom)

    def kernel_numbers(self, dtype):
        return self.lr, self.eps

    def update_compiled(self, kernels, numbers, param, grad, h):
        kernels.adagrad(*flat(param, grad, h), *numbers)


class RMSprop(BlockedUpdate, optim.RMSprop):
    """``optim.RMSprop``: h ← ρ·h + (1 − ρ)·g², W ← W − lr·g / (√h + ε), in place."""

    def update_block(self, param, grad, h):
        work, denom = self.work(param, grad, 2)
        moving_average(h, self.decay_rate, grad, work, squared=True, flush=self.flush)
        param -= scaled_step(self.lr, grad, h, self.eps, work, denom)

    def kernel_numbers(self, dtype):
        rho = self.decay_rate
        return rho, 1 - rho, self.lr, self.eps, np.finfo(dtype).tiny

    def update_compiled(self, kernels, numbers, param, grad, h):
        kernels.rmsprop(*flat(param, grad, h), *numbers, self.flush)


class Adam(BlockedUpdate, optim.Adam):
    """``optim.Adam``: m and v updated in place, m̂ in a work array, and
    W ← W − lr·m̂ / (√(v / (1 − β2ᵗ)) + ε)."""

    def update_block(self, param, grad, m, v):
        work, denom = self.work(param, grad, 2)
        moving_average(m, self.beta1, grad, work, flush=self.flush)
        moving_average(v, self.beta2, grad, work, squared=True, flush=self.flush)
        m_hat = np.divide(m, 1 - self.beta1**self.t, out=work)
        param -= scaled_step(self.lr, m_hat, v, self.eps, work, denom, 1 - self.beta2**self.t)

    def kernel_numbers(self, dtype):
        b1, b2, t = self.beta1, self.beta2, self.t
        # the last: the shrink of AdamW's matrices (Adam: 1, which leaves W)
        return (b1, 1 - b1, b2, 1 - b2, 1 - b1**t, 1 - b2**t, self.lr, self.eps,
                np.finfo(dtype).tiny, self.shrink)  # fmt: skip

    #: AdamW's W ← W·(1 − lr·λ) before the step, for matrices; Adam's 1 leaves W
    shrink = 1.0

    def update_compiled(self, kernels, numbers, param, grad, m, v):
        kernels.adam(*flat(param, grad, m, v), *numbers, self.flush)


class AdamW(Adam, optim.AdamW):
    """``optim.AdamW``: each weight matrix shrunk in place, W ← W·(1 − lr·λ), then Adam's step."""

    def update_block(self, param, grad, m, v):
        if param.ndim >= 2:
            param *= 1 - self.lr * self.decay
        super().update_block(param, grad, m, v)

    @property
    def shrink(self):
        return 1 - self.lr * self.decay

    def update_compiled(self, kernels, numbers, param, grad, m, v):
        if param.ndim < 2:  # a bias or a gain: no decay, Adam's step
            numbers = [*numbers[:-1], numbers[-1].dtype.type(1)]
        super().update_compiled(kernels, numbers, param, grad, m, v)


def clip_by_global_norm(grads, max_norm):
    """``optim.clip_by_global_norm``: ‖g‖ from each gradient's dot product with itself (BLAS, no
    squared copies), and the scale min(1, max_norm / ‖g‖) applied in place, where it is below 1
    (the gradients are the step's own arrays: nothing else reads them)."""
    norm = math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads.values()))
    if norm > max_norm:
        for g in grads.values():
            g *= g.dtype.type(max_norm / norm)
    return grads
