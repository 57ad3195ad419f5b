r"""
Initial weights and the training loss
=====================================

The training loss of a ReLU network with four hidden layers of 100 units (mini-batch SGD,
learning rate 0.01, batches of 128) learning the 8×8 digits from three initial weight scales,
the same batches for each: std 0.01, Xavier (:math:`1/\sqrt{n}`) and He (:math:`\sqrt{2/n}`),
n the number of inputs of a layer. From std 0.01 the signal shrinks layer by layer and the loss
never leaves that of a uniform guess, :math:`\ln 10`: the network learns nothing; with He's
scale, made for ReLU, the loss falls fastest, with Xavier's later. The curves are a moving mean
over 20 iterations. This script trains for 500 iterations; the command (and the book) for 2,000.

Command line: ``nnscratch experiment init``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch.experiments.chapter6 import init_comparison
from nnscratch.plots.experiments import init_loss_curves

# {"loss": {init: [loss per iteration]}, "test_acc": {init: ...}, "chance_loss": ln 10}
result = init_comparison("digits", iterations=500, seed=0)

fig = init_loss_curves(result, lang=LANG)
fig.savefig("init.png", dpi=100)
