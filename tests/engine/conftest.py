"""The engine's tests run on both of its kernels: NumPy's, and the compiled ones where numba
imports (``nnscratch.engine.compiled``)."""

import pytest

from nnscratch.engine import compiled


@pytest.fixture(params=["numpy", "compiled"])
def kernels(request):
    """The engine on NumPy's kernels, then on the compiled ones (skipped without numba); the
    kernels module, or None for NumPy's."""
    on = request.param == "compiled"
    module = compiled.kernels() if on else None
    if on and module is None:
        pytest.skip(compiled.status())
    with compiled.using(on):
        yield module
