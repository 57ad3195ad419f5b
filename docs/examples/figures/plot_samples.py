r"""
What a GPT writes as it learns
==============================

A small GPT (2 blocks of 4 heads, width 64) learning 唐诗三百首 writes 60 characters after the
start 床前 before any training, then after 100 and 300 steps (the same random seed each time, so
the differences are the training's), with its loss on the training and the validation text.
Untrained it draws characters at random; then the form of the poems appears. The command trains
for 2,000 steps (about 3 minutes).

Command line: ``nnscratch plot samples``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch import build
from nnscratch.plots import samples_over_training
from nnscratch.plots.language import train_and_sample

# the command's quick GPT on 唐诗三百首, built and trained as `nnscratch train` does
quick_gpt = {"model": "gpt", "layers": 2, "heads": 4, "width": 64, "context": 32}
run = build(
    {"dataset": "tang300", **quick_gpt, "batch_size": 16, "lr": 3e-3, "lr_schedule": "none"}
)
samples, _ = train_and_sample(run, iterations=(0, 100, 300), prompt="床前")

fig = samples_over_training(samples, prompt="床前", lang=LANG)  # LANG: "en" or "zh-CN"
fig.savefig("samples.png", dpi=100)
