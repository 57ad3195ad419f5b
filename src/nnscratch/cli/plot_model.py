"""The figures of a saved model (``nnscratch plot NAME --model FILE``): first-layer weights,
confusion matrix, most confident mistakes, and for a convolutional network its filters (initial
and learned) and the feature maps of one test image. The data is the test set of the dataset the
model file says it learned, in the form the network takes (images (N, C, H, W) for a conv net)."""

from ..errors import NnscratchError


def takes_images(net):
    """True for a network whose inputs are images (N, C, H, W): its input size is (C, H, W)."""
    from ..validation import input_size

    return isinstance(input_size(net), tuple)


def figures_of(path, names):
    """The figures of ``names`` that the model file at ``path`` can draw (for ``plot all``): a
    2-input network's boundary; a dense network's weights, confusion and mistakes; a conv net's
    confusion, mistakes, filters and feature maps. Figures of no model stay."""
    from ..validation import input_size
    from .figures import BOUNDARY, CONV, MODEL
    from .predict import open_model

    net = open_model(path).net
    if input_size(net) == 2:
        fits = set(BOUNDARY)
    elif takes_images(net):
        fits = (set(MODEL) - {"weights"}) | set(CONV)
    else:
        fits = set(MODEL)
    return [n for n in names if n in fits or n not in {*BOUNDARY, *MODEL, *CONV}]


def saved_options(config, model):
    """The ``load_dataset`` options a model file records under "dataset_options" ({} if none:
    an earlier file), which draw its data again (its split of the digits, its 2-D set's points);
    ``load_dataset`` checks their values."""
    from ..run.build import LOAD_OPTIONS

    options = config.get("dataset_options", {})
    if not isinstance(options, dict) or not set(options) <= set(LOAD_OPTIONS):
        raise NnscratchError(
            f"{model} records dataset options {options!r}; they can only be "
            f"{', '.join(LOAD_OPTIONS)}: pass --dataset to draw the data anew"
        )
    return options


def model_data(model, path, name, data_dir=None):
    """Dataset ``name`` loaded as the network of ``model`` (the model file at ``path``) takes it;
    the one it was trained on drawn as it was (its split, its 2-D set's points:
    :func:`saved_options`), another with its own defaults."""
    from ..datasets import load_dataset

    config = model.config if isinstance(model.config, dict) else {}  # damaged: the name alone
    options = saved_options(config, path) if name == config.get("dataset") else {}
    return load_dataset(name, data_dir=data_dir, flatten=not takes_images(model.net), **options)


def saved_model(path, data_dir=None):
    """``(model, data)``: the model file at ``path`` (``io.read_model``) and the dataset it was
    trained on (:func:`model_data`)."""
    from .predict import open_model, trained_on

    model = open_model(path)
    name = trained_on(model, path, "it must say which dataset it learned")
    if name is None:
        raise NnscratchError(
            f"{path} does not say which dataset it was trained on: write it "
            "with `nnscratch train --out DIR` (DIR/model.npz)"
        )
    return model, model_data(model, path, name, data_dir)


def initial_filters(model):
    """The first-layer filters the run started from, before any step: the network rebuilt from
    the model file's architecture with the weights' seed of its run (``build.seeds``); None when
    the file records no run seed (a model saved from Python or by the playground)."""
    from ..io import build_network
    from ..run.build import seeds

    seed = (model.meta.get("config") or {}).get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        return None
    net = build_network(model.meta["architecture"], seed=seeds(seed)[0])
    return net.params["W1"]


def model_figure(name, model, data, index=0, lang="en"):
    """The figure ``name`` of the saved ``model`` on ``data``'s test set; ``index``: the test
    image of the feature maps."""
    from .. import plots
    from ..plots import conv

    net = model.net
    if name == "filters":
        return conv.conv_filters(conv.first_conv_filters(net), initial_filters(model), lang=lang)
    if name == "feature-maps":
        if not 0 <= index < len(data.x_test):
            raise NnscratchError(
                f"--index {index} is not a test image: give 0 to {len(data.x_test) - 1}"
            )
        label = data.classes[data.t_test[index]]
        return conv.feature_maps(net, data.x_test[index], label, lang=lang)
    if name == "weights":
        if takes_images(net):
            raise NnscratchError(
                "a convolutional network's first layer is its filters: draw "
                "them with `nnscratch plot filters --model FILE`"
            )
        return plots.first_layer_weights(net, data.info.get("image_shape"), lang=lang)
    if name == "confusion":
        return plots.confusion_heatmap(net, data.x_test, data.t_test, data.classes, lang=lang)
    return plots.most_confident_mistakes(
        net,
        data.x_test,
        data.t_test,
        data.info.get("image_shape"),
        class_names=data.classes,
        lang=lang,
    )
