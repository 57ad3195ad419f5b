"""How long an animation is: its frames and their rate (the command line's defaults and bounds
come from here, without loading matplotlib)."""

from ..validation import Interval

#: frames of an animation: at least 2 (a change), at most enough for a GIF of a few MB
FRAMES = Interval(2, 120, integer=True)
MIN_FRAMES, MAX_FRAMES = FRAMES.low, FRAMES.high
#: the default number of frames and frames per second (a 4-second clip)
DEFAULT_FRAMES, DEFAULT_FPS = 40, 10


def check_frames(frames):
    """``frames`` as an int in [MIN_FRAMES, MAX_FRAMES] (a GIF of a few MB), or an error."""
    return FRAMES.check(frames, "frames", hint="a GIF of a few MB")
