r"""
Batch normalization across initial weight scales
================================================

Training accuracy per epoch of a ReLU network with five hidden layers of 100 units (SGD,
learning rate 0.01, batches of 100) on the first 1,000 training images of the 8×8 digits, with
batch normalization (solid) and without (dashed), one small plot per initial weight standard
deviation w, from 1 down to 0.0001 on a logarithmic grid; both runs of a plot start from the
same weights and see the same batches. Batch normalization rescales every layer's input to mean
0 and variance 1 over the mini-batch, :math:`\hat{x} = (x - \mu_B)/\sqrt{\sigma_B^2 + \varepsilon}`,
then :math:`\gamma \hat{x} + \beta`: with it the network learns from almost every scale, without
it only from a narrow band (too large and the loss diverges, too small and nothing moves). This
script draws 9 scales, 20 epochs each; the command (and the book) 16 scales.

Command line: ``nnscratch experiment batchnorm``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch.experiments.chapter6 import batchnorm_comparison
from nnscratch.plots.experiments import batchnorm_grid

# scales w = np.logspace(0, -4, 9): 1, 0.32, 0.1, ..., 0.0001
result = batchnorm_comparison("digits", scales=9, train_size=1000, epochs=20, seed=0)

fig = batchnorm_grid(result, lang=LANG)
fig.savefig("batchnorm.png", dpi=100)
