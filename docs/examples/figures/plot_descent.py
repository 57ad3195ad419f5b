r"""
Gradient descent and the learning rate
======================================

Paths of ``gradient_descent``, :math:`x \leftarrow x - \eta \nabla f(x)`, on
:math:`f(x_0, x_1) = x_0^2 + x_1^2` from :math:`(-3, 4)`, one panel per learning rate
:math:`\eta`: at 0.01 it crawls and is still far from the minimum after 100 steps, at 0.1 it
arrives, at 1.1 every step overshoots the minimum by more than the last and the path runs away.

Command line: ``nnscratch plot descent``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch.plots import descent_paths

fig = descent_paths(lang=LANG)  # LANG: "en" or "zh-CN", the language of the labels
fig.savefig("descent.png", dpi=100)
