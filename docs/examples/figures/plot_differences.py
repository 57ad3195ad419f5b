r"""
Forward and central differences
===============================

The forward difference :math:`(f(x+h) - f(x)) / h` and the central difference
:math:`(f(x+h) - f(x-h)) / 2h` of :math:`f(x) = \sin x` at :math:`x = 1`, drawn as secants beside
the true tangent, with a large :math:`h = 0.8` so that the gap shows: the central secant is nearly
parallel to the tangent (error :math:`O(h^2)`), the forward one is not (error :math:`O(h)`). The
slopes come from ``numerical_diff``.

Command line: ``nnscratch plot differences``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch.plots import difference_tangents

fig = difference_tangents(lang=LANG)  # LANG: "en" or "zh-CN", the language of the labels
fig.savefig("differences.png", dpi=100)
