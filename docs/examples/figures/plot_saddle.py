r"""
A saddle point
==============

The surface :math:`z = x^2 - y^2`. Its gradient :math:`(2x, -2y)` is 0 at the origin, yet the
origin is no minimum: along :math:`x` it is the lowest point, along :math:`y` the highest. Gradient
descent can stall at such saddle points.

Command line: ``nnscratch plot saddle``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch.plots import saddle_surface

fig = saddle_surface(lang=LANG)  # LANG: "en" or "zh-CN", the language of the labels
fig.savefig("saddle.png", dpi=100)
