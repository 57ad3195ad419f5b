"""Writing an animation to a file a user keeps: GIF through Pillow, MP4 through ffmpeg, atomically.

matplotlib's writers take a file name (and Pillow picks the format from its suffix), so the
animation is rendered into a temporary folder beside the target, then its bytes go through
``atomic_write_bytes``: a failure at any point leaves no partial file and no temp file behind.
"""

import shutil
import tempfile
from pathlib import Path

from matplotlib.animation import FFMpegWriter, PillowWriter

from ..atomic import atomic_write_bytes
from ..errors import NnscratchError
from ..validation import check_number
from .frames import DEFAULT_FPS

#: suffix → what writes it
FORMATS = ("gif", "mp4")
#: frames per second a viewer can follow, and a bound that keeps files small
MAX_FPS = 60


def animation_writer(path, fps=DEFAULT_FPS):
    """The matplotlib writer for ``path``'s suffix: Pillow for .gif, ffmpeg for .mp4 (where the
    ``ffmpeg`` program is on PATH); an error for anything else."""
    fps = check_number(fps, "fps", 1, MAX_FPS, hint="frames per second, e.g. 10")
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix == "gif":
        return PillowWriter(fps=fps)
    if suffix == "mp4":
        if shutil.which("ffmpeg") is None:
            raise NnscratchError(
                f"writing {path} needs ffmpeg, which is not on PATH: install it, or write a .gif"
            )
        return FFMpegWriter(fps=fps)
    raise NnscratchError(
        f"cannot write an animation to {path}: the name must end in "
        f"{' or '.join('.' + s for s in FORMATS)}"
    )


def save_animation(anim, path, fps=DEFAULT_FPS, dpi=None):
    """Render ``anim`` (a FuncAnimation) to ``path`` (.gif or .mp4) atomically; returns the
    number of bytes written."""
    path = Path(path)
    writer = animation_writer(path, fps)
    if not path.parent.is_dir():
        raise NnscratchError(f"cannot write {path}: the folder {path.parent} does not exist")
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.") as tmp:
        rendered = Path(tmp) / f"animation{path.suffix.lower()}"
        anim.save(rendered, writer=writer, dpi=dpi)
        data = rendered.read_bytes()
    atomic_write_bytes(path, data)
    return len(data)
