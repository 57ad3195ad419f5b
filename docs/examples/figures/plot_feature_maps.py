r"""
Feature maps
============

What each first-layer filter of a SimpleConvNet responds to in one test image: the first
convolution's output after its ReLU, :math:`\mathrm{ReLU}(x * W_1[f] + b_1[f])`, one 4×4 map per
filter, bright where the filter matches. The network learns the 8×8 digits for 10 epochs here, as
``nnscratch train --model cnn --dataset digits --epochs 10 --out runs/cnn`` would.

Command line: ``nnscratch plot feature-maps --model runs/cnn/model.npz --index 0``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch import build
from nnscratch.plots.conv import feature_maps

# a SimpleConvNet on digits (images of 1 × 8 × 8), as `nnscratch train --model cnn` builds it
run = build({"dataset": "digits", "model": "cnn", "epochs": 10})
run.trainer.train()

data, index = run.data, 0  # the first test image
label = data.classes[data.t_test[index]]
fig = feature_maps(run.net, data.x_test[index], label, lang=LANG)  # LANG: "en" or "zh-CN"
fig.savefig("feature-maps.png", dpi=100)
