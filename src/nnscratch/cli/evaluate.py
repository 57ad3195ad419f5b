"""``nnscratch evaluate MODEL --dataset D``: accuracy, per-class accuracy and confusion matrix."""

import argparse
from pathlib import Path

from .args import option_type


def add_parser(sub):
    p = sub.add_parser(
        "evaluate",
        help="measure a saved model on a dataset",
        description="Load a model file and report its accuracy, the accuracy of "
        "each class and the confusion matrix on a dataset.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("model", type=Path, metavar="MODEL", help="model file (.npz) from save_model")
    p.add_argument(
        "--dataset",
        type=option_type("dataset"),
        default=None,
        help="dataset to evaluate on (default: the one the model was trained on)",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder to look in first for the dataset's files (as for train)",
    )
    p.add_argument(
        "--split",
        choices=("test", "train"),
        default="test",
        help="which part of the dataset (a text: test is its validation text)",
    )
    p.set_defaults(func=cmd_evaluate)


def format_report(matrix, per_class, accuracy, header, class_names=None):
    """The text evaluate prints: accuracy line, then one row per true class, named by its index
    and, where ``class_names`` says more than the index, its name ("6 Shirt")."""
    n = len(matrix)
    width = max(5, len(str(matrix.max())) + 1)
    rows = [
        str(i) if class_names is None or class_names[i] == str(i) else f"{i} {class_names[i]}"
        for i in range(n)
    ]
    corner = "true\\pred"
    label = max(len(corner), *(len(r) for r in rows))
    # names read from the left, as a table's first column; bare indices line up on the right
    align = "<" if any(" " in r for r in rows) else ">"
    lines = [
        header,
        f"accuracy {accuracy:.4f} ({int(matrix.trace())}/{int(matrix.sum())})",
        "",
        "confusion matrix (rows: true class, columns: predicted), accuracy of each class:",
        f"{corner:{align}{label}}" + "".join(f"{j:>{width}}" for j in range(n)) + "   class acc",
    ]
    for i in range(n):
        lines.append(
            f"{rows[i]:{align}{label}}"
            + "".join(f"{v:>{width}}" for v in matrix[i])
            + f"   {per_class[i]:.4f}"
        )
    return "\n".join(lines)


def cmd_evaluate(args):
    from ..datasets.sources import class_names
    from ..errors import NnscratchError
    from ..metrics import confusion_matrix, per_class_accuracy
    from ..validation import check_dataset, input_size, output_size
    from .plot_model import model_data
    from .predict import open_model, trained_on

    model = open_model(args.model)
    name = args.dataset or trained_on(model, args.model, "give --dataset")
    if not name:
        raise NnscratchError(
            f"{args.model} does not say which dataset it was trained on: give --dataset"
        )
    data = model_data(model, args.model, name, args.data_dir)
    if getattr(model.net, "takes_ids", False):
        return language_report(model, args, name, data)
    x, t = (data.x_test, data.t_test) if args.split == "test" else (data.x_train, data.t_train)
    n_classes = output_size(model.net)
    x, t = check_dataset(
        x,
        t,
        n_features=input_size(model.net),
        n_classes=n_classes,
        names=(f"the {args.split} set of {name}", f"the {args.split} labels of {name}"),
    )
    y = model.net.predict(x).argmax(axis=1)
    matrix = confusion_matrix(t, y, n_classes)
    header = (
        f"{args.model}: {model.meta['architecture']['class']} on {name} ({args.split}, "
        + " ".join(filter(None, [f"{len(x)} {data.samples}", data.origin()]))
        + ")"
    )
    names = class_names(name, n_classes)
    print(format_report(matrix, per_class_accuracy(matrix), matrix.trace() / len(x), header, names))
    return 0


def language_report(model, args, name, data):
    """A language model's measure: the mean cross-entropy L on the validation text (``--split
    test``) or the training text, the perplexity e^L (as if choosing among e^L characters at
    every step) and how often the likeliest next character is the right one."""
    import math

    from ..run.trainer import evaluation_loss
    from ..validation import check_token_windows, output_size

    split, (x, t) = (
        ("validation text", (data.x_val, data.t_val))
        if args.split == "test"
        else ("training text", (data.info["x_train_eval"], data.info["t_train_eval"]))
    )
    x, t = check_token_windows(x, t, output_size(model.net), getattr(model.net, "context", None))
    loss = evaluation_loss(model.net, x, t)
    print(
        f"{args.model}: {model.meta['architecture']['class']} on {name} ({split}, {len(x)} "
        f"windows of {x.shape[1]} characters)\nloss {loss:.4f}, perplexity {math.exp(loss):.1f}, "
        f"next-character accuracy {model.net.accuracy(x, t):.4f}"
    )
    return 0
