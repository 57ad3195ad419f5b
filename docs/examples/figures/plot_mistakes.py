r"""
The most confident mistakes
===========================

The test images that a TwoLayerNet (50 hidden units) trained on the 8×8 digits gets wrong with the
highest probability, surest first: above each, the predicted class and its probability, below,
the true class. The script trains for 10 epochs, the command's quick run for 20.

Command line: ``nnscratch plot mistakes`` (a saved network: ``--model DIR/model.npz``)
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch import build
from nnscratch.plots import most_confident_mistakes

# the command's quick run: a TwoLayerNet on digits, trained by SGD
run = build({"dataset": "digits", "model": "two-layer", "hidden": (50,), "epochs": 10})
run.trainer.train()

data = run.data
fig = most_confident_mistakes(
    run.net,
    data.x_test,
    data.t_test,
    data.info["image_shape"],
    lang=LANG,  # LANG: "en", "zh-CN"
)
fig.savefig("mistakes.png", dpi=100)
