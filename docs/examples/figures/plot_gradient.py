r"""
The gradient field
==================

Arrows of :math:`-\nabla f` on the contours of :math:`f(x_0, x_1) = x_0^2 + x_1^2`, each gradient
computed by ``numerical_gradient``, as in the book's figure 4-9: every arrow points downhill,
toward the minimum at the origin, and is longer where the slope is steeper. It is the direction in
which gradient descent steps.

Command line: ``nnscratch plot gradient``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch.plots import gradient_field

fig = gradient_field(lang=LANG)  # LANG: "en" or "zh-CN", the language of the labels
fig.savefig("gradient.png", dpi=100)
