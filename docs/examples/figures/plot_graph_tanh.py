r"""
The graph of tanh's second derivative
=====================================

What ``backward(create_graph=True)`` records. Differentiating :math:`y = \tanh x` at :math:`x = 1`
builds a graph that computes :math:`y'`; differentiating that graph again gives :math:`y''`.
This is the graph of the second derivative, turned into a drawing by ``from_variable`` and
``graph_figure``.

Command line: ``nnscratch plot graph-tanh``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch.plots import tanh_graph

fig = tanh_graph(lang=LANG)  # LANG: "en" or "zh-CN", the language of the labels
fig.savefig("graph-tanh.png", dpi=100)
