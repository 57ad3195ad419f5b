"""``nnscratch data``: list the datasets, download one, show what a dataset holds."""

import argparse
import sys
from pathlib import Path

from .args import positive_float, positive_int


def add_parser(sub):
    p = sub.add_parser(
        "data",
        help="list, download and inspect datasets",
        description="Datasets: where they are found, downloading them (verified "
        "against the official SHA-256), and what they hold.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    def add(name, help_text, func, with_name=True):
        a = actions.add_parser(
            name,
            help=help_text,
            description=help_text,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        if with_name:
            a.add_argument("name", metavar="NAME", help="a dataset of `nnscratch data list`")
        a.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="folder to look in first (and to download into)",
        )
        a.set_defaults(func=func)
        return a

    add("list", "each dataset and where it was found or would come from", cmd_list, with_name=False)
    d = add("download", "download a dataset's files into the cache (or --data-dir)", cmd_download)
    d.add_argument(
        "--timeout", type=positive_float("timeout"), default=30.0, help="seconds per request"
    )
    d.add_argument("--retries", type=positive_int("retries"), default=3, help="tries per mirror")
    d.add_argument("--force", action="store_true", help="download even files already there")
    d.add_argument(
        "--verbose",
        action="store_true",
        help="when a file cannot be downloaded, list each URL tried and why it failed",
    )
    add("info", "shapes, class counts and checksum status of a dataset", cmd_info)


def cmd_list(args):
    from ..datasets import DATASETS
    from ..datasets.sources import SPECS, download_dir, locate
    from ..datasets.toy2d import TOY_DATASETS

    for name, description in DATASETS.items():
        print(f"{name}: {description}")
        if name in TOY_DATASETS:
            print("  generated on the spot (options: nnscratch.datasets.toy2d)")
            continue
        if name == "tang300":
            print("  found: bundled with nnscratch (always available)")
            continue
        if name == "tang":
            print(f"  {tang_status(args.data_dir)}")
            continue
        if name == "text":
            print("  your own file: nnscratch train --model gpt --text FILE")
            continue
        if name not in SPECS:
            print("  found: bundled with scikit-learn (always available)")
            continue
        spec = SPECS[name]
        found = locate(spec, args.data_dir)
        if found is not None:
            label, folder, _ = found
            print(f"  found: {folder} ({label})")
        else:
            print(
                f"  not found; `nnscratch data download {name}` fetches it into "
                f"{download_dir(spec, args.data_dir)} from {spec.mirrors[0]} "
                f"(then {len(spec.mirrors) - 1} more mirrors)"
            )
    return 0


def tang_status(data_dir):
    """Where 全唐诗's files are, in a line: all found, or how many are missing and where
    ``nnscratch data download tang`` puts them."""
    from ..datasets.sources import download_dir, search_dirs
    from ..datasets.text import tang_spec

    spec = tang_spec()
    folders = [folder for _, folder in search_dirs(spec, data_dir)]
    missing = [n for n in spec.files if not any((f / n).is_file() for f in folders)]
    if not missing:
        return f"found: all {len(spec.files)} files"
    size = sum(spec.files[n].size or 0 for n in missing) / 1e6
    return (
        f"{len(missing)} of {len(spec.files)} files not found; `nnscratch data download tang` "
        f"fetches them ({size:.0f} MB) into {download_dir(spec, data_dir)} from "
        f"{spec.mirrors[0]} (then {len(spec.mirrors) - 1} more mirrors)"
    )


def cmd_download(args):
    from ..datasets.download import DownloadError, download_dataset
    from ..datasets.mnist import read_files
    from ..datasets.sources import SPECS, get_spec
    from ..datasets.toy2d import TOY_DATASETS

    if args.name == "digits":
        print("digits is bundled with scikit-learn: nothing to download")
        return 0
    if args.name in TOY_DATASETS:
        print(f"{args.name} is generated on the spot: nothing to download")
        return 0
    if args.name == "tang300":
        print("tang300 is bundled with nnscratch: nothing to download")
        return 0
    if args.name == "tang":
        return download_tang(args)
    if args.name not in SPECS:
        get_spec(args.name)  # raises the error that lists the downloadable datasets
    spec = SPECS[args.name]
    try:
        paths = download_dataset(
            spec, args.data_dir, force=args.force, timeout=args.timeout, retries=args.retries
        )
    except DownloadError as exc:
        if not args.verbose:
            raise exc.hinted("--verbose shows each try") from None
        print_attempts(exc)
        raise exc.hinted("") from None
    _, status = read_files(spec, paths)  # files that were already there are verified too
    for role, path in paths.items():
        print(f"{path}  {status[role]}")
    print(f"{args.name}: all {len(paths)} files verified")
    return 0


def download_tang(args):
    """全唐诗's 58 files, each found or downloaded and checked (``datasets.text.tang_poems``)."""
    from ..datasets.download import DownloadError
    from ..datasets.text import tang_files, tang_poems

    try:
        poems = tang_poems(args.data_dir, timeout=args.timeout, retries=args.retries)
    except DownloadError as exc:
        if not args.verbose:
            raise exc.hinted("--verbose shows each try") from None
        print_attempts(exc)
        raise exc.hinted("") from None
    paths = tang_files(args.data_dir, download=False)
    print(f"tang: all {len(paths)} files verified in {paths[0].parent} ({len(poems):,} poems)")
    return 0


def print_attempts(error):
    """Every try of a failed download, one stderr line each, then the file's size and SHA-256
    (what a copy placed by hand must match)."""
    for attempt in error.attempts:
        print(f"nnscratch: tried {attempt}", file=sys.stderr)
    file = error.file
    if file is not None and file.size is not None and file.sha256:
        print(
            f"nnscratch: {file.filename} is {file.size} bytes, SHA-256 {file.sha256}",
            file=sys.stderr,
        )


def cmd_info(args):
    import numpy as np

    from ..datasets import load_dataset

    if args.name in ("tang300", "tang"):  # a text: no classes to count
        from ..datasets.text import load_tang, load_tang300

        text = (
            load_tang300() if args.name == "tang300" else load_tang(args.data_dir, download=False)
        )
        print(f"{args.name}: {text.description}")
        print(f"  begins: {text.tokenizer.decode(text.train[:24])!r}")
        return 0
    data = load_dataset(args.name, data_dir=args.data_dir, source="local")
    print(f"{args.name}: {data.info.get('source', '')}")
    if data.info.get("folder"):
        print(f"  folder: {data.info['folder']}")
    for split, x, t in (("train", data.x_train, data.t_train), ("test", data.x_test, data.t_test)):
        counts = np.bincount(t, minlength=data.n_classes)
        print(
            f"  {split}: x {x.shape} {x.dtype}, t {t.shape}; per class: "
            f"{' '.join(str(c) for c in counts)}"
        )
    for role, entry in data.info.get("files", {}).items():
        print(f"  {role}: {entry['path']}  checksum: {entry['status']}")
    classes = data.info.get("classes")
    if classes:
        print(f"  classes: {', '.join(f'{i}={c}' for i, c in enumerate(classes))}")
    return 0
