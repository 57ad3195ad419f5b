r"""
Decision boundary
=================

The class regions of a network with two inputs, on the spiral set: each point of a grid is
coloured by the class that ``net.predict`` gives it, paler where the top probability is near
chance; the training points are circles, the test points triangles. The network is the
command's quick one, a 2-32-32-3 MLP of tanh units trained by Adam (learning rate 0.01) for 150
epochs.

Command line: ``nnscratch plot boundary --dataset spiral``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch import build
from nnscratch.plots import decision_regions

# the command's quick run: an MLP of tanh units on the spiral, Adam at 0.01
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
run.trainer.train()

data = run.data
fig = decision_regions(
    run.net,
    data.x_train,
    data.t_train,
    data.x_test,
    data.t_test,
    n_classes=data.n_classes,
    lang=LANG,  # "en" or "zh-CN"
)
fig.savefig("boundary.png", dpi=100)
