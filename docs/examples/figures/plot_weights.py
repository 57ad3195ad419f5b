r"""
First-layer weights
===================

The weights :math:`W_1` of a TwoLayerNet (50 hidden units) trained on the 8×8 digits: column
:math:`j` of :math:`W_1`, reshaped to the image, is the pattern that excites hidden unit :math:`j`
(red: a bright pixel there raises its input :math:`a = x W_1 + b_1`, blue: lowers it). The script
trains for 10 epochs, the command's quick run for 20.

Command line: ``nnscratch plot weights`` (a saved network: ``--model DIR/model.npz``)
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch import build
from nnscratch.plots import first_layer_weights

# the command's quick run: a TwoLayerNet on digits, trained by SGD
run = build({"dataset": "digits", "model": "two-layer", "hidden": (50,), "epochs": 10})
run.trainer.train()

fig = first_layer_weights(run.net, run.data.info["image_shape"], lang=LANG)  # LANG: "en", "zh-CN"
fig.savefig("weights.png", dpi=100)
