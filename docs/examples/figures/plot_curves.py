r"""
Training curves
===============

A run's history: the training loss at every iteration with its moving mean (left), and the
accuracy on the training and the test set after every epoch (right). The run is a TwoLayerNet (50
hidden units) learning the 8×8 digits by SGD for 10 epochs; ``nnscratch train --out DIR`` writes
the same history to ``DIR/history.json``.

Command line: ``nnscratch plot curves --history DIR/history.json``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch import build
from nnscratch.plots import training_curves

run = build({"dataset": "digits", "model": "two-layer", "hidden": (50,), "epochs": 10})
history = run.trainer.train()  # {"train_loss": [...], "train_acc": [...], "test_acc": [...], ...}

fig = training_curves(history, lang=LANG)  # LANG: "en" or "zh-CN"
fig.savefig("curves.png", dpi=100)
