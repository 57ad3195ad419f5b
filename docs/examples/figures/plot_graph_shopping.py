r"""
The shopping graph
==================

The book's computational graph of figure 5-17: 2 apples at 100 each and 3 oranges at 150 each,
with a tax of 1.1. The values go forward above the arrows; the derivatives of the price come back
below them, from the backward passes of ``MulLayer`` and ``AddLayer``. The graph is laid out and
drawn with matplotlib: no graphviz needed.

Command line: ``nnscratch plot graph-shopping``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch.plots import shopping_graph

fig = shopping_graph(lang=LANG)  # LANG: "en" or "zh-CN", the language of the labels
fig.savefig("graph-shopping.png", dpi=100)
