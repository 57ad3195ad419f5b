r"""
tanh and its derivatives
========================

:math:`\tanh x` on :math:`[-4, 4]` and its first three derivatives. Each derivative is computed by
differentiating the graph of the one before it again (``backward(create_graph=True)``), not from a
formula.

Command line: ``nnscratch plot derivatives``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch.plots import tanh_derivatives

fig = tanh_derivatives(lang=LANG)  # LANG: "en" or "zh-CN", the language of the labels
fig.savefig("derivatives.png", dpi=100)
