r"""
Gradient descent and the learning rate
======================================

Gradient descent :math:`x \leftarrow x - \eta \nabla f(x)` on
:math:`f(x_0, x_1) = x_0^2 + x_1^2` from the point (−3, 4), one step a frame, for four learning
rates :math:`\eta`: 0.02 is too small (after 24 steps it is still far from the minimum at the
origin), 0.1 goes straight there, 0.9 overshoots the minimum and jumps from side to side, and
1.02 overshoots more each step and diverges. Each step multiplies x by :math:`1 - 2\eta`, which
is why 0.9 zigzags yet converges and 1.02 does not.

Command line: ``nnscratch animate descent --out descent.gif``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch.plots import animations, save_animation

# gradient_descent for each rate: frame i shows steps 0..i
anim = animations.descent(frames=25, fps=10, lang=LANG)
save_animation(anim, "descent.gif", fps=10)
