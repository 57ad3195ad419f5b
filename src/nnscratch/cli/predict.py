"""``nnscratch predict MODEL IMAGE...``: the class of each image and the top-3 probabilities."""

from pathlib import Path

TOP = 3


def add_parser(sub):
    p = sub.add_parser("predict", help="classify PNG/JPEG images with a saved model",
                       description="Classify images of digits. Each image is converted to "
                                   "grayscale and prepared like the training data: 28x28 MNIST "
                                   "style for models with 784 inputs, 8x8 digits style for 64.")
    p.add_argument("model", type=Path, metavar="MODEL", help="model file (.npz) from save_model")
    p.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="PNG or JPEG files")
    p.set_defaults(func=cmd_predict)


def format_prediction(name, probs, top=TOP):
    """``NAME: 7  top-3: 7 0.981, 1 0.012, 9 0.003``."""
    order = sorted(range(len(probs)), key=lambda k: (-probs[k], k))[:top]
    ranked = ", ".join(f"{k} {probs[k]:.3f}" for k in order)
    return f"{name}: {order[0]}  top-{len(order)}: {ranked}"


def cmd_predict(args):
    import numpy as np

    from ..images import load_image, preprocess_digit
    from ..io import load_model
    from ..validation import check_inputs, input_size

    net = load_model(args.model)
    n_inputs = input_size(net)
    # read and prepare every image first: a bad file stops the command before any output
    x = np.stack([preprocess_digit(load_image(path), n_inputs) for path in args.images])
    probs = net.predict(check_inputs(x, n_features=n_inputs, name="images"))
    for path, p in zip(args.images, probs):
        print(format_prediction(path, p))
    return 0
