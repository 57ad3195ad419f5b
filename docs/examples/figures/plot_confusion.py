r"""
Confusion matrix
================

How a TwoLayerNet (50 hidden units) trained on the 8×8 digits answers on the test set: row = true
class, column = predicted class. The diagonal holds the correct answers, every other cell is a
mistake; each cell is coloured by its fraction of the true class, and the title gives the
accuracy. The script trains for 10 epochs, the command's quick run for 20.

Command line: ``nnscratch plot confusion`` (a saved network: ``--model DIR/model.npz``)
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch import build
from nnscratch.plots import confusion_heatmap

# the command's quick run: a TwoLayerNet on digits, trained by SGD
run = build({"dataset": "digits", "model": "two-layer", "hidden": (50,), "epochs": 10})
run.trainer.train()

data = run.data
fig = confusion_heatmap(run.net, data.x_test, data.t_test, lang=LANG)  # LANG: "en", "zh-CN"
fig.savefig("confusion.png", dpi=100)
