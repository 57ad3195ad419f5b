"""Figures of a character-level language model learning to write (唐诗三百首): the loss curves of
an RNNLM against a GPT on the same text, the attention weights of every head for a prompt, what
the GPT writes after 0, 100, 500, 2000 ... iterations, and an animation of the samples and of one
head's attention while it trains.

The training behind them is every run's: ``run.build`` makes the model and its
:class:`~nnscratch.run.trainer.Trainer` from the option table, and :func:`train_lm` takes its
steps (a mini-batch of windows, the gradient, AdamW, gradients clipped to a global norm). The
figures draw what that loop computed: the attention maps are the layers' own ``attention``
arrays of a forward pass, the samples are ``gpt.generate``'s text.

Every figure takes ``lang="en"`` or ``lang="zh-CN"``; the characters of the text (prompts,
samples) are drawn with a CJK font in both languages (English labels in DejaVu Sans, the
characters falling back to the CJK font).
"""

import math

import matplotlib
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure

from ..errors import NnscratchError
from ..validation import check_nonnegative_int, check_positive_int
from .frames import DEFAULT_FPS, DEFAULT_FRAMES, check_frames
from .lang import cjk_font, localized, refresh_fonts
from .training import moving_mean

__all__ = [
    "DEFAULT_ITERATIONS",
    "attention_heads",
    "attention_weights",
    "check_prompt",
    "gpt_training",
    "loss_curves",
    "record_gpt_training",
    "samples_over_training",
    "train_and_sample",
    "train_lm",
]

#: the iterations after which ``samples_over_training`` shows what the model writes
DEFAULT_ITERATIONS = (0, 100, 500, 2000)
#: how characters that draw as nothing are shown on the axes: newline, space, tab
VISIBLE = {"\n": "↵", " ": "␣", "\t": "⇥"}
#: the training loss shown with a sample: the mean of this many last steps
RECENT = 20
#: the animation's figure size (inches) and resolution: a GIF of a few MB
FIGSIZE, DPI = (9.0, 4.8), 80

_font_scanned = False


def text_fonts():
    """The font families that draw a text of CJK characters in a figure of either language:
    the current first family, then a CJK font (matplotlib falls back glyph by glyph), then
    DejaVu Sans. Without any CJK font the characters cannot be drawn: an error that says which
    package to install, never boxes."""
    global _font_scanned
    font = cjk_font()
    if font is None and not _font_scanned:
        _font_scanned = True  # fonts installed since matplotlib's cache was built: once a process
        font = cjk_font() if refresh_fonts() else None
    first = matplotlib.rcParams["font.family"][0]
    families = [first, font, "DejaVu Sans"] if font is not None else [first, "DejaVu Sans"]
    return list(dict.fromkeys(f for f in families if f not in ("sans-serif", "serif")))


def visible(ch):
    """A character as an axis label shows it: newline, space and tab as ↵ ␣ ⇥."""
    return VISIBLE.get(ch, ch)


def causal_image(weights):
    """Attention weights (T, T) as a heat map shows them: a masked array, masked above the
    diagonal (the causal mask's zeros, drawn grey: a later character, never looked at)."""
    T = weights.shape[-1]
    return np.ma.masked_array(weights, mask=np.triu(np.ones((T, T), dtype=bool), k=1))


def attention_cmap():
    """White (0) to dark blue (1); masked cells (above the diagonal) light grey."""
    cmap = matplotlib.colormaps["Blues"].with_extremes(bad="0.82")
    return cmap


def check_prompt(net, tokenizer, prompt):
    """The token ids of ``prompt``, or a one-line error: empty, or longer than the context."""
    if not isinstance(prompt, str) or not prompt:
        raise NnscratchError("the prompt must be a non-empty text, e.g. 床前明月光")
    context = getattr(net, "context", None)
    if context is not None and len(prompt) > context:
        raise NnscratchError(
            f"the prompt has {len(prompt)} characters but the model sees at most {context}: "
            f"give at most {context}"
        )
    return tokenizer.encode(prompt)


