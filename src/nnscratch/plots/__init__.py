"""Every figure, one module per topic; all headless (matplotlib's Figure API, no pyplot).
Animations (``animations``) return ``FuncAnimation`` objects; ``save_animation`` writes them."""

from . import animations
from .animations_save import save_animation
from .boundary import class_grid, decision_regions, grid_axes
from .chapter4 import (cross_entropy_loss, descent_paths, difference_error, difference_tangents,
                       gradient_field, saddle_surface)
from .common import save_figure
from .model import confusion_heatmap, first_layer_weights, most_confident_mistakes
from .training import training_curves

__all__ = ["animations", "class_grid", "confusion_heatmap", "cross_entropy_loss",
           "decision_regions", "descent_paths", "difference_error", "difference_tangents",
           "first_layer_weights", "gradient_field", "grid_axes", "most_confident_mistakes",
           "saddle_surface", "save_animation", "save_figure", "training_curves"]
