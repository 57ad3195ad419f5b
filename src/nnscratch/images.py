"""Photos and drawings → the input vector a trained network expects.

``load_image`` reads a PNG/JPEG (anything Pillow reads) as grayscale in [0, 1];
``prepare_image(gray, like)`` prepares it the way the images of dataset ``like`` were made, one
function per recipe (see each one's docstring):

* "mnist" (28×28 = 784 inputs): :func:`mnist_style`: the digit in a 20 px box, centred by mass.
* "fashion-mnist" (28×28 = 784): :func:`fashion_mnist_style`: Zalando's conversion: the article
  trimmed, its longest side 28 px, sharpened, centred, intensities negated.
* "digits" (8×8 = 64): :func:`digits_style`: the UCI optdigits recipe, 4×4 blocks of a 32×32
  bitmap.

Each first makes the subject bright on dark, as the data is (:func:`ink`): a light background
(a pen on paper, an article photographed on white) is inverted.
"""

from pathlib import Path

import numpy as np

from .errors import NnscratchError

#: ink (after inverting, in [0, 1]) above this belongs to the subject's bounding box (Zalando
#: trimmed what is within 5 % of the background's colour)
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
        raise NnscratchError(
            f"image {str(path)!r} does not exist (or is not a file): check the path"
        )
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
                rgba = img.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                img = Image.alpha_composite(white, rgba)
            gray = np.asarray(img.convert("L"), dtype=np.float64) / 255.0
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
    ) as exc:
        raise NnscratchError(
            f"image {str(path)!r} cannot be read ({type(exc).__name__}: "
            f"{exc}): give a PNG or JPEG file"
        ) from None
    if gray.ndim != 2 or min(gray.shape) == 0:
        raise NnscratchError(f"image {str(path)!r} is empty")
    return gray


def ink(gray, stretch=True):
    """The subject as bright ink on a black background, in [0, 1].

    The background is the median of the border pixels; if it is light (> 0.5) the image is
    inverted, then the background is moved to 0. ``stretch``: the brightest ink becomes 1
    (digits: a pen's stroke is the digit, whatever its shade); else the far end of the scale
    does (articles: a grey shirt stays grey, as Fashion-MNIST negated the photo's intensities).
    Raises NnscratchError when nothing stands out from the background.
    """
    gray = np.asarray(gray, dtype=np.float64)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    x = 1.0 - gray if background > 0.5 else gray
    level = min(background, 1.0 - background)
    contrast = x.max() - level
    if contrast < MIN_CONTRAST:
        raise NnscratchError(
            "no digit or article found: the image is one flat colour; give a "
            "picture of one, dark on light or light on dark"
        )
    return np.clip((x - level) / (contrast if stretch else 1.0 - level), 0.0, 1.0)


