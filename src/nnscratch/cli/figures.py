"""The figures ``nnscratch plot`` draws, by name, with what each shows: the tables both the
command (``plot``) and the figures of a saved model (``plot_model``) read."""

#: figures drawn from nothing but the library: name → (function in plots.chapter4, what it shows)
CHAPTER4 = {
    "loss": ("cross_entropy_loss", "cross-entropy loss vs predicted probability of the true class"),
    "differences": ("difference_tangents", "forward vs central difference against the tangent"),
    "diff-error": ("difference_error", "numerical-derivative error vs h, log-log"),
    "gradient": ("gradient_field", "the 2-D gradient field: arrows of -∇f"),
    "saddle": ("saddle_surface", "the saddle surface z = x² - y²"),
    "descent": ("descent_paths", "gradient-descent paths for three learning rates"),
}
#: chapter 5's computational graphs and autograd, drawn without graphviz ("graph": the three
#: graphs at once)
GRAPHS = {
    "graph-shopping": ("shopping_graph", "the book's shopping graph: values on, derivatives back"),
    "graph-tanh": ("tanh_graph", "the graph autograd builds for tanh's second derivative"),
    "graph-loss": ("loss_graph", "the loss graph of a small TwoLayerNet, built by autograd"),
}
AUTOGRAD = {
    **GRAPHS,
    "derivatives": ("tanh_derivatives", "tanh and its derivatives, each by backward(create_graph)"),
}
#: figures of a trained network: a saved one (--model), else one trained here on digits (~1 s)
MODEL = {
    "weights": ("first_layer_weights", "first-layer weights as images"),
    "confusion": ("confusion_heatmap", "confusion matrix on the test set"),
    "mistakes": ("most_confident_mistakes", "the most confident mistakes on the test set"),
}
#: figures of a saved convolutional network (--model): name → what it shows
CONV = {
    "filters": (None, "a conv net's first-layer filters, initial and learned (--model)"),
    "feature-maps": (
        None,
        "what each first-layer filter responds to in a test image (--model, --index)",
    ),
}
#: the figure of a 2-D set: a saved model's (--model) or a quick run's (--dataset, --seed)
BOUNDARY = {
    "boundary": (
        "decision_regions",
        "class regions of a 2-input network on a 2-D set (--dataset, --model)",
    )
}
#: the figure of a run: needs --history
RUN = {"curves": ("training_curves", "training loss and train/test accuracy from history.json")}
NAMES = {**CHAPTER4, **AUTOGRAD, **MODEL, **CONV, **BOUNDARY, **RUN}
