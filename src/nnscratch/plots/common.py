"""What every figure shares: matplotlib's object API (``Figure``), which needs no display and no
pyplot state, and an atomic save."""

import io as _io

from ..atomic import atomic_write_bytes


def save_figure(fig, path, fmt=None):
    """Render ``fig`` and write it to ``path`` atomically; the format follows the suffix."""
    buf = _io.BytesIO()
    fig.savefig(buf, format=fmt or str(path).rsplit(".", 1)[-1], dpi=150, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
