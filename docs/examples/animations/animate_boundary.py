r"""
Decision boundary while a network learns
========================================

The class regions of a 2-32-32-3 network of tanh units (Xavier weights, Adam at learning rate
0.01, batches of 32) as it learns the spiral set: each frame colours every point of a grid by the
class the network predicts there, paler where it is unsure, with the iteration and the loss on
the whole training set in the corner. The 25 frames cover about 1,500 training steps, one frame
every 63 steps; the network is trained in place by its trainer, and the animation replays the
snapshots.

Command line: ``nnscratch animate boundary --out boundary.gif``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch import build
from nnscratch.plots import animations, save_animation

# the command's quick 2-D run: an MLP of tanh units on the spiral, Adam at 0.01
run = build(
    {
        "dataset": "spiral",
        "model": "mlp",
        "hidden": (32, 32),
        "activation": "tanh",
        "weight_init": "xavier",
        "batchnorm": False,
        "optimizer": "adam",
        "lr": 0.01,
        "lr_schedule": "none",
        "batch_size": 32,
        "epochs": 150,
    }
)
# 25 frames, one every 63 steps: about 1,500 steps in all (trainer.run, the library's own loop)
anim = animations.boundary(run.trainer, frames=25, every=63, fps=10, lang=LANG)
save_animation(anim, "boundary.gif", fps=10)
