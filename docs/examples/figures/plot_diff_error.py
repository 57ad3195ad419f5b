r"""
Error of the numerical derivative
=================================

How far the numerical derivative of :math:`e^x` at :math:`x = 1` is from the true one, against
:math:`h`, on log-log axes. For large :math:`h` the truncation error dominates: :math:`O(h)` for
the forward difference, :math:`O(h^2)` for the central one (slopes 1 and 2 on these axes). For tiny
:math:`h` the round-off of :math:`f`, about :math:`\varepsilon_{\mathrm{machine}} |f| / h`, takes
over and the error grows again. The book's :math:`h = 10^{-4}` keeps the central difference's
error far below both ends.

Command line: ``nnscratch plot diff-error``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch.plots import difference_error

fig = difference_error(lang=LANG)  # LANG: "en" or "zh-CN", the language of the labels
fig.savefig("diff-error.png", dpi=100)
