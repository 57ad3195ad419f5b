r"""
Cross-entropy loss
==================

The loss of one sample, :math:`E = -\log(y_t + \varepsilon)`, against :math:`y_t`, the probability
the network gives the true class: 0 when it is sure and right, growing without bound as
:math:`y_t \to 0`. The two dots are the book's examples, the true class predicted with
probability 0.6 and with 0.1. Every point is computed by ``cross_entropy_error``.

Command line: ``nnscratch plot loss``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch.plots import cross_entropy_loss

fig = cross_entropy_loss(lang=LANG)  # LANG: "en" or "zh-CN", the language of the labels
fig.savefig("loss.png", dpi=100)
