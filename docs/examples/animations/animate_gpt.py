r"""
A GPT learning Tang poems
=========================

A small GPT (2 blocks of 4 attention heads, width 64) learning 唐诗三百首 character by
character: on the left, what it writes after 床前明月光， at that point of its training (the
same random seed every frame, so the changes are the training's); on the right, the attention
weights of head 0 of block 0 over the line 床前明月光，疑是地上霜。 — row i says how much
character i attends to each character before it. Untrained, it writes characters at random;
within a few hundred steps, lines broken by ， and 。 in the poems' manner. 25 frames over 400
training steps, the training loss in the heading.

Command line: ``nnscratch animate gpt --out gpt.gif``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch import build
from nnscratch.plots import save_animation
from nnscratch.plots.language import gpt_training

# the command's quick GPT on 唐诗三百首, built as `nnscratch train` builds it
run = build(
    {
        "dataset": "tang300",
        "model": "gpt",
        "layers": 2,
        "heads": 4,
        "width": 64,
        "context": 32,
        "batch_size": 16,
        "lr": 3e-3,
        "lr_schedule": "none",
    }
)
anim = gpt_training(
    run,
    iterations=400,
    frames=25,
    fps=10,
    prompt="床前明月光，",
    attend="床前明月光，疑是地上霜。",
    lang=LANG,
)
save_animation(anim, "gpt.gif", fps=10)
