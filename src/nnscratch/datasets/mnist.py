"""MNIST and Fashion-MNIST from their IDX files: found locally or downloaded, always verified.

:func:`load_idx_dataset` returns the raw arrays (images uint8 (N, 28, 28), labels int64 (N,));
``load_dataset`` in :mod:`.registry` turns them into the float (N, 784) arrays a network learns
from.
"""

from ..errors import NnscratchError
from ..validation import check_choice
from .download import download_dataset
from .idx import check_images, check_labels, gunzip_bytes, parse_idx
from .sources import get_spec, locate, search_dirs, verify_bytes

SOURCES = ("auto", "local", "openml")


def read_verified(path, fspec, verify=True):
    """Read one IDX file, check it against ``fspec``; returns ``(array, status)``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NnscratchError(f"{path}: cannot read ({exc.strerror or exc})") from None
    raw = gunzip_bytes(data, path)
    status = verify_bytes(data, raw, fspec, path) if verify else "not verified (verify=False)"
    return parse_idx(raw, path), status


def read_files(spec, paths, verify=True):
    """Read and check the four files ``{role: path}`` of ``spec``.

    Returns ``(x_train, t_train, x_test, t_test), {role: status}``.
    """
    arrays, status = {}, {}
    for role, path in paths.items():
        arrays[role], status[role] = read_verified(path, spec.files[role], verify)
    x_train = check_images(
        arrays["train_images"], paths["train_images"], spec.n_train, spec.image_shape
    )
    x_test = check_images(
        arrays["test_images"], paths["test_images"], spec.n_test, spec.image_shape
    )
    t_train = check_labels(
        arrays["train_labels"], paths["train_labels"], spec.n_classes, len(x_train)
    )
    t_test = check_labels(arrays["test_labels"], paths["test_labels"], spec.n_classes, len(x_test))
    return (x_train, t_train, x_test, t_test), status


def load_idx_dataset(name, data_dir=None, source="auto", verify=True, **download_options):
    """Raw arrays of IDX dataset ``name`` and a dict saying where they came from.

    ``source``: "auto" looks in the folders of
    :func:`~nnscratch.datasets.sources.search_dirs` and downloads when none holds the files;
    "local" never downloads; "openml" goes through scikit-learn's ``fetch_openml`` (the notebook's
    way). ``download_options`` (timeout, retries, backoff, progress) go to the downloader.
    Returns ``(x_train, t_train, x_test, t_test), info``.
    """
    spec = get_spec(name)
    check_choice(source, SOURCES, "source")
    if source == "openml":
        from .openml import load_openml

        return load_openml(spec, **download_options)
    found = locate(spec, data_dir)
    if found is None:
        if source == "local":
            looked = ", ".join(str(path) for _, path in search_dirs(spec, data_dir))
            raise NnscratchError(
                f"{name} is not on this machine (looked in {looked}); run `nnscratch data "
                f"download {name}`, or put its four IDX files in one of those folders"
            )
        paths = download_dataset(spec, data_dir, **download_options)
        origin, folder = "downloaded", paths["train_images"].parent
    else:
        origin, folder, paths = found
    arrays, status = read_files(spec, paths, verify)
    info = {
        "source": f"IDX files ({origin})",
        "folder": str(folder),
        "files": {role: {"path": str(paths[role]), "status": status[role]} for role in paths},
        "image_shape": spec.image_shape,
        "classes": list(spec.classes),
    }
    return arrays, info
