"""The engine's numerical gradient of a whole network: the notebook's numbers, far less work.

For every parameter θ_k this computes the same central difference as the naive loop
(:meth:`LayerNet.numerical_gradient`),

    ∂L/∂θ_k ≈ (L(θ + h·e_k) − L(θ − h·e_k)) / 2h,

with each perturbed loss evaluated exactly (no Taylor series, no backprop), but cheaply:

1. **Reuse what the perturbation does not change.** Perturbing W_k[i, j] (or b_k[j]) by δ changes
   only column j of layer k's pre-activation z_k, by δ·a_{k-1}[:, i] (by δ for the bias). Every
   activation below layer k, and every other column of z_k, is taken from one cached forward pass.
   For the last Affine layer the scores change in one column; for the one below it the change flows
   through the single hidden unit j into the scores as the rank-one Δa_j ⊗ W_L[j, :].
2. **Evaluate per sample, relative to the unperturbed loss.** With p = softmax(s) the loss of sample
   n changes by Δℓ_n = log(1 + Σ_c p_nc·expm1(Δs_nc)) − Σ_c t_nc·Δs_nc, exact and free of the
   cancellation of subtracting two losses near 2.3; L(θ ± h e_k) − L(θ) = (1/N) Σ_n Δℓ_n.
3. **Skip what provably cannot change the loss.** A sample whose input a_{k-1}[n, i] is 0 has
   0·(w ± h) = 0: its loss is the same bit for bit, so it contributes exactly 0 (an input that is 0
   for the whole batch gives a gradient of exactly 0, as the naive loop does). Samples with equal
   input values (pixels take 256 values) give identical perturbations, so each distinct
   (sample, value) pair is evaluated once and shared.
4. **Many perturbations at once, as array operations**, in chunks of bounded memory.

Supported networks: a ``LayerNet`` whose ``layers`` are Affine, activation (Sigmoid, Relu, Tanh),
Affine, ..., Affine, with a SoftmaxWithLoss on top, optionally with the book's L2 weight decay
½·λ·Σ‖W‖² (:func:`functions.weight_decay` of the attribute ``weight_decay_lambda``; its central
difference is exactly λ·w, added analytically). Anything else (Dropout, BatchNorm, other losses)
raises :class:`NnscratchError`.
Work is float64 throughout, whatever the parameters' dtype; gradients come back in the
parameters' dtype, as the naive loop returns them.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import functions
from ..errors import NnscratchError
from ..layers import Affine, Relu, Sigmoid, SoftmaxWithLoss, Tanh

#: elementwise activation layer → the function its forward applies (functions': no math twice)
ACTIVATION_FUNCTIONS = {Sigmoid: functions.sigmoid, Relu: functions.relu, Tanh: functions.tanh}


def _activation(layer):
    """The function of an activation layer (the textbook's or the engine's subclass), or None."""
    return next((f for cls, f in ACTIVATION_FUNCTIONS.items() if isinstance(layer, cls)), None)


#: float64 elements of scratch per chunk of perturbations: small enough to stay in L2 cache
CHUNK_ELEMENTS = 65_536
#: float64 elements of the (samples, inputs, units) block the per-input sums are gathered in (32 MB)
DENSE_ELEMENTS = 4_000_000


def _chain(net):
    """The net as [(weight_key, bias_key, activation or None)] per Affine layer, checked."""
    layers = list(getattr(net, "layers", ()))
    if not isinstance(getattr(net, "last_layer", None), SoftmaxWithLoss):
        raise NnscratchError(
            "the fast numerical gradient supports networks ending in "
            "SoftmaxWithLoss only; use net.numerical_gradient (the naive loop)"
        )
    chain = []
    for position, layer in enumerate(layers):
        expect_affine = position % 2 == 0
        activation = None if expect_affine else _activation(layer)
        if expect_affine and isinstance(layer, Affine):
            chain.append([layer.weight_key, layer.bias_key, None])
        elif activation is not None:
            chain[-1][2] = activation
        else:
            raise NnscratchError(
                f"layer {position} ({type(layer).__name__}) is not supported by the fast numerical "
                "gradient, which handles Affine → activation (Sigmoid, Relu, Tanh) → ... → Affine "
                "→ SoftmaxWithLoss; use net.numerical_gradient (the naive loop) for this network"
            )
    if not chain or chain[-1][2] is not None:
        raise NnscratchError(
            "the fast numerical gradient needs the layers to end with an Affine "
            "layer feeding SoftmaxWithLoss; use net.numerical_gradient"
        )
    covered = {key for weight, bias, _ in chain for key in (weight, bias)}
    missing = [key for key in net.params if key not in covered]
    if missing:
        raise NnscratchError(
            f"parameters {missing} belong to no supported layer: the fast "
            "numerical gradient is not supported for this network; use "
            "net.numerical_gradient"
        )
    return chain


def supports(net):
    """Whether :func:`fast_numerical_gradient` handles ``net``'s layers (module docstring)."""
    try:
        _chain(net)
    except NnscratchError:
        return False
    return True


