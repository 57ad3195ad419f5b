"""Every figure, one module per topic; all headless (matplotlib's Figure API, no pyplot)."""

from .common import save_figure
from .training import training_curves

__all__ = ["save_figure", "training_curves"]