def attention_weights(net, ids):
    """The attention weights of every layer and head for the token ids (T,) of one text:
    (L, H, T, T), from one forward pass in evaluation mode; row i of head h of layer l is how
    position i (the query) shares its attention over positions 0..i (the keys), a probability
    distribution (the row sums to 1, zero above the diagonal: the causal mask)."""
    blocks = getattr(net, "blocks", None)
    if not blocks:
        raise NnscratchError(
            f"{type(net).__name__} has no attention layers: attention maps need a GPT"
        )
    ids = np.asarray(ids)
    with net.evaluating():
        net.scores(ids[np.newaxis, :])
    return np.stack([block.attn.attention[0] for block in blocks]).astype(np.float64)


@localized
def attention_heads(net, tokenizer, prompt, layer=None, *, s):
    """A grid of heat maps: the attention weights of every head (columns) of ``layer`` (None:
    every layer, one row each) for ``prompt``, its characters on both axes — the query
    (the position that looks) down, the key (the position looked at) across. The causal mask
    shows as the grey upper triangle: a position never looks at a later one."""
    ids = check_prompt(net, tokenizer, prompt)
    weights = attention_weights(net, ids)
    n_layers, n_heads, T, _ = weights.shape
    if layer is None:
        layers = list(range(n_layers))
    else:
        layer = check_nonnegative_int(layer, "layer")
        if layer >= n_layers:
            raise NnscratchError(
                f"the model has {n_layers} layers (0 to {n_layers - 1}): no layer {layer}"
            )
        layers = [layer]
    chars = [visible(ch) for ch in tokenizer.decode(ids)]
    size = min(3.2, max(2.0, 0.22 * T))
    families = text_fonts()
    fig = Figure(
        figsize=(size * n_heads + 1.2, size * len(layers) + 1.0),
        layout="constrained",
    )
    axes = fig.subplots(len(layers), n_heads, squeeze=False)
    fontsize = 10 if T <= 16 else 8 if T <= 32 else 6
    image = None
    for row, li in enumerate(layers):
        for h in range(n_heads):
            ax = axes[row, h]
            image = ax.imshow(
                causal_image(weights[li, h]), cmap=attention_cmap(), vmin=0.0, vmax=1.0
            )
            ax.set_xticks(range(T), chars, fontsize=fontsize, family=families)
            ax.set_yticks(range(T), chars, fontsize=fontsize, family=families)
            ax.tick_params(length=0, pad=1)
            ax.set_title(s["attn.head"].format(layer=li, head=h), fontsize=10)
            if row == len(layers) - 1:
                ax.set_xlabel(s["attn.key"], fontsize=9)
            if h == 0:
                ax.set_ylabel(s["attn.query"], fontsize=9)
    fig.colorbar(image, ax=axes, shrink=0.8, label=s["attn.colorbar"])
    fig.suptitle(
        s["attn.title"].format(prompt=prompt.replace("\n", "↵"), n=n_heads),
        family=families,
    )
    return fig


def _wrap(text, width):
    """``text``'s lines, each cut into pieces of at most ``width`` characters."""
    lines = []
    for line in text.split("\n"):
        lines += [line[i : i + width] for i in range(0, len(line), width)] or [""]
    return lines


@localized
def samples_over_training(samples, prompt=None, width=40, *, s):
    """What the model writes after each number of iterations: ``samples`` is a list of
    ``(iteration, text)`` (or ``(iteration, text, val_loss)``, or ``(iteration, text, val_loss,
    train_loss)``; NaN losses are left out), one row each, oldest first; the text
    as written (its own line breaks, long lines cut at ``width`` characters)."""
    if not samples:
        raise NnscratchError("no samples to draw: give (iteration, text) pairs")
    width = check_positive_int(width, "width")
    rows = [(int(it), str(text), *rest) for it, text, *rest in samples]
    wrapped = [_wrap(text.rstrip("\n"), width) for _, text, *_ in rows]
    heights = [max(len(lines), 1) + 1.2 for lines in wrapped]
    families = text_fonts()
    fig = Figure(figsize=(min(0.2 * width + 2.5, 12.0), 0.25 * sum(heights) + 0.8))
    grid = fig.add_gridspec(len(rows), 1, height_ratios=heights, hspace=0.08)
    for k, ((iteration, _, *rest), lines) in enumerate(zip(rows, wrapped, strict=True)):
        ax = fig.add_subplot(grid[k])
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        label = s["samples.after"].format(iteration=iteration)
        if len(rest) > 1 and math.isfinite(rest[1]):
            label += "\n" + s["samples.train_loss"].format(loss=float(rest[1]))
        if rest and math.isfinite(rest[0]):
            label += "\n" + s["samples.loss"].format(loss=float(rest[0]))
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10, labelpad=8)
        ax.text(
            0.01,
            0.5,
            "\n".join(lines),
            transform=ax.transAxes,
            va="center",
            ha="left",
            fontsize=11,
            family=families,
            linespacing=1.3,
        )
    title = s["samples.title"]
    if prompt:
        title += "\n" + s["samples.prompt"].format(prompt=prompt.replace("\n", "↵"))
    fig.suptitle(title, family=families)
    fig.subplots_adjust(left=0.2, right=0.98, top=1 - 0.75 / fig.get_figheight(), bottom=0.02)
    return fig


