r"""
Loss curves of an RNNLM and a GPT
=================================

An RNNLM and a GPT of about its size learn 唐诗三百首 from the same batches for 200 steps each (the
command: 500): the training loss at every step (faint) and its moving mean, the validation loss
as dots on a dashed line, in nats per character on the left and as perplexity
:math:`e^{\mathrm{loss}}` on the right; :math:`\ln V` is the loss of a uniform guess over the
:math:`V` characters.

Command line: ``nnscratch plot lm-curves`` (saved runs: ``--runs runs/rnnlm runs/gpt``)
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch import build
from nnscratch.plots import loss_curves
from nnscratch.plots.language import train_lm

# the command's quick models on 唐诗三百首, built and trained as `nnscratch train` does
training = {
    "dataset": "tang300",
    "context": 32,
    "batch_size": 16,
    "lr": 3e-3,
    "lr_schedule": "none",
}
models = {
    "RNNLM": {"model": "rnnlm", "width": 64, "hidden": (64,)},
    "GPT": {"model": "gpt", "layers": 2, "heads": 4, "width": 64},
}
histories = {}
for label, model in models.items():
    run = build({**training, **model})
    histories[label] = train_lm(run.trainer, 200)  # 200 steps

fig = loss_curves(histories, vocab_size=run.data.n_classes, lang=LANG)  # LANG: "en", "zh-CN"
fig.savefig("lm-curves.png", dpi=100)
