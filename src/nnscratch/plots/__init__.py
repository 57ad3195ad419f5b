"""Every figure, one module per topic; all headless (matplotlib's Figure API, no pyplot).
Animations (``animations``) return ``FuncAnimation`` objects; ``save_animation`` writes them.

The names below load their module when first used (as ``nnscratch``'s own): importing
``nnscratch.plots.frames`` or ``nnscratch.plots.strings`` does not load matplotlib.
"""

import importlib
from typing import TYPE_CHECKING

#: public name → the module of this package that defines it
_EXPORTS = {
    "animations": None,
    "save_animation": "animations_save",
    **dict.fromkeys(("class_grid", "decision_regions", "grid_axes"), "boundary"),
    **dict.fromkeys(
        (
            "cross_entropy_loss",
            "descent_paths",
            "difference_error",
            "difference_tangents",
            "gradient_field",
            "saddle_surface",
        ),
        "chapter4",
    ),
    "save_figure": "common",
    **dict.fromkeys(("loss_graph", "shopping_graph", "tanh_derivatives", "tanh_graph"), "autograd"),
    **dict.fromkeys(("Edge", "Graph", "Node", "from_variable", "graph_figure", "to_dot"), "graph"),
    **dict.fromkeys(
        ("confusion_heatmap", "first_layer_weights", "most_confident_mistakes"), "model"
    ),
    "training_curves": "training",
    **dict.fromkeys(("attention_heads", "loss_curves", "samples_over_training"), "language"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'nnscratch.plots' has no attribute {name!r}")
    module = importlib.import_module(f".{_EXPORTS[name] or name}", __name__)
    value = module if _EXPORTS[name] is None else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return __all__


if TYPE_CHECKING:
    from . import animations
    from .animations_save import save_animation
    from .autograd import loss_graph, shopping_graph, tanh_derivatives, tanh_graph
    from .boundary import class_grid, decision_regions, grid_axes
    from .chapter4 import (
        cross_entropy_loss,
        descent_paths,
        difference_error,
        difference_tangents,
        gradient_field,
        saddle_surface,
    )
    from .common import save_figure
    from .graph import Edge, Graph, Node, from_variable, graph_figure, to_dot
    from .model import confusion_heatmap, first_layer_weights, most_confident_mistakes
    from .training import training_curves