def _curve(history):
    """``(train_loss, val_iterations, val_loss)`` of a history: a list of losses (one per
    iteration), or a dict with ``train_loss`` (per iteration) and optionally ``val_loss`` (at
    ``val_iterations``; without them, spread evenly: at the end of each epoch)."""
    if isinstance(history, dict):
        train = np.asarray(history.get("train_loss", []), dtype=float)
        val = np.asarray(history.get("val_loss") or [], dtype=float)
        at = history.get("val_iterations")
        if at is None:
            at = np.arange(1, val.size + 1) * train.size / max(val.size, 1)
        at = np.asarray(at, dtype=float)
        if at.size != val.size:
            raise NnscratchError(
                f"the history has {val.size} validation losses but {at.size} val_iterations"
            )
        return train, at, val
    return np.asarray(history, dtype=float), np.zeros(0), np.zeros(0)


@localized
def loss_curves(histories, vocab_size=None, perplexity=True, smooth=None, *, s):
    """The loss curves of several language models on the same text (``histories``: label →
    a list of training losses per iteration, or a history dict, see :func:`_curve`): each
    model's training loss per iteration (faint) and its moving mean, its validation loss as
    dots on a dashed line; cross-entropy in nats per character on the left, perplexity e^loss
    on the right (``perplexity``), and ln V, the loss of a uniform guess over ``vocab_size``
    characters, where given."""
    if not histories:
        raise NnscratchError("no runs to draw: give at least one history")
    fig = Figure(figsize=(8.0, 4.8), layout="constrained")
    ax = fig.subplots()
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    finite_all = []
    for k, (label, history) in enumerate(histories.items()):
        train, at, val = _curve(history)
        if train.size == 0 and val.size == 0:
            raise NnscratchError(f"the run {label!r} has no losses to draw")
        color = colors[k % len(colors)]
        x = np.arange(1, train.size + 1)
        finite_all += [train[np.isfinite(train)], val[np.isfinite(val)]]
        window = smooth or max(train.size // 50, 1)
        if window > 1:
            ax.plot(x, train, color=color, lw=0.6, alpha=0.3)
            mean_at, mean = moving_mean(train, window)
        else:
            mean_at, mean = x, train
        if mean.size:
            name = s["lm.train"].format(name=label)
            ax.plot(
                mean_at,
                mean,
                color=color,
                lw=2,
                label=s["curves.last"].format(name=name, value=mean[-1]),
            )
        if val.size:
            name = s["lm.val"].format(name=label)
            ax.plot(
                at,
                val,
                color=color,
                lw=1.4,
                ls="--",
                marker="o",
                ms=4,
                label=s["curves.last"].format(name=name, value=val[-1]),
            )
    if vocab_size:
        chance = math.log(vocab_size)
        ax.axhline(
            chance,
            color="0.5",
            lw=1,
            ls=":",
            label=s["lm.chance"].format(v=vocab_size, value=chance),
        )
    finite = np.concatenate(finite_all)
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
        if vocab_size:
            high = max(high, math.log(vocab_size))
        pad = 0.05 * (high - low or 1.0)
        ax.set_ylim(max(low - pad, 0.0), high + pad)
    ax.set(xlabel=s["curves.iteration"], ylabel=s["lm.loss"])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    if perplexity:
        right = ax.secondary_yaxis(
            "right",
            functions=(
                lambda y: np.exp(np.clip(y, -50, 50)),
                lambda p: np.log(np.maximum(p, 1e-300)),
            ),
        )
        right.set_ylabel(s["lm.perplexity"])
        low, high = np.exp(ax.get_ylim())
        ticks = [m * 10.0**e for e in range(-1, 8) for m in (1, 2, 5)]
        right.set_yticks([t for t in ticks if low <= t <= high])
    ax.set_title(s["lm.title"])
    return fig


# --------------------------------------------------------------------------- training


def train_lm(trainer, iterations, callback=None):
    """Take ``iterations`` steps of ``trainer`` (a language model's :class:`Trainer`, as
    ``run.build`` makes it: ``build({"model": "gpt", "dataset": "tang300", ...}).trainer``),
    the loop every run takes: a mini-batch of windows, the gradient, the optimizer's step.

    ``callback(iteration, net, loss)``, where given, runs before the first step (loss None) and
    after each. Returns the history: ``train_loss`` (one per step), ``val_loss`` at each epoch's
    end (the trainer's validation text) and ``val_iterations``, the steps done then."""
    from ..run.callbacks import Callback

    iterations = check_nonnegative_int(iterations, "iterations")

    class Report(Callback):
        def on_iteration_end(self, trainer, loss):
            callback(trainer.iteration, trainer.net, loss)

    extra = [] if callback is None else [Report()]
    if callback is not None:
        callback(trainer.iteration, trainer.net, None)
    trainer.callbacks += extra
    try:
        if iterations:
            trainer.run(iterations)
    finally:
        for cb in extra:
            trainer.callbacks.remove(cb)
    history = trainer.history
    ends = [trainer.iter_per_epoch * (e + 1) for e in range(len(history.get("val_loss", ())))]
    return {
        "train_loss": list(history["train_loss"]),
        "val_loss": list(history.get("val_loss", ())),
        "val_iterations": ends,
    }


def sample_text(net, tokenizer, prompt, n_tokens=60, temperature=0.8, top_k=None, seed=0):
    """``prompt`` and what the GPT writes after it: ``n_tokens`` characters drawn by
    ``gpt.generate`` (same seed, same text), in evaluation mode."""
    from ..gpt import generate

    ids = check_prompt(net, tokenizer, prompt)
    with net.evaluating():
        out = generate(net, ids, n_tokens, temperature, top_k, rng=seed)
    return prompt + tokenizer.decode(out)


def _check_iterations(iterations):
    try:
        marks = sorted({check_nonnegative_int(i, "iterations") for i in iterations})
    except TypeError:
        raise NnscratchError(
            f"iterations must be a list of numbers, e.g. 0,100,500,2000, got {iterations!r}"
        ) from None
    if not marks:
        raise NnscratchError("iterations must name at least one iteration, e.g. 0,100,500,2000")
    return marks


def train_and_sample(
    run,
    iterations=DEFAULT_ITERATIONS,
    prompt="床前",
    n_tokens=60,
    temperature=0.8,
    top_k=None,
    seed=0,
):
    """Train the GPT of ``run`` (``run.build``'s Run of a language model; :func:`train_lm`) up
    to the largest of ``iterations``, and let it write after each of them: ``(samples,
    history)``, samples a list of ``(iteration, text, val_loss, train_loss)`` — ``text`` the
    prompt and ``n_tokens`` characters (the same seed for every sample: the differences are the
    training's), ``val_loss`` the loss on the validation text then, ``train_loss`` the mean
    training loss of the last :data:`RECENT` steps (NaN at 0). What
    :func:`samples_over_training` draws."""
    marks = _check_iterations(iterations)
    tokenizer = run.data.info["tokenizer"]
    check_prompt(run.net, tokenizer, prompt)  # a bad prompt fails before any training
    samples, recent = [], []

    def capture(i, model, loss):
        if loss is not None:
            recent.append(loss)
        if i in marks:
            val = run.trainer.validate()[0]
            text = sample_text(model, tokenizer, prompt, n_tokens, temperature, top_k, seed)
            train = float(np.mean(recent[-RECENT:])) if recent else math.nan
            samples.append((i, text, val, train))

    history = train_lm(run.trainer, marks[-1], callback=capture)
    return samples, history


# --------------------------------------------------------------------------- animation


def record_gpt_training(
    run,
    iterations=400,
    frames=DEFAULT_FRAMES,
    prompt="床前明月光，",
    attend="床前明月光，疑是地上霜。",
    layer=0,
    head=0,
    n_tokens=40,
    temperature=0.8,
    seed=0,
):
    """Train the GPT of ``run`` (``run.build``'s Run; :func:`train_lm`) for ``iterations``
    steps and keep ``frames`` snapshots, evenly spread from iteration 0: ``(iteration, training
    loss, sample, A)`` — the loss the mean of the last :data:`RECENT` steps (at 0, the untrained
    model's on the validation text) — with
    the sample written after ``prompt`` and A (T, T) the attention of ``head`` of ``layer`` for
    the text ``attend``."""
    net, tokenizer = run.net, run.data.info["tokenizer"]
    frames = check_frames(frames)
    iterations = check_positive_int(iterations, "iterations")
    layer = check_nonnegative_int(layer, "layer")
    head = check_nonnegative_int(head, "head")
    if layer >= net.n_layers or head >= net.n_heads:
        raise NnscratchError(
            f"the model has {net.n_layers} layers and {net.n_heads} heads: no head {head} of "
            f"layer {layer}"
        )
    marks = set(np.round(np.linspace(0, iterations, frames)).astype(int).tolist())
    ids = check_prompt(net, tokenizer, attend)
    check_prompt(net, tokenizer, prompt)
    shots, recent = [], []

    def capture(i, model, loss):
        if loss is not None:
            recent.append(loss)
        if i in marks:
            if recent:
                mean = float(np.mean(recent[-RECENT:]))
            else:  # before the first step: the loss of the untrained model, ≈ ln V
                mean = run.trainer.validate()[0]
            text = sample_text(model, tokenizer, prompt, n_tokens, temperature, None, seed)
            shots.append((i, mean, text, attention_weights(model, ids)[layer, head]))

    train_lm(run.trainer, iterations, callback=capture)
    return shots


@localized
def gpt_training(
    run,
    iterations=400,
    frames=DEFAULT_FRAMES,
    fps=DEFAULT_FPS,
    prompt="床前明月光，",
    attend="床前明月光，疑是地上霜。",
    layer=0,
    head=0,
    n_tokens=40,
    seed=0,
    *,
    s,
):
    """An animation of the GPT of ``run`` (``run.build``'s Run) learning its text: on the left
    what it writes after ``prompt``, on the right the attention of ``head`` of ``layer`` for the
    text ``attend``, frame by frame as it trains (:func:`record_gpt_training`; the frames replay
    what was recorded)."""
    shots = record_gpt_training(
        run, iterations, frames, prompt, attend, layer, head, n_tokens, seed=seed
    )
    families = text_fonts()
    tokenizer = run.data.info["tokenizer"]
    chars = [visible(ch) for ch in tokenizer.decode(tokenizer.encode(attend))]
    T = len(chars)
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    ax_text, ax_attn = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1.0]})
    ax_text.set_xticks([])
    ax_text.set_yticks([])
    ax_text.set_title(
        s["anim.gpt_samples"].format(prompt=prompt.replace("\n", "↵")), fontsize=10, family=families
    )
    text = ax_text.text(
        0.03,
        0.97,
        "",
        transform=ax_text.transAxes,
        va="top",
        ha="left",
        fontsize=12,
        family=families,
        linespacing=1.3,
    )
    image = ax_attn.imshow(
        causal_image(np.zeros((T, T))), cmap=attention_cmap(), vmin=0.0, vmax=1.0
    )
    ax_attn.set_xticks(range(T), chars, family=families, fontsize=9)
    ax_attn.set_yticks(range(T), chars, family=families, fontsize=9)
    ax_attn.tick_params(length=0, pad=1)
    ax_attn.set(xlabel=s["attn.key"], ylabel=s["attn.query"])
    ax_attn.set_title(s["attn.head"].format(layer=layer, head=head), fontsize=10)
    fig.colorbar(image, ax=ax_attn, shrink=0.8, label=s["attn.colorbar"])
    heading = fig.suptitle("")
    width = 16

    def update(i):
        iteration, loss, sample, weights = shots[i]
        text.set_text("\n".join(_wrap(sample.rstrip("\n"), width)))
        image.set_data(causal_image(weights))
        heading.set_text(s["anim.gpt_heading"].format(iteration=iteration, loss=loss))
        return text, image, heading

    update(0)
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    return FuncAnimation(
        fig, update, frames=len(shots), interval=1000 / fps, blit=False, cache_frame_data=False
    )
