"""``nnscratch generate MODEL --prompt 床前``: a trained language model writes, character by
character, each printed as it is drawn."""

import argparse
import sys
from pathlib import Path

from ..errors import NnscratchError
from .args import non_negative_int, positive_float, positive_int

#: what ``generate`` does when not told: 200 characters at nanoGPT's sample.py temperature 0.8;
#: its top-k is 200 of 65 characters (all), here 20 of 2,558 keeps the rarest out
DEFAULTS = {"tokens": 200, "temperature": 0.8, "top_k": 20}


def add_parser(sub):
    p = sub.add_parser(
        "generate",
        help="let a trained language model write (gpt, rnnlm)",
        description="Continue a prompt with a language model trained by `nnscratch train "
        "--model gpt` (or rnnlm): each character is drawn from the model's probabilities "
        "for the next one and printed as it comes.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("model", type=Path, metavar="MODEL", help="model file (.npz) of a gpt or rnnlm")
    p.add_argument("--prompt", default="", help="the text to continue (default: a new line)")
    p.add_argument(
        "--tokens",
        type=positive_int("--tokens"),
        default=DEFAULTS["tokens"],
        help="characters to write",
    )
    p.add_argument(
        "--temperature",
        type=positive_float("--temperature"),
        default=DEFAULTS["temperature"],
        help="below 1: safer, more repetitive; above 1: wilder",
    )
    p.add_argument(
        "--top-k",
        type=positive_int("--top-k"),
        default=DEFAULTS["top_k"],
        help="draw only among the k likeliest characters",
    )
    p.add_argument(
        "--seed",
        type=non_negative_int("--seed"),
        default=None,
        help="the same seed writes the same text (default: a new text each time)",
    )
    p.set_defaults(func=cmd_generate)


def language_model(path):
    """(network, tokenizer, context) of the language model file ``path``, or a one-line error."""
    from ..datasets.text import CharTokenizer
    from ..io import read_model

    model = read_model(path)
    if not getattr(model.net, "takes_ids", False):
        raise NnscratchError(
            f"{path} holds a {type(model.net).__name__}, not a language model: train one with "
            "nnscratch train --model gpt --dataset tang300"
        )
    if "tokenizer" not in model.config:
        raise NnscratchError(
            f"{path} has no tokenizer in its settings: a language model's file is written by "
            "nnscratch train with a text dataset"
        )
    tokenizer = CharTokenizer.from_config(model.config["tokenizer"])
    return model.net, tokenizer, model.config.get("context")


def cmd_generate(args):
    from ..datasets.text import UNKNOWN
    from ..gpt import stream

    net, tokenizer, context = language_model(args.model)
    prompt = args.prompt or "\n"
    ids = tokenizer.encode(prompt)
    unknown = sorted({c for c, i in zip(prompt, ids, strict=True) if i == 0})
    if unknown:
        print(
            f"nnscratch: warning: {''.join(unknown)} not in the model's vocabulary: read as "
            "unknown",
            file=sys.stderr,
        )
    sys.stdout.write(args.prompt)
    for token in stream(
        net,
        ids,
        args.tokens,
        args.temperature,
        args.top_k,
        args.seed,
        window=context,
        exclude=tokenizer.encode(UNKNOWN).tolist(),  # no character to print
    ):
        sys.stdout.write(tokenizer.decode([token]))
        sys.stdout.flush()  # as it comes, even into a pipe
    sys.stdout.write("\n")
    return 0
