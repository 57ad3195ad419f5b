r"""
Training curves drawn as training goes
======================================

A run's history replayed: the training loss at every iteration with its moving mean (left), and
the accuracy on the training and the test set after each epoch (right), growing frame by frame
as the run went. The run is the command's quick one, a TwoLayerNet (50 hidden units) learning
the 8×8 digits by SGD for 20 epochs; the command also takes any run's history
(``--history DIR/history.json``, written by ``nnscratch train --out DIR``).

Command line: ``nnscratch animate curves --out curves.gif``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch import build
from nnscratch.plots import animations, save_animation

run = build({"dataset": "digits", "model": "two-layer", "hidden": (50,), "epochs": 20})
history = run.trainer.train()  # {"train_loss": [...], "train_acc": [...], "test_acc": [...], ...}

anim = animations.curves(history, frames=25, fps=10, lang=LANG)
save_animation(anim, "curves.gif", fps=10)
