"""``nnscratch predict MODEL IMAGE...``: the class of each image and the top-3 probabilities."""

from pathlib import Path

TOP = 3


def add_parser(sub):
    from ..images import RECIPES

    p = sub.add_parser("predict", help="classify PNG/JPEG images with a saved model",
                       description="Classify pictures of digits or clothes. Each picture is "
                                   "converted to grayscale and prepared like the images the "
                                   "model learned from: the dataset its file names (written by "
                                   "`nnscratch train`), or --like.")
    p.add_argument("model", type=Path, metavar="MODEL", help="model file (.npz) from save_model")
    p.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="PNG or JPEG files")
    p.add_argument("--like", choices=tuple(RECIPES), default=None,
                   help="prepare the pictures like this dataset's images (default: the dataset "
                        "the model file says it was trained on)")
    p.set_defaults(func=cmd_predict)


def format_prediction(name, probs, top=TOP):
    """``NAME: 7  top-3: 7 0.981, 1 0.012, 9 0.003``."""
    order = sorted(range(len(probs)), key=lambda k: (-probs[k], k))[:top]
    ranked = ", ".join(f"{k} {probs[k]:.3f}" for k in order)
    return f"{name}: {order[0]}  top-{len(order)}: {ranked}"


def recipe_for(model, like, path):
    """The dataset whose preparation the pictures get: ``like`` (--like), else the one the model
    file says it was trained on; checked against the model's input size."""
    from ..errors import NnscratchError
    from ..images import RECIPES, input_size_of
    from ..validation import input_size

    flags = [f"--like {name}" for name in RECIPES]
    how = f"give {', '.join(flags[:-1])} or {flags[-1]}"
    like = like or model.config.get("dataset")
    if like is None:
        raise NnscratchError(f"{path} does not say which dataset it was trained on, so not how to "
                             f"prepare the pictures: {how}")
    if like not in RECIPES:
        raise NnscratchError(f"{path} was trained on {like!r}, whose pictures predict does not "
                             f"know how to prepare: {how}")
    n_inputs, wanted = input_size(model.net), input_size_of(like)
    if n_inputs != wanted:
        raise NnscratchError(f"the model takes {n_inputs} inputs, but a picture prepared like "
                             f"{like} has {wanted}: give the --like of the data it learned from")
    return like


def cmd_predict(args):
    import numpy as np

    from ..images import load_image, prepare_image
    from ..io import read_model
    from ..validation import check_inputs

    model = read_model(args.model)
    like = recipe_for(model, args.like, args.model)
    # read and prepare every image first: a bad file stops the command before any output
    x = np.stack([prepare_image(load_image(path), like) for path in args.images])
    probs = model.net.predict(check_inputs(x, n_features=x.shape[1], name="images"))
    for path, p in zip(args.images, probs):
        print(format_prediction(path, p))
    return 0
