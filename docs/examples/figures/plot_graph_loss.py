r"""
The loss graph of a TwoLayerNet
===============================

The graph that autograd builds for the loss of a small TwoLayerNet (2 inputs, 3 hidden units, 2
classes, a batch of 4): x → linear → sigmoid → linear → softmax_cross_entropy, each parameter a
leaf. Every node shows its value's shape and range and the gradient that ``loss.backward()`` gave
it.

Command line: ``nnscratch plot graph-loss``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch.plots import loss_graph

fig = loss_graph(lang=LANG)  # LANG: "en" or "zh-CN", the language of the labels
fig.savefig("graph-loss.png", dpi=100)
