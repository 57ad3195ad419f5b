r"""
First-layer weights while a network learns digits
=================================================

The weights of the first layer of a TwoLayerNet (64-50-10, SGD) learning the 8×8 digits: each
small image is one hidden unit's column :math:`W_1[:, j]` laid out as an 8×8 picture, red
positive and blue negative, on a colour scale of ±max|W1| of that frame, so that the patterns
show from the first step. The random starting weights turn into strokes and blobs that respond
to parts of the digits. 25 frames over about 600 steps, one every 25.

Command line: ``nnscratch animate weights --out weights.gif``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch import build
from nnscratch.plots import animations, save_animation

# the command's quick digits run: a TwoLayerNet of 50 hidden units
run = build({"dataset": "digits", "model": "two-layer", "hidden": (50,), "epochs": 20})
anim = animations.weights(
    run.trainer,
    run.data.info.get("image_shape"),  # (8, 8)
    frames=25,
    every=25,  # steps between frames: 600 in all
    fps=10,
    lang=LANG,
)
save_animation(anim, "weights.gif", fps=10)
