"""Every training option, declared once: name, kind, default, allowed values, help in English and
Chinese. The command line's arguments, the playground's form and its checks, the search's space,
``NNClassifier``'s parameters and the experiments all derive from :data:`OPTIONS`; :func:`resolve`
turns the options someone gave into a complete :class:`Spec`, which ``run.build`` turns into a
network, an optimizer, a schedule and a trainer.

A bad value gets the same one-line message wherever it came from (:meth:`.option.Option.check`,
:meth:`~.option.Option.parse`): it names the option, the value and what is allowed.

Defaults. An option whose ``default`` is None takes its value from the run's context, by the rules
in :mod:`.defaults` (:func:`~.defaults.defaults`): the model's (``MODEL_DEFAULTS``: the README's
default recipe for mlp, the notebook's network for two-layer, the book's for the convolutional
nets), the dataset's (``DATASET_DEFAULTS``), or the optimizer's own (its class's signature).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..convnets import DeepConvNet, SimpleConvNet
from ..datasets.registry import DATASETS
from ..datasets.text import TEXT_DATASETS
from ..datasets.toy2d import (
    DEFAULT_NOISE,
    K_CLASSES,
    MAX_CLASSES,
    MAX_SAMPLES,
    TOY_DATASETS,
)
from ..engine import ENGINES
from ..errors import NnscratchError
from ..gpt import GPT
from ..layers import ACTIVATIONS, FEATURES
from ..nets import MultiLayerNet, TwoLayerNet
from ..optim import OPTIMIZERS
from ..rnnlm import RNNLM
from ..validation import (
    DECAY_RATE,
    NONNEGATIVE,
    NONNEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    PROBABILITY,
    Interval,
    default_of,
)
from .defaults import (
    DATASET_DEFAULTS,
    EARLY_STOPPING_SPLIT,
    LARGE_SETS,
    MODEL_DEFAULTS,
    MODEL_EPOCHS,
    MODEL_LR,
    TOY_DEFAULTS,
    defaults,
)
from .option import Option
from .trainer import GRADIENT_METHODS, SAMPLING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from ..io import SavableNet


SCHEDULES = ("none", "step", "cosine", "warmup-cosine")
DTYPES = ("float32", "float64")

#: the models: name → (network class, its argument for each network option it takes, whether
#: it takes images (N, C, H, W)); "hidden" is the widths of mlp, one width for the others
MODELS: dict[str, tuple[Callable[..., SavableNet], dict[str, str], bool]] = {
    "mlp": (
        MultiLayerNet,
        {
            "hidden": "hidden_sizes",
            "activation": "activation",
            "weight_init": "weight_init",
            "weight_decay": "weight_decay_lambda",
            "dropout": "dropout",
            "batchnorm": "use_batchnorm",
            "features": "features",
        },
        False,
    ),
    "two-layer": (TwoLayerNet, {"hidden": "hidden_size", "activation": "activation"}, False),
    "cnn": (SimpleConvNet, {"hidden": "hidden_size", "weight_init": "weight_init_std"}, True),
    "deep-cnn": (DeepConvNet, {"hidden": "hidden_size", "dropout": "dropout"}, True),
    "gpt": (
        GPT,
        {
            "context": "context",
            "layers": "n_layers",
            "heads": "n_heads",
            "width": "width",
            "dropout": "dropout",
        },
        False,
    ),
    "rnnlm": (RNNLM, {"width": "wordvec_size", "hidden": "hidden_size"}, False),
}
CONV_MODELS = tuple(name for name, (_, _, images) in MODELS.items() if images)
#: the language models: they read windows of token ids of a text dataset
LANGUAGE_MODELS = ("gpt", "rnnlm")

# fmt: off
OPTIONS = {o.name: o for o in (
    # --- data -------------------------------------------------------------------------------
    Option("dataset", "choice", "data", "run", "dataset to learn", "要学习的数据集",
           "dataset", "数据集", choices=tuple(DATASETS), default="digits"),
    Option("classes", "int", "data", "data", "classes of the spiral and gaussians sets",
           "spiral 和 gaussians 数据集的类别数", "classes", "类别数",
           interval=Interval(2, MAX_CLASSES, integer=True)),
    Option("n_samples", "int", "data", "data", "points of a 2-D set", "二维数据集的点数",
           "points", "点数", interval=Interval(8, MAX_SAMPLES, integer=True)),
    Option("noise", "float", "data", "data",
           "noise of a 2-D set (none: the set's own, " + ", ".join(
               f"{k} {v}" for k, v in DEFAULT_NOISE.items()) + ")",
           "二维数据集的噪声（none：该数据集自己的默认值）", "noise", "噪声",
           interval=Interval(0, 10), optional=True),
    Option("test_size", "float", "data", "data",
           "fraction of a 2-D set or of the digits kept for testing",
           "二维数据集或 digits 留作测试的比例", "test share", "测试比例",
           interval=Interval(0, 1, low_open=True, high_open=True)),
    Option("data_seed", "int", "data", "data",
           "seed of a 2-D set's points (none: the run's seed)",
           "二维数据点的随机种子（none：训练的随机种子）", "data seed", "数据种子",
           interval=NONNEGATIVE_INT, optional=True),
    Option("features", "names", "data", "network",
           "input features of a 2-D set's points, as TensorFlow Playground's: some of "
           + ", ".join(FEATURES) + " (none: x1,x2 as they are)",
           "二维数据点的输入特征（同 TensorFlow Playground）：从 " + "、".join(FEATURES)
           + " 中选几个（none：x1,x2 原样输入）", "features", "输入特征",
           choices=tuple(FEATURES), optional=True),
    Option("text", "path", "data", "data",
           "a UTF-8 text file of your own for a language model to learn (--dataset text)",
           "让语言模型学习的你自己的 UTF-8 文本文件（--dataset text）", "text file", "文本文件",
           optional=True),
    Option("context", "int", "data", "data",
           "tokens a language model reads at once (its window; gpt: its longest)",
           "语言模型一次读入的字符数（窗口长度；gpt 的最大长度）", "context", "上下文长度",
           interval=Interval(2, 1024, integer=True)),
    # --- network ----------------------------------------------------------------------------
    Option("model", "choice", "network", "run",
           "the notebook's TwoLayerNet (two-layer), a MultiLayerNet of any depth (mlp), the "
           "book's chapter-7 SimpleConvNet (cnn) or chapter-8 DeepConvNet (deep-cnn)",
           "网络：笔记中的 TwoLayerNet（two-layer）、任意深度的 MultiLayerNet（mlp）、"
           "书中第 7 章的 SimpleConvNet（cnn）或第 8 章的 DeepConvNet（deep-cnn）",
           "model", "模型", choices=tuple(MODELS), default="mlp"),
    Option("layers", "int", "network", "network", "transformer blocks of gpt",
           "gpt 的 Transformer 块数", "layers", "层数", interval=Interval(1, 48, integer=True)),
    Option("heads", "int", "network", "network", "attention heads of each gpt block",
           "gpt 每个块的注意力头数", "heads", "注意力头数",
           interval=Interval(1, 64, integer=True)),
    Option("width", "int", "network", "network",
           "gpt: the width of every token's vector; rnnlm: of its word vectors",
           "gpt：每个字符向量的宽度；rnnlm：词向量的宽度", "width", "宽度",
           interval=Interval(1, 4096, integer=True)),
    Option("hidden", "sizes", "network", "network",
           "hidden layer sizes, comma-separated (all but mlp: one size, the fully connected "
           "layer's)", "隐藏层大小，用逗号分隔（mlp 以外只有一个大小）", "hidden layers",
           "隐藏层"),
    Option("activation", "choice", "network", "network", "hidden activation",
           "隐藏层激活函数", "activation", "激活函数", choices=tuple(ACTIVATIONS)),
    Option("weight_init", "init", "network", "network",
           "initial weight std: he (√(2/n)), xavier (√(1/n)) or a number (cnn: a number)",
           "初始权重标准差：he（√(2/n)）、xavier（√(1/n)）或一个数（cnn：一个数）",
           "weight init", "权重初始化"),
    Option("weight_decay", "float", "network", "network",
           "L2 penalty λ (adds ½λΣ‖W‖² to the loss)", "L2 正则化系数 λ（损失加上 ½λΣ‖W‖²）",
           "weight decay λ", "权值衰减 λ", interval=NONNEGATIVE, scale="log"),
    Option("dropout", "float", "network", "network",
           "dropout probability after each hidden activation (deep-cnn: of its two Dropout "
           "layers; gpt: of its embeddings and residual branches)",
           "每个隐藏层激活后的 Dropout 比例（deep-cnn：其两个 Dropout 层的比例；"
           "gpt：嵌入和残差分支的）",
           "dropout", "Dropout", interval=PROBABILITY),
    Option("batchnorm", "bool", "network", "network", "batch norm before each activation",
           "每个激活函数前做批归一化", "batch norm", "批归一化"),
    Option("dtype", "choice", "network", "run", "float type of the data and the network",
           "数据和网络的浮点类型", "dtype", "浮点类型", choices=DTYPES),
    Option("engine", "choice", "network", "run",
           "fast (the engine) or book (the textbook's plain NumPy: slower, the same run)",
           "fast（引擎）或 book（教科书式的朴素 NumPy：更慢，结果相同）", "engine", "引擎",
           choices=ENGINES, default="fast"),
    # --- training ---------------------------------------------------------------------------
    Option("optimizer", "choice", "training", "run", "update rule", "参数更新方法",
           "optimizer", "优化器", choices=tuple(OPTIMIZERS)),
    Option("lr", "float", "training", "run", "learning rate", "学习率", "learning rate",
           "学习率", interval=POSITIVE, scale="log"),
    Option("momentum", "float", "training", "optimizer",
           "momentum α of momentum and nesterov", "momentum 和 nesterov 的动量系数 α",
           "momentum", "动量", interval=DECAY_RATE),
    Option("beta1", "float", "training", "optimizer",
           "Adam's β1, the decay of its first moment", "Adam 的 β1（一阶矩的衰减率）",
           "β1", "β1", interval=DECAY_RATE),
    Option("beta2", "float", "training", "optimizer",
           "Adam's β2, the decay of its squared gradients", "Adam 的 β2（二阶矩的衰减率）",
           "β2", "β2", interval=DECAY_RATE),
    Option("decay_rate", "float", "training", "optimizer",
           "RMSprop's ρ, the decay of its squared gradients", "RMSprop 的 ρ（梯度平方的衰减率）",
           "ρ", "ρ", interval=DECAY_RATE),
    Option("eps", "float", "training", "optimizer",
           "ε in the denominators of adagrad, rmsprop and adam", "adagrad、rmsprop 和 adam "
           "分母中的 ε", "ε", "ε", interval=POSITIVE, scale="log"),
    Option("decay", "float", "training", "optimizer",
           "AdamW's decoupled weight decay λ: every step W ← W − lr·λ·W",
           "AdamW 的解耦权值衰减 λ：每步 W ← W − lr·λ·W", "decay λ", "衰减 λ",
           interval=NONNEGATIVE, scale="log"),
    Option("lr_schedule", "choice", "training", "run",
           "learning rate per epoch: constant (none), halved every schedule_epochs/4, cosine "
           "to 0 over schedule_epochs, or (warmup-cosine, step by step) up from 0 over its "
           "warmup share, then cosine to 0",
           "每轮的学习率：不变（none）、每 schedule_epochs/4 轮减半、在 schedule_epochs 轮内按余弦"
           "降到 0，或（warmup-cosine，逐步）先在 warmup 比例内从 0 升起，再按余弦降到 0",
           "schedule", "学习率调度", choices=SCHEDULES),
    Option("warmup", "float", "training", "run",
           "share of the warmup-cosine schedule spent raising the rate from 0",
           "warmup-cosine 调度中学习率从 0 升起所占的比例", "warm-up share", "预热比例",
           interval=Interval(0, 1, low_open=True, high_open=True)),
    Option("clip_norm", "float", "training", "run",
           "scale the gradients down to this global norm when longer (none: never)",
           "梯度的全局范数超过此值时按比例缩小（none：不裁剪）", "gradient clip", "梯度裁剪",
           interval=POSITIVE, optional=True),
    Option("schedule_epochs", "int", "training", "run",
           "epochs the schedule spans (none: the run's epochs)",
           "学习率调度跨越的轮数（none：训练的轮数）", "schedule epochs", "调度轮数",
           interval=POSITIVE_INT, optional=True),
    Option("batch_size", "int", "training", "run",
           "mini-batch size, 1 to the number of training samples",
           "mini-batch 大小，1 到训练样本数", "batch size", "批大小", interval=POSITIVE_INT),
    Option("epochs", "int", "training", "run",
           "passes over the training data (at most, with early_stopping)",
           "遍历训练数据的轮数（使用早停时为上限）", "epochs", "轮数", interval=POSITIVE_INT),
    Option("sampling", "choice", "training", "run",
           "shuffle (every sample once per epoch) or replacement (each batch drawn at random, "
           "as the book)", "shuffle（每轮每个样本一次）或 replacement（每批随机抽取，同书中）",
           "sampling", "抽样", choices=SAMPLING, default="shuffle"),
    Option("validation_split", "float", "training", "run",
           "fraction of the training data held out for validation",
           "从训练数据中留作验证的比例", "validation share", "验证比例",
           interval=PROBABILITY, optional=True),
    Option("early_stopping", "int", "training", "run",
           "stop after this many epochs without a better validation loss and keep the best "
           "weights", "验证损失连续这么多轮没有改善就停止，并保留最好的权重",
           "early stopping", "早停", interval=POSITIVE_INT, optional=True),
    Option("grad", "choice", "training", "run",
           "how gradients are computed (numerical: the notebook's central differences)",
           "梯度的计算方法（numerical：笔记中的中心差分）", "gradient", "梯度",
           choices=GRADIENT_METHODS, default="backprop"),
    Option("seed", "int", "training", "run",
           "random seed of the weights, the batches and a 2-D set's points",
           "权重、mini-batch 和二维数据点的随机种子", "seed", "随机种子",
           interval=NONNEGATIVE_INT, default=0),
)}
# fmt: on


def takes(name: str, spec: Mapping[str, Any]) -> bool:
    """Whether option ``name`` applies to the run of ``spec`` (a dict with its dataset, model,
    optimizer and schedule known): the model's network options, the optimizer's own arguments,
    the 2-D sets' data options."""
    option = OPTIONS[name]
    if option.target == "network":
        return name in MODELS[spec["model"]][1] and (
            name not in POINT_OPTIONS or spec["dataset"] in TOY_DATASETS
        )
    if option.target == "optimizer":
        return name in inspect.signature(OPTIMIZERS[spec["optimizer"]]).parameters
    if option.target == "data":
        if name == "context":
            return spec["dataset"] in TEXT_DATASETS
        if name == "text":
            return spec["dataset"] == "text"
        if name == "test_size":
            return spec["dataset"] in TOY_DATASETS or spec["dataset"] == "digits"
        return spec["dataset"] in (K_CLASSES if name == "classes" else TOY_DATASETS)
    if name == "schedule_epochs":
        return spec["lr_schedule"] != "none"
    if name == "warmup":
        return spec["lr_schedule"] == "warmup-cosine"
    return True


