"""``nnscratch predict MODEL IMAGE...``: the class of each image and the top-3 probabilities."""

from pathlib import Path

TOP = 3


def add_parser(sub):
    from ..images import RECIPES

    p = sub.add_parser(
        "predict",
        help="classify PNG/JPEG images with a saved model",
        description="Classify pictures of digits or clothes. Each picture is "
        "converted to grayscale and prepared like the images the "
        "model learned from: the dataset its file names (written by "
        "`nnscratch train`), or --like.",
    )
    p.add_argument("model", type=Path, metavar="MODEL", help="model file (.npz) from save_model")
    p.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="PNG or JPEG files")
    p.add_argument(
        "--like",
        choices=tuple(RECIPES),
        default=None,
        help="prepare the pictures like this dataset's images (default: the dataset "
        "the model file says it was trained on, else the one whose pictures "
        "have the model's input size: 64 → digits)",
    )
    p.set_defaults(func=cmd_predict)


def format_prediction(name, probs, top=TOP, class_names=None):
    """``NAME: 7  top-3: 7 0.981, 1 0.012, 9 0.003``; with ``class_names``, classes by name
    (``NAME: Shirt  top-3: Shirt 0.712, T-shirt/top 0.201, Pullover 0.050``)."""
    names = class_names or [str(k) for k in range(len(probs))]
    order = sorted(range(len(probs)), key=lambda k: (-probs[k], k))[:top]
    ranked = ", ".join(f"{names[k]} {probs[k]:.3f}" for k in order)
    return f"{name}: {names[order[0]]}  top-{len(order)}: {ranked}"


def recipe_for(model, like, path):
    """The dataset whose preparation the pictures get: ``like`` (--like), else the one the model
    file says it was trained on, else the one recipe whose pictures have the model's input size;
    checked against that size."""
    import numpy as np

    from ..errors import NnscratchError
    from ..images import RECIPES, input_size_of
    from ..validation import input_size

    n_inputs = int(np.prod(input_size(model.net)))  # a conv net's (C, H, W): C·H·W values
    like = like or trained_on(model, path, "give --like")
    if like is None:
        like = _only_fit(n_inputs, path)
    if like not in RECIPES:
        raise NnscratchError(
            f"{path} was trained on {like!r}, whose pictures predict does not "
            f"know how to prepare: {_give(RECIPES)}"
        )
    wanted = input_size_of(like)
    if n_inputs != wanted:
        raise NnscratchError(
            f"the model takes {n_inputs} inputs, but a picture prepared like "
            f"{like} has {wanted}: give the --like of the data it learned from"
        )
    return like


def open_model(path):
    """The model file at ``path`` (``io.read_model``), its network put on the fast engine
    (``engine.use``: the same numbers as the textbook's classes; a conv net's 10,000 test images
    in half a second instead of ten)."""
    from .. import engine
    from ..io import read_model

    model = read_model(path)
    engine.use("fast", model.net)
    return model


def trained_on(model, path, what_to_do):
    """The dataset name the model file's training settings give, None where they give none;
    damaged settings are an error ending in ``what_to_do``."""
    from ..errors import NnscratchError

    config = model.meta.get("config") or {}
    if not isinstance(config, dict) or not isinstance(config.get("dataset", ""), str):
        raise NnscratchError(
            f"{path}: its training settings ({str(config)[:60]}) are damaged: {what_to_do}"
        )
    return config.get("dataset") or None


def _only_fit(n_inputs, path):
    """The one recipe whose pictures have ``n_inputs`` values (the model file names none)."""
    from ..errors import NnscratchError
    from ..images import RECIPES, input_size_of

    fits = [name for name in RECIPES if input_size_of(name) == n_inputs]
    if len(fits) == 1:
        return fits[0]
    if fits:
        raise NnscratchError(
            f"{path} does not say which dataset it was trained on, and its "
            f"{n_inputs} inputs fit {' and '.join(fits)}, prepared "
            f"differently: {_give(fits)}"
        )
    by_size = {}
    for name in RECIPES:
        by_size.setdefault(input_size_of(name), []).append(name)
    sizes = " or ".join(f"{size} ({', '.join(names)})" for size, names in by_size.items())
    raise NnscratchError(
        f"{path} takes {n_inputs} inputs, but predict prepares pictures of "
        f"{sizes} inputs: this model does not classify pictures"
    )


def _give(names):
    flags = [f"--like {name}" for name in names]
    return f"give {', '.join(flags[:-1])} or {flags[-1]}"


def cmd_predict(args):
    import numpy as np

    from ..datasets.sources import class_names
    from ..images import load_image, prepare_image
    from ..validation import check_inputs, input_size

    model = open_model(args.model)
    like = recipe_for(model, args.like, args.model)
    # read and prepare every image first: a bad file stops the command before any output
    x = np.stack([prepare_image(load_image(path), like) for path in args.images])
    shape = input_size(model.net)
    if isinstance(shape, tuple):  # a conv net takes the pictures as images (N, C, H, W)
        x = x.reshape(len(x), *shape)
    probs = model.net.predict(check_inputs(x, n_features=shape, name="images"))
    # the classes the model learned (a Fashion-MNIST model's, whatever --like prepared)
    config = model.meta.get("config")
    learned = config.get("dataset") if isinstance(config, dict) else None
    names = class_names(learned if isinstance(learned, str) else like, probs.shape[1])
    for path, p in zip(args.images, probs):
        print(format_prediction(path, p, class_names=names))
    return 0
