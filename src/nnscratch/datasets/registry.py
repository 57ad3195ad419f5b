"""``load_dataset(name)``: one entry point for every dataset."""

from ..errors import NnscratchError
from .digits import load_digits

#: name → loader; each loader returns a Dataset.
DATASETS = {"digits": load_digits}


def load_dataset(name, **options):
    """Load dataset ``name`` (see ``DATASETS``) and return a :class:`Dataset`."""
    try:
        loader = DATASETS[name]
    except KeyError:
        raise NnscratchError(
            f"unknown dataset {name!r}: choose one of {', '.join(sorted(DATASETS))}") from None
    return loader(**options)
