r"""
Activations and the initial weights
===================================

Random input :math:`x \sim N(0, 1)` (1,000 samples of 100 values) through five layers of 100
units, :math:`z_l = f(z_{l-1} W_l)` with :math:`W_l \sim N(0, \sigma^2)` and no bias, as in the
book: one figure per activation function f (sigmoid, tanh, ReLU), one row per initial weight
scale σ (std 1, std 0.01, Xavier :math:`1/\sqrt{n}`, He :math:`\sqrt{2/n}`, with n = 100 inputs
per unit), one histogram per layer. With std 1 the sigmoid's outputs pile up at 0 and 1 (and
tanh's at −1 and 1), where the gradient vanishes; with std 0.01 they all sit in the middle (0.5;
tanh's at 0), every unit alike. Xavier keeps sigmoid and tanh spread through all five layers.
For ReLU, std 0.01 collapses to 0, Xavier shrinks layer by layer, and He keeps every layer
alike. The same settings as the command.

Command line: ``nnscratch experiment activations``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch.experiments.chapter6 import activation_distributions
from nnscratch.plots.experiments import activation_histograms

# {activation: {init: [each layer's mean, std, histogram, ...]}}
results = activation_distributions(n_layers=5, nodes=100, samples=1000, seed=0)

for i, activation in enumerate(["sigmoid", "tanh", "relu"], 1):
    fig = activation_histograms(results, activation, lang=LANG)
    fig.savefig(f"activations{i}_{activation}.png", dpi=100)  # numbered: shown in this order
