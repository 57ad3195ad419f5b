"""The engine's tests run on both of its kernels: NumPy's, and the compiled ones where numba
imports (``nnscratch.engine.compiled``)."""

import pytest

from nnscratch.engine import compiled


@pytest.fixture(params=["numpy", "compiled"])
def kernels(request):
    """The engine on NumPy's kernels, then on the compiled ones (skipped without numba); the
    kernels module, or None for NumPy's."""
    before = compiled.enable(request.param == "compiled")
    module = compiled.kernels()
    if request.param == "compiled" and module is None:
        compiled.enable(before)
        pytest.skip(compiled.status())
    yield module
    compiled.enable(before)
