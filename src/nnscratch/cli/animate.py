"""``nnscratch animate NAME --out FILE.gif``: an animation of learning, as a GIF (or MP4).

Each one is a ``nnscratch.plots.animations`` function; the networks trained here are the quick
runs of ``nnscratch plot`` (:mod:`.plot`), so a frame is the library's own computation.
"""

import math
from pathlib import Path

from ..datasets import DATASETS
from ..errors import NnscratchError
from .args import add_lang_argument, add_listed_parser, option_type, positive_float, positive_int
from .plot import QUICK_2D, QUICK_DIGITS, TOY_SETS, quick, read_history

#: name → what it shows
ANIMATIONS = {
    "boundary": "the decision regions of a network learning a 2-D set (--dataset, default spiral)",
    "descent": "gradient-descent paths on f(x0, x1) = x0² + x1² for four learning rates",
    "weights": "the first layer's weights as images while a network learns digits",
    "curves": "loss and accuracy curves drawn as training goes (--history, or a quick run)",
    "gpt": "what a small GPT writes after --prompt and one head's attention while it learns "
    "唐诗三百首 (about a minute)",
}
#: the image sets whose first-layer weights can be drawn as images: all but the 2-D sets
IMAGE_SETS = tuple(name for name in DATASETS if name not in TOY_SETS)
#: mini-batch steps the whole animation covers: enough for the quick net to learn the set
ITERATIONS = {"boundary": 1500, "weights": 600, "gpt": 400}
#: the gpt animation's prompt (what it writes after) and the line whose attention it shows
GPT_PROMPT, GPT_ATTEND = "床前明月光，", "床前明月光，疑是地上霜。"


def add_parser(sub):
    from ..plots.frames import DEFAULT_FPS, DEFAULT_FRAMES, FRAMES

    p = add_listed_parser(
        sub,
        "animate",
        "animations",
        ANIMATIONS,
        9,
        help="write an animation of learning (GIF, or MP4 with ffmpeg)",
        description="Write an animation of learning to FILE (.gif through Pillow, .mp4 where "
        "ffmpeg is installed).",
    )
    p.add_argument("name", metavar="NAME", choices=list(ANIMATIONS), help="animation (below)")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help="file to write: NAME.gif, or NAME.mp4 where ffmpeg is installed",
    )
    p.add_argument(
        "--frames",
        type=positive_int("frames"),
        default=DEFAULT_FRAMES,
        help=f"number of frames, {FRAMES.low} to {FRAMES.high} (default: {DEFAULT_FRAMES})",
    )
    p.add_argument(
        "--fps",
        type=positive_float("fps"),
        default=DEFAULT_FPS,
        help=f"frames per second (default: {DEFAULT_FPS})",
    )
    p.add_argument(
        "--dataset",
        default=None,
        help=f"boundary: a 2-D set ({', '.join(TOY_SETS)}; default spiral); "
        f"weights: an image set ({', '.join(IMAGE_SETS)}; default digits)",
    )
    p.add_argument(
        "--history",
        type=Path,
        default=None,
        help="curves: a run's history.json (default: a quick run on digits)",
    )
    p.add_argument(
        "--seed",
        type=option_type("seed"),
        default=0,
        help="seed of the network's weights and batch order (default: 0)",
    )
    p.add_argument(
        "--prompt",
        default=None,
        help=f"gpt: the start it writes on from (default: {GPT_PROMPT})",
    )
    add_lang_argument(p)
    p.set_defaults(func=cmd_animate)


def _dataset(name, allowed, default, animation):
    """The --dataset of ``animation``: ``name`` if it is one of ``allowed``, else ``default``."""
    name = default if name is None else name
    if name not in allowed:
        raise NnscratchError(
            f"the {animation} animation takes --dataset {' or '.join(allowed)}, not {name!r}"
        )
    return name


def _every(name, frames):
    """Iterations between frames, so that the animation covers ``ITERATIONS[name]`` steps."""
    return max(1, math.ceil(ITERATIONS[name] / (frames - 1)))


def make_animation(args):
    """The FuncAnimation that ``args`` asks for."""
    from ..plots import animations
    from ..plots.lang import strings_for

    if args.name == "gpt":
        from ..plots.language import check_prompt, gpt_training
        from .plot import quick_lm

        run = quick_lm("gpt", args.seed)
        prompt = args.prompt or GPT_PROMPT
        check_prompt(run.net, run.data.info["tokenizer"], prompt)  # before training
        return gpt_training(
            run,
            iterations=ITERATIONS["gpt"],
            frames=args.frames,
            fps=args.fps,
            prompt=prompt,
            attend=GPT_ATTEND,
            seed=args.seed,
            lang=args.lang,
        )
    if args.name == "descent":
        return animations.descent(frames=args.frames, fps=args.fps, lang=args.lang)
    if args.name == "curves":
        if args.history is not None:
            history = read_history(args.history)
        else:
            from .plot import quick_run

            history = quick_run(args.seed)[2]
        return animations.curves(history, frames=args.frames, fps=args.fps, lang=args.lang)
    if args.name == "boundary":
        name = _dataset(args.dataset, TOY_SETS, "spiral", "boundary")
        run = quick(QUICK_2D, name, args.seed)
        return animations.boundary(
            run.trainer,
            frames=args.frames,
            every=_every("boundary", args.frames),
            fps=args.fps,
            lang=args.lang,
            title=strings_for(args.lang)["anim.toy_title"].format(
                widths="-".join(map(str, [2, *QUICK_2D["hidden"], run.data.n_classes])),
                activation=QUICK_2D["activation"],
                name=run.data.name,
            ),
        )
    name = _dataset(args.dataset, IMAGE_SETS, "digits", "weights")
    run = quick(QUICK_DIGITS, name, args.seed)
    return animations.weights(
        run.trainer,
        run.data.info.get("image_shape"),
        frames=args.frames,
        every=_every("weights", args.frames),
        fps=args.fps,
        lang=args.lang,
    )


def cmd_animate(args):
    from ..plots.animations_save import animation_writer, save_animation
    from ..plots.frames import check_frames

    # a bad --out, --frames or --fps stops here, before any training
    animation_writer(args.out, args.fps)
    check_frames(args.frames)
    if not args.out.parent.is_dir():
        raise NnscratchError(
            f"cannot write {args.out}: the folder {args.out.parent} does not exist"
        )
    if args.history is not None and args.name != "curves":
        raise NnscratchError("--history is for the curves animation only")
    if args.prompt is not None and args.name != "gpt":
        raise NnscratchError("--prompt is for the gpt animation only")
    if args.dataset is not None and args.name not in ("boundary", "weights"):
        raise NnscratchError("--dataset is for the boundary and weights animations only")
    anim = make_animation(args)
    size = save_animation(anim, args.out, fps=args.fps)
    print(f"wrote {args.out} ({args.frames} frames, {size / 1e6:.1f} MB)")
    return 0
