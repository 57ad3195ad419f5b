"""Where MNIST and Fashion-MNIST come from, and how each file is recognised as the real one.

For every file we keep the official size and SHA-256 of the published ``.gz`` (what a mirror
serves) and the SHA-256 of its decompressed IDX content (what a Debian package or a user who ran
``gunzip`` has: Debian re-writes the gzip header, so its ``.gz`` bytes differ while the content is
identical). A file is accepted when either matches; nothing else is ever trained on.

Provenance of the checksums (public sources, cross-checked):

- MNIST ``.gz`` size and SHA-256: tensorflow/datasets ``url_checksums/mnist.txt`` (CVDF mirror);
  MD5: torchvision ``datasets/mnist.py`` (the same files on the ossci-datasets mirror).
  Decompressed SHA-256: published identically by several independent projects.
- Fashion-MNIST ``.gz`` size and SHA-256: tensorflow/datasets ``url_checksums/fashion_mnist.txt``;
  MD5: Zalando's fashion-mnist README. Decompressed SHA-256: computed from Debian's
  ``dataset-fashion-mnist``. Debian's ``.gz`` files hold the very deflate streams of Zalando's;
  only the gzip header was rewritten (file name dropped, date set). Putting the original header
  back (name, mtime 2017-08-31) rebuilds files whose size, SHA-256 and MD5 are exactly the
  published ones, so their content is the official content.

Where data is looked for, in order (:func:`search_dirs`): an explicit ``data_dir``;
``$NNSCRATCH_DATA``; the user cache (``$XDG_CACHE_HOME/nnscratch`` or ``~/.cache/nnscratch``);
the folders where Linux distributions install these sets; then a download from the mirrors.
"""

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import NnscratchError

ROLES = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class FileSpec:
    """One published file: its name, and the checksums that identify it.

    ``size``/``sha256``/``md5`` describe the official ``.gz``; ``raw_size``/``raw_sha256`` its
    decompressed IDX content. Any of the checksums may be None where no trusted value is known.
    """

    filename: str
    size: int | None
    sha256: str | None
    md5: str | None
    raw_size: int | None = None
    raw_sha256: str | None = None

    @property
    def stem(self):
        """The name without ``.gz``: what ``gunzip`` leaves."""
        return self.filename[:-3] if self.filename.endswith(".gz") else self.filename


@dataclass(frozen=True)
class DatasetSpec:
    """An IDX dataset: its four files, its mirrors (base URLs, tried in order) and where
    distributions install it."""

    name: str
    title: str
    files: dict
    mirrors: tuple
    system_dirs: tuple = ()
    openml_name: str | None = None
    n_train: int = 60000
    n_test: int = 10000
    image_shape: tuple = (28, 28)
    classes: tuple = tuple(str(i) for i in range(10))
    homepage: str = ""
    notes: dict = field(default_factory=dict)

    @property
    def n_classes(self):
        return len(self.classes)


