r"""
Random search of the learning rate and weight decay
===================================================

The book's hyperparameter search: each trial draws a learning rate from :math:`10^{-6}` to
:math:`10^{-2}` and a weight decay λ from :math:`10^{-8}` to :math:`10^{-4}`, both
log-uniformly (:math:`10^u`, u uniform between the exponents), trains a ReLU network with three
hidden layers of 100 units by SGD on 80 % of the 8×8 digits' training images, and is ranked by
its accuracy on the other 20 %, the validation split (the test set is never looked at). One
small plot per trial, best first: validation (solid) and training (dashed) accuracy per epoch,
titled with its rank, learning rate and weight decay. The best trials all have a learning
rate between 0.001 and 0.01, whatever their weight decay. This script runs 20 trials of 20
epochs; the command (``nnscratch search`` with its defaults) runs 40 and draws the 20 best.

Command line: ``nnscratch experiment search``
"""

# sphinx_gallery_start_ignore
import os

LANG = os.environ.get("NNSCRATCH_DOCS_LANG", "en")
# sphinx_gallery_end_ignore
from nnscratch.experiments.search import best_trials, random_search
from nnscratch.plots.search import search_figure

# each trial: {"index", "params": {"lr", "weight_decay"}, "val_acc": [...], "train_acc": [...]}
trials = random_search("digits", trials=20, epochs=20, seed=0)
best = best_trials(trials, top=20)  # by final validation accuracy

fig = search_figure(best, lang=LANG)
fig.savefig("search.png", dpi=100)
