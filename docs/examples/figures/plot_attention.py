r"""
Attention heads of a GPT
========================

The attention weights of every head of a small GPT (2 blocks of 4 heads, width 64, windows of 32
characters) for the line 床前明月光，疑是地上霜。, its characters on both axes: the query (the
position that looks) down, the key (the position looked at) across. Each row sums to 1; the grey
upper triangle is the causal mask, as a position never looks at a later one. The GPT learns
唐诗三百首 for 200 steps here; the command's quick GPT trains for 300.

Command line: ``nnscratch plot attention`` (a saved GPT: ``--model DIR/model.npz``)
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch import build
from nnscratch.plots import attention_heads
from nnscratch.plots.language import train_lm

# the command's quick GPT on 唐诗三百首, built and trained as `nnscratch train` does
quick_gpt = {"model": "gpt", "layers": 2, "heads": 4, "width": 64, "context": 32}
run = build(
    {"dataset": "tang300", **quick_gpt, "batch_size": 16, "lr": 3e-3, "lr_schedule": "none"}
)
train_lm(run.trainer, 200)  # 200 steps

tokenizer = run.data.info["tokenizer"]
fig = attention_heads(run.net, tokenizer, "床前明月光，疑是地上霜。", lang=LANG)  # "en", "zh-CN"
fig.savefig("attention.png", dpi=100)