MNIST = DatasetSpec(
    name="mnist",
    title="MNIST handwritten digits (LeCun, Cortes, Burges)",
    files={
        "train_images": FileSpec(
            "train-images-idx3-ubyte.gz",
            9912422,
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            47040016,
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        ),
        "train_labels": FileSpec(
            "train-labels-idx1-ubyte.gz",
            28881,
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "d53e105ee54ea40749a09fcbcd1e9432",
            60008,
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ),
        "test_images": FileSpec(
            "t10k-images-idx3-ubyte.gz",
            1648877,
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "9fb629c4189551a2d022fa330f9573f3",
            7840016,
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ),
        "test_labels": FileSpec(
            "t10k-labels-idx1-ubyte.gz",
            4542,
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            "ec29112dd5afa0611ce80d1b7f02629c",
            10008,
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
    },
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",  # torchvision's and the book's mirror
        "https://storage.googleapis.com/cvdf-datasets/mnist/",  # Google's CVDF mirror
        "http://yann.lecun.com/exdb/mnist/",  # the original site (often 403/404 now)
    ),
    system_dirs=("/usr/share/datasets/mnist",),
    openml_name="mnist_784",
    homepage="http://yann.lecun.com/exdb/mnist/",
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST: Zalando's article images",
    files={
        "train_images": FileSpec(
            "train-images-idx3-ubyte.gz",
            26421880,
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            47040016,
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ),
        "train_labels": FileSpec(
            "train-labels-idx1-ubyte.gz",
            29515,
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "25c81989df183df01b3e8a0aad5dffbe",
            60008,
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ),
        "test_images": FileSpec(
            "t10k-images-idx3-ubyte.gz",
            4422102,
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "bef4ecab320f06d8554ea6380940ec79",
            7840016,
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ),
        "test_labels": FileSpec(
            "t10k-labels-idx1-ubyte.gz",
            5148,
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "bb300cfdad3c16e7a12a480ee83cd310",
            10008,
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
    },
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",  # Zalando's own
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    system_dirs=("/usr/share/datasets/fashion-mnist",),  # Debian's dataset-fashion-mnist
    openml_name="Fashion-MNIST",
    classes=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    homepage="https://github.com/zalandoresearch/fashion-mnist",
)

#: name → spec of every dataset stored as IDX files; tests may replace entries.
SPECS = {"mnist": MNIST, "fashion-mnist": FASHION_MNIST}


def class_names(name, n_classes):
    """The names of dataset ``name``'s classes, index by index: the spec's (Fashion-MNIST's
    "T-shirt/top", "Trouser", ...) for the IDX datasets, else the indices themselves ("0", "1",
    ...: digits, the toy sets)."""
    spec = SPECS.get(name)
    if spec is not None and spec.n_classes == n_classes:
        return tuple(spec.classes)
    return tuple(str(k) for k in range(n_classes))


def get_spec(name):
    try:
        return SPECS[name]
    except KeyError:
        raise NnscratchError(
            f"{name!r} is not an IDX dataset: choose one of {', '.join(sorted(SPECS))}"
        ) from None


def cache_root():
    """The user cache: ``$XDG_CACHE_HOME/nnscratch``, else ``~/.cache/nnscratch``."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "nnscratch"


def search_dirs(spec, data_dir=None):
    """The folders looked in for ``spec``'s files, in order, as ``(label, path)`` pairs.

    A root (``data_dir``, ``$NNSCRATCH_DATA``, the cache) is searched as ``root/<name>`` and, for
    ``data_dir`` and ``$NNSCRATCH_DATA``, as ``root`` itself (a folder holding the four files).
    """
    dirs = []
    if data_dir is not None:
        dirs += [("--data-dir", Path(data_dir) / spec.name), ("--data-dir", Path(data_dir))]
    env = os.environ.get("NNSCRATCH_DATA")
    if env:
        dirs += [("$NNSCRATCH_DATA", Path(env) / spec.name), ("$NNSCRATCH_DATA", Path(env))]
    dirs.append(("cache", cache_root() / spec.name))
    dirs += [("system", Path(d)) for d in spec.system_dirs]
    return dirs


def download_dir(spec, data_dir=None):
    """Where a download goes: ``data_dir/<name>``, else ``$NNSCRATCH_DATA/<name>``, else the
    user cache."""
    if data_dir is not None:
        return Path(data_dir) / spec.name
    env = os.environ.get("NNSCRATCH_DATA")
    if env:
        return Path(env) / spec.name
    return cache_root() / spec.name


def find_file(folder, fspec):
    """The file for ``fspec`` in ``folder``: the ``.gz`` or the decompressed one, else None."""
    for name in (fspec.filename, fspec.stem):
        path = Path(folder) / name
        if path.is_file():
            return path
    return None


def locate(spec, data_dir=None):
    """The first folder of :func:`search_dirs` that holds all four files.

    Returns ``(label, folder, {role: path})`` or None.
    """
    for label, folder in search_dirs(spec, data_dir):
        paths = {role: find_file(folder, f) for role, f in spec.files.items()}
        if all(paths.values()):
            return label, folder, paths
    return None


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def verify_bytes(data, raw, fspec, source):
    """Check a file against ``fspec``; return how it was recognised or raise.

    ``data`` is the file's bytes, ``raw`` its decompressed content (the same object when the file
    was not compressed). Accepted: the official ``.gz`` (size and SHA-256), or content whose size
    and SHA-256 are those of the official decompressed file.
    """
    if fspec.sha256 and len(data) == fspec.size and sha256_hex(data) == fspec.sha256:
        return "official .gz (SHA-256)"
    if fspec.raw_sha256 and len(raw) == fspec.raw_size and sha256_hex(raw) == fspec.raw_sha256:
        return "IDX content (SHA-256)"
    expected = (
        [f"{fspec.filename}: {fspec.size} bytes, SHA-256 {fspec.sha256}"] if fspec.sha256 else []
    )
    if fspec.raw_sha256:
        expected.append(f"decompressed: {fspec.raw_size} bytes, SHA-256 {fspec.raw_sha256}")
    raise NnscratchError(
        f"{source}: checksum mismatch: {len(data)} bytes, SHA-256 {sha256_hex(data)} is not the "
        f"official file (expected {'; or '.join(expected)}); the file is damaged or not "
        "the dataset's: delete it and run `nnscratch data download` again"
    )