#: what decides whether an option of each target applies (:func:`takes`)
DECIDED_BY = {"network": "model", "optimizer": "optimizer", "data": "dataset"}
#: the network options that only a 2-D set's points take (and only the models that take them),
#: and a 2-D set to ask which models take them
POINT_OPTIONS = ("features",)
A_2D_SET = next(iter(TOY_DATASETS))


def taken_by(name: str, spec: Mapping[str, Any]) -> str:
    """What decides whether option ``name`` applies, as ``spec`` has it: "--model cnn"."""
    key = DECIDED_BY.get(OPTIONS[name].target, "lr_schedule")
    if name in POINT_OPTIONS and takes(name, {"model": spec["model"], "dataset": A_2D_SET}):
        key = "dataset"  # the model takes it: the data does not
    return f"{OPTIONS[key].flag} {spec[key]}"


def takers(name: str) -> str:
    """Who takes option ``name``, in words, for an error: "--model mlp or deep-cnn" — the
    choices of what decides it (:data:`DECIDED_BY`) for which :func:`takes` says yes."""
    key = DECIDED_BY.get(OPTIONS[name].target, "lr_schedule")
    yes = [c for c in OPTIONS[key].choices if takes(name, {"dataset": A_2D_SET, key: c})]
    points = f" on a 2-D set ({', '.join(TOY_DATASETS)})" if name in POINT_OPTIONS else ""
    return f"{OPTIONS[key].flag} {' or '.join(yes)}{points}"


