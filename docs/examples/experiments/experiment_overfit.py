r"""
Overfitting, weight decay and dropout
=====================================

Training (solid) and test (dashed) accuracy per epoch of a 7-layer ReLU network (six hidden
layers of 100 units, He weights, SGD at learning rate 0.01) trained on only the first 300
training images of the 8×8 digits, three ways from the same initial weights and batches: plain,
with weight decay (the loss becomes :math:`L + \frac{\lambda}{2} \sum \|W\|^2`, λ = 0.1), and
with dropout (each hidden unit dropped with probability 0.2 at every training step). The gap
between the two curves is the overfitting. After 200 epochs (the command's settings), the plain
network has learned its 300 images by heart: training accuracy 1.0, test 0.94. Weight decay
narrows the gap (0.88 and 0.85) at a lower accuracy; dropout learns more slowly, and its gap is
still that of the plain network.

Command line: ``nnscratch experiment overfit``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch.experiments.chapter6 import overfit_comparison
from nnscratch.plots.experiments import overfit_curves

# {"variants": {"plain" | "weight decay λ = 0.1" | "dropout 0.2": {"train_acc", "test_acc"}}}
result = overfit_comparison("digits", train_size=300, epochs=200, seed=0)

fig = overfit_curves(result, lang=LANG)
fig.savefig("overfit.png", dpi=100)