def _crop_to_ink(x):
    rows = np.flatnonzero((x > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((x > INK_THRESHOLD).any(axis=0))
    return x[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _resize(x, height, width):
    """Anti-aliased resize of a float image, clipped to [0, 1]."""
    from PIL import Image

    # shrinking: the mean of the pixels each output pixel covers (what optdigits' block counts
    # and MNIST's anti-aliasing do); enlarging: Lanczos interpolation
    shrink = width * height < x.size
    out = Image.fromarray(x.astype(np.float32), mode="F").resize(
        (width, height), Image.Resampling.BOX if shrink else Image.Resampling.LANCZOS
    )
    return np.clip(np.asarray(out, dtype=np.float64), 0.0, 1.0)


def _fit(x, longest):
    """Resize ``x`` so its longest side is ``longest`` pixels, keeping the aspect ratio."""
    h, w = x.shape
    scale = longest / max(h, w)
    return _resize(x, max(1, round(h * scale)), max(1, round(w * scale)))


def _centred(patch, side):
    """``patch`` pasted in the middle of a black ``side``×``side`` canvas."""
    h, w = patch.shape
    canvas = np.zeros((side, side))
    top, left = (side - h) // 2, (side - w) // 2
    canvas[top : top + h, left : left + w] = patch
    return canvas


def sharpen(x, sigma=1.0):
    """Unsharp masking: x + (x − G∗x), G the Gaussian of standard deviation ``sigma`` over a
    radius of 1 pixel (3×3), the edge pixels repeated beyond the border; clipped to [0, 1]."""
    g = np.exp(-(np.arange(-1, 2) ** 2) / (2 * sigma**2))
    g /= g.sum()
    padded = np.pad(x, 1, mode="edge")
    columns = g[0] * padded[:-2] + g[1] * padded[1:-1] + g[2] * padded[2:]  # G along each column
    blurred = g[0] * columns[:, :-2] + g[1] * columns[:, 1:-1] + g[2] * columns[:, 2:]
    return np.clip(x + (x - blurred), 0.0, 1.0)


def center_of_mass(x):
    """(row, column) of the intensity-weighted mean pixel position of ``x``."""
    total = x.sum()
    rows, cols = np.indices(x.shape)
    return float((rows * x).sum() / total), float((cols * x).sum() / total)


def mnist_style(x, side=28, box=20):
    """MNIST's recipe (LeCun, Cortes & Burges) on ink ``x`` (bright on dark, stretched):

    1. crop to the ink's bounding box;
    2. scale so the longest side is ``box`` (20) px, keeping the aspect ratio, anti-aliased;
    3. paste into ``side``×``side`` (28×28) with the ink's centre of mass at the centre.

    Returns (side, side) in [0, 1]."""
    patch = _fit(_crop_to_ink(x), box)
    cy, cx = center_of_mass(patch)
    h, w = patch.shape
    centre = (side - 1) / 2
    top = int(np.clip(round(centre - cy), 0, side - h))
    left = int(np.clip(round(centre - cx), 0, side - w))
    out = np.zeros((side, side))
    out[top : top + h, left : left + w] = patch
    return out


def fashion_mnist_style(x, side=28):
    """Zalando's conversion (Xiao, Rasul & Vollgraf 2017, "Fashion-MNIST", section 2) on ink
    ``x`` (the photo's intensities negated, not stretched):

    1. trim the edges close to the background's colour (within 5 %, ``INK_THRESHOLD``);
    2. resize so the longest edge is ``side`` (28) px (Zalando subsampled 51×73 thumbnails; a
       photo is larger, so each pixel is the mean of the area it covers, as subsampling a
       thumbnail already shrunk this way would be);
    3. sharpen with a Gaussian operator of radius and standard deviation 1 (:func:`sharpen`);
    4. extend the shorter edge to ``side``, the article in the centre of the canvas;
    5. (negating the intensities: done by :func:`ink`; 8-bit gray: the picture's own.)

    Returns (side, side) in [0, 1]."""
    return _centred(sharpen(_fit(_crop_to_ink(x), side)), side)


def digits_style(x, side=8, block=4):
    """optdigits' recipe (UCI, Alpaydin & Kaynak 1998) on ink ``x`` (bright on dark, stretched):

    1. crop to the ink's bounding box, scale so its longest side is side·block (32) px;
    2. centre it, by its bounding box, in a 32×32 bitmap;
    3. each block×block (4×4) tile → its mean (digits counts the ink pixels of each block,
       0..16; nnscratch divides by 16, so the mean is on the same scale).

    Returns (side, side) in [0, 1]."""
    canvas = _centred(_fit(_crop_to_ink(x), side * block), side * block)
    return canvas.reshape(side, block, side, block).mean(axis=(1, 3))


#: dataset → (side of its square images, the recipe, whether the ink is stretched to 1)
RECIPES = {
    "mnist": (28, mnist_style, True),
    "fashion-mnist": (28, fashion_mnist_style, False),
    "digits": (8, digits_style, True),
}


def input_size_of(like):
    """The number of inputs an image prepared like dataset ``like`` gives: side²."""
    return RECIPES[like][0] ** 2


def prepare_image(gray, like):
    """Grayscale image (H, W) in [0, 1] → the (side²,) input vector of a model trained on the
    dataset ``like`` ("mnist", "fashion-mnist" or "digits"; see ``RECIPES``)."""
    if like not in RECIPES:
        raise NnscratchError(
            f"no recipe to prepare pictures like {like!r}: use one of {', '.join(RECIPES)}"
        )
    side, recipe, stretch = RECIPES[like]
    return recipe(ink(gray, stretch), side).reshape(-1)