class Spec(Mapping):
    """A complete, checked run specification: every option of :data:`OPTIONS` with its value
    (None for the options the run does not take). Read-only; ``spec["lr"]``."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Spec({self._values!r})"

    def saved(self) -> dict[str, Any]:
        """The options as a checkpoint and a model file keep them: JSON (hidden a list)."""
        return {name: list(v) if isinstance(v, tuple) else v for name, v in self._values.items()}

    def schedule_length(self) -> int:
        """The epochs the learning-rate schedule spans."""
        return self["schedule_epochs"] or self["epochs"]


def check_given(given: Mapping[str, object], parse: bool = False) -> dict[str, Any]:
    """``given`` ({name: value}) checked option by option (``parse``: values are text as typed);
    None means not given. Unknown names are an error listing the options."""
    unknown = sorted(set(given) - set(OPTIONS))
    if unknown:
        raise NnscratchError(
            f"unknown option {', '.join(unknown)}: the options are {', '.join(OPTIONS)}"
        )
    out = {}
    for name, value in given.items():
        if value is None:
            continue
        out[name] = OPTIONS[name].parse(value) if parse else OPTIONS[name].check(value)
    return out


def resolve(given: Mapping[str, object], parse: bool = False) -> Spec:
    """The :class:`Spec` of a run from the options ``given`` ({name: value}; None or missing: not
    given), every default filled by the rules, every contradiction an error. ``parse``: the values
    are text, as a command line or a query string gives them."""
    values = check_given(given, parse)
    if values.get("text") is not None and "dataset" not in values:  # --text FILE says it all
        values["dataset"] = "text"
    spec = {name: values.get(name, OPTIONS[name].default) for name in OPTIONS}
    _check_model(spec["model"], values)
    rules = defaults(spec)
    for name in ("optimizer", "lr_schedule"):
        if spec[name] is None:
            spec[name] = rules[name]
    for name in OPTIONS:
        if not takes(name, spec):
            if name in values and values[name] not in _NO_OPS.get(name, ()):
                raise NnscratchError(
                    f"{name} is not an option of {taken_by(name, spec)}: it "
                    f"applies to {takers(name)}"
                )
            spec[name] = None
        elif spec[name] is None and name in rules:
            spec[name] = rules[name]
    _finish(spec, values)
    return Spec(spec)


#: values of an option that change nothing, accepted where the option does not apply
_NO_OPS = {
    "weight_decay": (0.0,),
    "dropout": (0.0,),
    "batchnorm": (False,),
    "activation": ("relu",),
}


def _check_model(model: str, values: Mapping[str, Any]) -> None:
    """What the convolutional nets refuse, with the reason."""
    if model not in CONV_MODELS:
        return
    if values.get("activation", "relu") != "relu":
        raise NnscratchError(
            f"--model {model} is the book's network with ReLU: leave "
            f"activation out (or use --model mlp for {values['activation']})"
        )
    if isinstance(values.get("weight_init"), str):
        raise NnscratchError(
            f"--model {model} takes weight_init as a standard deviation such "
            f"as the book's {MODEL_DEFAULTS['cnn']['weight_init']}, not "
            f"{values['weight_init']}"
        )


def _finish(spec: dict[str, Any], values: Mapping[str, Any]) -> None:
    """The rules that tie options together, and their errors."""
    model = spec["model"]
    if model != "mlp" and spec["hidden"] is not None and len(spec["hidden"]) != 1:
        raise NnscratchError(
            f"--model {model} has one hidden layer, got hidden "
            f"{OPTIONS['hidden'].shown(spec['hidden'])}: use --model mlp for "
            "several"
        )
    if spec["lr"] is None:
        spec["lr"] = MODEL_LR.get(
            (model, spec["optimizer"]), default_of(OPTIMIZERS[spec["optimizer"]], "lr")
        )
    text = model in LANGUAGE_MODELS
    if spec["dtype"] is None:  # float32: as accurate and faster, on the 60,000-image sets
        spec["dtype"] = (
            "float32"
            if spec["grad"] == "backprop"
            and (
                model in CONV_MODELS + LANGUAGE_MODELS
                or model == "mlp"
                and spec["dataset"] in LARGE_SETS
            )
            else "float64"
        )
    if spec["features"] == ("x1", "x2"):  # the points as they are: no layer to make them
        spec["features"] = None
    _check_text(spec, values)
    if spec["validation_split"] is None and spec["early_stopping"] is not None and not text:
        spec["validation_split"] = EARLY_STOPPING_SPLIT
    if spec["early_stopping"] is not None and not spec["validation_split"] and not text:
        raise NnscratchError(
            f"early_stopping {spec['early_stopping']} watches the validation "
            f"loss, but validation_split {spec['validation_split']:g} holds no "
            f"data out: give validation_split {EARLY_STOPPING_SPLIT:g} (or leave "
            "it out), or leave early_stopping out"
        )
    if spec["dropout"] and spec["grad"] == "numerical":
        raise NnscratchError(
            "dropout draws a new mask at every forward pass, so the numerical "
            "gradient would differentiate noise: use grad backprop"
        )
    if spec["dataset"] in TOY_DATASETS and model in CONV_MODELS:
        raise NnscratchError(
            f"{spec['dataset']} holds 2-D points, not images: --model "
            f"{model} needs an image set ({', '.join(LARGE_SETS)} or digits)"
        )


def _check_text(spec: dict[str, Any], values: Mapping[str, Any]) -> None:
    """A language model reads a text, a text is read by a language model."""
    model, dataset = spec["model"], spec["dataset"]
    if (model in LANGUAGE_MODELS) != (dataset in TEXT_DATASETS):
        raise NnscratchError(
            f"--model {model} cannot learn --dataset {dataset}: the language models "
            f"({', '.join(LANGUAGE_MODELS)}) read a text ({', '.join(TEXT_DATASETS)}), the "
            "others images or points"
        )
    if dataset == "text" and spec["text"] is None:
        raise NnscratchError("--dataset text is a file of your own: give --text FILE")
    if model == "gpt" and spec["width"] % spec["heads"]:
        raise NnscratchError(
            f"width {spec['width']} does not split into {spec['heads']} heads: give a width "
            "divisible by heads"
        )
    if model in LANGUAGE_MODELS and values.get("validation_split"):
        raise NnscratchError(
            "a text's validation poems are set apart by the dataset: leave validation_split out"
        )


def default_text(name: str) -> str:
    """What option ``name`` left out means, in words, from the rules (for --help and the form):
    "digits", "mlp: relu; two-layer: sigmoid", "32; 100 on mnist and fashion-mnist"."""
    option = OPTIONS[name]
    if option.default is not None:
        return option.shown(option.default)
    by_model = [
        (m, rules[name])
        for m, rules in MODEL_DEFAULTS.items()
        if name in rules and name in MODELS[m][1] | {"optimizer": 0, "lr_schedule": 0}
    ]
    if by_model:
        values = {option.shown(v) for _, v in by_model}
        if len(values) == 1:
            return values.pop()
        return "; ".join(f"{m}: {option.shown(v)}" for m, v in by_model)
    if name in ("batch_size", "epochs"):
        by_value: dict[int, list[str]] = {}
        for dataset, rules in DATASET_DEFAULTS.items():
            by_value.setdefault(rules[name], []).append(dataset)
        parts = [f"{value} on {' and '.join(sets)}" for value, sets in by_value.items()]
        if name == "epochs":
            parts += [f"{m}: {e} on {' and '.join(LARGE_SETS)}" for m, e in MODEL_EPOCHS.items()]
        return "; ".join(parts)
    if name == "lr":
        pairs = "; ".join(f"{m} with {o}: {rate:g}" for (m, o), rate in MODEL_LR.items())
        by_rate: dict[float, list[str]] = {}
        for o, cls in OPTIMIZERS.items():
            by_rate.setdefault(default_of(cls, "lr"), []).append(o)
        own = ", ".join(f"{'/'.join(names)} {rate:g}" for rate, names in by_rate.items())
        return f"{pairs}; else the optimizer's own: {own}"
    if option.target == "optimizer":
        own = ", ".join(
            f"{o} {default_of(cls, name):g}"
            for o, cls in OPTIMIZERS.items()
            if name in inspect.signature(cls).parameters
        )
        return f"the optimizer's own: {own}"
    if option.target == "data":
        toy = TOY_DEFAULTS.get(name)
        return "the set's own" if toy is None else f"{toy}"
    return {
        "dtype": "float32 for backprop with cnn, deep-cnn, or mlp on mnist and fashion-mnist; "
        "else float64",
        "validation_split": f"{EARLY_STOPPING_SPLIT:g} with early_stopping, else none",
        "early_stopping": "none",
        "schedule_epochs": "the run's epochs",
    }.get(name, "none")
