"""Photos and drawings of digits → the input vector a trained network expects.

``load_image`` reads a PNG/JPEG (anything Pillow reads) as grayscale in [0, 1];
``preprocess_digit`` prepares it the way the training images were prepared:

* MNIST (28×28 = 784 inputs): white digit on black; crop to the ink's bounding box, scale the
  longest side to 20 px keeping the aspect ratio (anti-aliased), paste into 28×28 so that the
  centre of mass of the ink is at the centre.
* scikit-learn digits (8×8 = 64 inputs): the UCI optdigits recipe: the ink's bounding box scaled
  so its longest side fills a 32×32 bitmap, centred, then each 4×4 block averaged (digits counts
  the ink pixels of each block, 0..16; nnscratch divides by 16, so the average is the same scale).

Both invert a light background (a pen on paper) so the digit is bright on dark, like the data.
"""

from pathlib import Path

import numpy as np

from .errors import NnscratchError

#: input size of a model → (side of the square image, preprocessing name)
IMAGE_FORMATS = {784: (28, "mnist"), 64: (8, "digits")}
#: ink (after inverting and stretching to [0, 1]) above this belongs to the digit's bounding box
INK_THRESHOLD = 0.05
#: an image whose ink and background differ by less than this holds no digit
MIN_CONTRAST = 0.1


def load_image(path):
    """The image at ``path`` as a float64 (H, W) array in [0, 1] (0 black, 1 white).

    Colour is converted to grayscale (ITU-R 601 luma, Pillow's "L"); a transparent background
    counts as white paper.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise NnscratchError(f"image {str(path)!r} does not exist (or is not a file): check "
                             "the path")
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
                rgba = img.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                img = Image.alpha_composite(white, rgba)
            gray = np.asarray(img.convert("L"), dtype=np.float64) / 255.0
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError,
            SyntaxError, EOFError) as exc:
        raise NnscratchError(f"image {str(path)!r} cannot be read ({type(exc).__name__}: "
                             f"{exc}): give a PNG or JPEG file") from None
    if gray.ndim != 2 or min(gray.shape) == 0:
        raise NnscratchError(f"image {str(path)!r} is empty")
    return gray


def ink(gray):
    """Digit as bright ink on a dark background, stretched to [0, 1].

    The background is the median of the border pixels; if it is light (> 0.5) the image is
    inverted. Raises NnscratchError when nothing stands out from the background.
    """
    gray = np.asarray(gray, dtype=np.float64)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    x = 1.0 - gray if background > 0.5 else gray
    level = min(background, 1.0 - background)
    contrast = x.max() - level
    if contrast < MIN_CONTRAST:
        raise NnscratchError("no digit found: the image is one flat colour; give a picture of "
                             "one digit, dark on light or light on dark")
    return np.clip((x - level) / contrast, 0.0, 1.0)


def _crop_to_ink(x):
    rows = np.flatnonzero((x > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((x > INK_THRESHOLD).any(axis=0))
    return x[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _resize(x, height, width):
    """Anti-aliased resize of a float image, clipped to [0, 1]."""
    from PIL import Image

    # shrinking: the mean of the pixels each output pixel covers (what optdigits' block counts
    # and MNIST's anti-aliasing do); enlarging: Lanczos interpolation
    shrink = width * height < x.size
    out = Image.fromarray(x.astype(np.float32), mode="F").resize(
        (width, height), Image.Resampling.BOX if shrink else Image.Resampling.LANCZOS)
    return np.clip(np.asarray(out, dtype=np.float64), 0.0, 1.0)


def _fit(x, longest):
    """Resize ``x`` so its longest side is ``longest`` pixels, keeping the aspect ratio."""
    h, w = x.shape
    scale = longest / max(h, w)
    return _resize(x, max(1, round(h * scale)), max(1, round(w * scale)))


def center_of_mass(x):
    """(row, column) of the intensity-weighted mean pixel position of ``x``."""
    total = x.sum()
    rows, cols = np.indices(x.shape)
    return float((rows * x).sum() / total), float((cols * x).sum() / total)


def mnist_style(x, side=28, box=20):
    """MNIST's recipe on ink ``x`` (bright on dark): crop, longest side → ``box``, paste into
    ``side``×``side`` with the centre of mass at the centre. Returns (side, side) in [0, 1]."""
    patch = _fit(_crop_to_ink(x), box)
    cy, cx = center_of_mass(patch)
    h, w = patch.shape
    centre = (side - 1) / 2
    top = int(np.clip(round(centre - cy), 0, side - h))
    left = int(np.clip(round(centre - cx), 0, side - w))
    out = np.zeros((side, side))
    out[top:top + h, left:left + w] = patch
    return out


def digits_style(x, side=8, block=4):
    """optdigits' recipe on ink ``x``: crop, longest side → side·block pixels, centred by the
    bounding box, then the mean of each block×block tile. Returns (side, side) in [0, 1]."""
    big = side * block
    patch = _fit(_crop_to_ink(x), big)
    h, w = patch.shape
    canvas = np.zeros((big, big))
    top, left = (big - h) // 2, (big - w) // 2
    canvas[top:top + h, left:left + w] = patch
    return canvas.reshape(side, block, side, block).mean(axis=(1, 3))


def preprocess_digit(gray, input_size):
    """Grayscale image (H, W) → the (input_size,) vector a model with that many inputs takes:
    784 → 28×28 MNIST style, 64 → 8×8 digits style (see the module docstring)."""
    if input_size not in IMAGE_FORMATS:
        known = ", ".join(f"{n} ({s}×{s} {name})" for n, (s, name) in IMAGE_FORMATS.items())
        raise NnscratchError(f"the model takes {input_size} inputs, which is not an image size "
                             f"predict knows: models with {known} inputs can classify images")
    side, style = IMAGE_FORMATS[input_size]
    x = ink(gray)
    out = mnist_style(x, side) if style == "mnist" else digits_style(x, side)
    return out.reshape(-1)