#: threads sharing the perturbations (NumPy's ufuncs release the GIL on large arrays)
THREADS = min(os.cpu_count() or 1, 8)
_POOL, _POOL_THREADS = None, 0  # the shared thread pool, made on first use, and its size


def _executor():
    """The shared pool of ``THREADS`` threads, kept between calls (a new one if THREADS changed;
    the old one is left to finish whatever a concurrent caller gave it)."""
    global _POOL, _POOL_THREADS
    if _POOL_THREADS != THREADS:
        _POOL = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="numgrad")
        _POOL_THREADS = THREADS
    return _POOL


def _run_parallel(work, total, chunk):
    """``work(range)`` over [0, total) split into one contiguous part per thread."""
    parts = min(THREADS, -(-total // chunk))
    if parts <= 1:
        work(range(0, total))
        return
    executor = _executor()
    bounds = np.linspace(0, total, parts + 1).astype(int)
    for future in [executor.submit(work, range(lo, hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]:
        future.result()


def _groups(values):
    """Distinct nonzero (sample, value) pairs of a column-by-column input ``values`` (N, D).

    Returns ``(sample, value, group_of_pair, pair_row, pair_col)``: for each group its sample index
    and value, and for each nonzero entry (pair_row, pair_col) the group that carries it.
    """
    rows, cols = np.nonzero(values)
    vals = values[rows, cols]
    order = np.lexsort((vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    new = np.ones(len(rows), dtype=bool)
    new[1:] = (rows[1:] != rows[:-1]) | (vals[1:] != vals[:-1])
    group = np.cumsum(new) - 1
    return rows[new], vals[new], group, rows, cols


class _Engine:
    """One cached forward pass and the loss changes of column perturbations on top of it."""

    def __init__(self, net, chain, x, t):
        self.chain = chain
        self.weights = [np.asarray(net.params[w], dtype=np.float64) for w, _, _ in chain]
        biases = [np.asarray(net.params[b], dtype=np.float64) for _, b, _ in chain]
        self.inputs, self.pre, self.post = [], [], []  # a_{k-1}, z_k, a_k per Affine layer k
        a = np.asarray(x, dtype=np.float64)
        for (_, _, act), w, b in zip(chain, self.weights, biases):
            self.inputs.append(a)
            z = a @ w + b
            a = act(z) if act is not None else z
            self.pre.append(z)
            self.post.append(a)
        log_p = functions.log_softmax(a)
        self.p = np.exp(log_p)
        t = np.asarray(t)
        n, c = a.shape
        if t.shape == (n, c):
            self.targets = t.astype(np.float64)  # one-hot (or soft) labels: weights over classes
        else:
            self.targets = functions.one_hot(functions.to_index_labels(t), c)
        self.target_sum = self.targets.sum(axis=1)
        # Σ_c t_nc W_L[j, c]: the label part of a rank-one score change da_j ⊗ W_L[j, :]
        self.target_w = self.targets @ self.weights[-1].T
        self.p_t = np.ascontiguousarray(self.p.T)
        self.loss = float(functions.negative_log_likelihood(log_p, t))

    def _delta_loss(self, samples, p_expm1, t_ds):
        """Δℓ_n = T_n·log(1 + Σ_c p_nc·expm1(Δs_nc)) − Σ_c t_nc·Δs_nc from its two sums over the
        classes, ``p_expm1`` and ``t_ds`` (G, ...), for sample ``samples[g]`` (T_n = Σ_c t_nc)."""
        target_sum = self.target_sum[samples].reshape((-1,) + (1,) * (p_expm1.ndim - 1))
        return target_sum * np.log1p(p_expm1) - t_ds

    def loss_change(self, k, samples, dz, buffer):
        """Δℓ (G, H_k) of sample ``samples[g]`` when column j of z_k changes by ``dz[g]`` (G,),
        for every unit j of layer k at once. ``buffer``: scratch space of ≥ 2·G·H_k floats."""
        last = len(self.chain) - 1
        if k == last:  # the scores themselves: Δs = dz·e_j, so each sum over c has one term
            return self._delta_loss(
                samples,
                self.p[samples] * np.expm1(dz)[:, np.newaxis],
                self.targets[samples] * dz[:, np.newaxis],
            )
        act = self.chain[k][2]
        z, a = self.pre[k][samples], self.post[k][samples]
        da = act(z + dz[:, np.newaxis]) - a  # (G, H_k): unit j's output change
        w_next = self.weights[k + 1]
        if k + 1 == last:  # rank one into the scores: Δs = da_j ⊗ W_L[j, :]
            # class by class, laid out (H_k, G) so that the long axis is innermost and the
            # scratch stays in cache: Σ_c p_c·expm1(da·W_L[:, c])
            da_t = np.ascontiguousarray(da.T)
            p_t = self.p_t[:, samples]
            size = da.size
            tmp = buffer[:size].reshape(da_t.shape)
            acc = buffer[size : 2 * size].reshape(da_t.shape)
            acc[...] = 0.0
            for c in range(w_next.shape[1]):
                np.multiply(da_t, w_next[:, c : c + 1], out=tmp)
                np.expm1(tmp, out=tmp)
                tmp *= p_t[c]
                acc += tmp
            # Σ_c t_c Δs_c = da_j · Σ_c t_c W_L[j, c]
            return self._delta_loss(samples, acc.T, da * self.target_w[samples])
        # deeper: propagate the (G, H_k, D) change layer by layer, differences only
        ds = da[:, :, np.newaxis] * w_next[np.newaxis]
        for m in range(k + 1, last):
            act_m = self.chain[m][2]
            z_m, a_m = self.pre[m][samples][:, np.newaxis], self.post[m][samples][:, np.newaxis]
            ds = (act_m(z_m + ds) - a_m) @ self.weights[m + 1]
        p, t = self.p[samples][:, np.newaxis], self.targets[samples][:, np.newaxis]
        return self._delta_loss(samples, np.sum(p * np.expm1(ds), axis=-1), np.sum(t * ds, axis=-1))

    def layer_gradient(self, k, h):
        """Central differences for W_k (D, H) and b_k (H,) from the distinct nonzero inputs."""
        a_in = self.inputs[k]
        n, d = a_in.shape
        width = self.weights[k].shape[1]
        # the bias is the weight of an input that is 1 for every sample
        values = np.concatenate([a_in, np.ones((n, 1))], axis=1)
        sample, value, group, pair_row, pair_col = _groups(values)
        # scratch per group: two (H_k,) rows next to the scores, (H_k × widest layer above) deeper
        near = k + 1 >= len(self.chain) - 1
        per_group = width * (2 if near else max(w.shape[1] for w in self.weights[k + 1 :]))
        # next to the scores the scratch fits in cache; deeper, larger chunks amortise the matmuls
        chunk = max(1, (CHUNK_ELEMENTS if near else DENSE_ELEMENTS) // per_group)
        diff = np.empty((len(sample), width))

        def work(part):  # one thread's share of the groups, chunk by chunk, its own scratch
            buffer = np.empty(min(part.stop - part.start, chunk) * per_group)
            for start in range(part.start, part.stop, chunk):
                s = slice(start, min(start + chunk, part.stop))
                plus = self.loss_change(k, sample[s], h * value[s], buffer)
                minus = self.loss_change(k, sample[s], -h * value[s], buffer)
                diff[s] = plus - minus  # N·(L(θ+h e) − L(θ−h e)), this group's share

        _run_parallel(work, len(sample), chunk)
        # Σ over the samples of each input i, a block of samples at a time (pairs are by sample)
        grad = np.zeros((d + 1, width))
        block = max(1, DENSE_ELEMENTS // ((d + 1) * width))
        bounds = np.searchsorted(pair_row, np.arange(0, n + block, block))
        for first, lo, hi in zip(range(0, n, block), bounds[:-1], bounds[1:]):
            dense = np.zeros((min(block, n - first) * (d + 1), width))
            dense[(pair_row[lo:hi] - first) * (d + 1) + pair_col[lo:hi]] = diff[group[lo:hi]]
            grad += dense.reshape(-1, d + 1, width).sum(axis=0)
        grad /= n * 2 * h
        return grad[:d], grad[d]


def fast_numerical_gradient(net, x, t, h=1e-4):
    """∂L/∂θ of every parameter by the notebook's central differences, evaluated fast.

    Same result as ``net.numerical_gradient(x, t, h)`` (the naive loop, two full forward passes per
    parameter) up to rounding — see the module docstring for how. ``x`` is (N, D); ``t`` index
    labels (N,) / (N, 1) or one-hot (N, C). Returns {key: array of the parameter's shape and dtype}
    for every key of ``net.params``.
    """
    chain = _chain(net)
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[np.newaxis, :]
    if h <= 0:
        raise NnscratchError(f"the step h must be positive, got {h!r}")
    engine = _Engine(net, chain, x, t)
    decay = float(getattr(net, "weight_decay_lambda", 0.0) or 0.0)
    expected = engine.loss + functions.weight_decay(engine.weights, decay)
    actual = float(net.loss(x, t))
    # the engine works in float64; a float32 net's own loss agrees only to float32's precision
    rtol = max(1e-9, 10 * float(np.finfo(np.result_type(*net.params.values())).eps))
    if not np.isclose(actual, expected, rtol=rtol, atol=1e-12):
        raise NnscratchError(
            f"net.loss gives {actual!r} but the fast numerical gradient models {expected!r}: the "
            "network's loss has terms it does not know; use net.numerical_gradient (the naive "
            "loop)"
        )
    grads = {}
    for k, (w_key, b_key, _) in enumerate(chain):
        g_w, g_b = engine.layer_gradient(k, h)
        if decay:
            g_w = g_w + decay * engine.weights[k]  # (½λ(w+h)² − ½λ(w−h)²) / 2h = λw exactly
        grads[w_key], grads[b_key] = g_w, g_b
    return {
        key: grads[key].astype(np.asarray(param).dtype, copy=False)
        for key, param in net.params.items()
    }


def numerical_gradient(net, x, t):
    """The notebook's central differences ∂L/∂θ ≈ (L(θ + h) − L(θ − h)) / 2h for every parameter:
    by :func:`fast_numerical_gradient` where it supports the network (the same numbers, far less
    work), else by the naive loop ``net.numerical_gradient``."""
    if supports(net):
        return fast_numerical_gradient(net, x, t)
    return net.numerical_gradient(x, t)
