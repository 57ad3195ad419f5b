"""Every figure, one module per topic; all headless (matplotlib's Figure API, no pyplot)."""

from .chapter4 import (cross_entropy_loss, descent_paths, difference_error, difference_tangents,
                       gradient_field, saddle_surface)
from .common import save_figure
from .model import confusion_heatmap, first_layer_weights, most_confident_mistakes
from .training import training_curves

__all__ = ["confusion_heatmap", "cross_entropy_loss", "descent_paths", "difference_error",
           "difference_tangents", "first_layer_weights", "gradient_field",
           "most_confident_mistakes", "saddle_surface", "save_figure", "training_curves"]
