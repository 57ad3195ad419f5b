r"""
Convolution filters, before and after learning
==============================================

The 30 first-layer filters (5×5) of a SimpleConvNet, as the book's figure 7-24 shows them: the
random start above, the learned filters below, white for large weights and black for small
(negative) ones. The network learns the 8×8 digits for 10 epochs here, as
``nnscratch train --model cnn --dataset digits --epochs 10 --out runs/cnn`` would.

Command line: ``nnscratch plot filters --model runs/cnn/model.npz``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch import build
from nnscratch.plots.conv import conv_filters

# a SimpleConvNet on digits (images of 1 × 8 × 8), as `nnscratch train --model cnn` builds it
run = build({"dataset": "digits", "model": "cnn", "epochs": 10})
initial = run.net.params["W1"].copy()  # (30, 1, 5, 5): the random start
run.trainer.train()

fig = conv_filters(run.net.params["W1"], initial, lang=LANG)  # LANG: "en" or "zh-CN"
fig.savefig("filters.png", dpi=100)
