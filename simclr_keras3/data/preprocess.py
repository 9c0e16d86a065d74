"""Turn decoded images into what the model takes: float32 in [0, 1], 3 channels, a square size.

Resizing is separable resampling written in NumPy (PIL's method: half-pixel centres, the filter
widened when shrinking so downscaling is antialiased), so results are deterministic, identical on
every backend and need nothing beyond NumPy.
"""

import numpy as np
from PIL import Image

from simclr_keras3.errors import UserInputError

# The official evaluation crop (google-research/simclr data_util.CROP_PROPORTION).
CROP_PROPORTION = 0.875
# Images with a shorter side of at most this many pixels are not shrunk by the crop, as the
# official code does for CIFAR's 32 px images.
SMALL_IMAGE_SIZE = 32
# Images converted per step in preprocess_images: bounds the float32 working memory.
_CHUNK = 4096


def _triangle(x):
    return np.maximum(0.0, 1.0 - np.abs(x))


def _keys_cubic(x, a=-0.5):
    # The bicubic kernel of PIL and TF (Keys 1981, a = -0.5).
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


_KERNELS = {"bilinear": _triangle, "bicubic": _keys_cubic}


def _resize_matrix(in_size, out_size, method):
    """(out_size, in_size) weights: output pixel o = sum_i W[o, i] * input pixel i."""
    kernel = _KERNELS[method]
    scale = in_size / out_size
    stretch = max(scale, 1.0)  # widen the filter when shrinking: antialiasing
    centres = (np.arange(out_size) + 0.5) * scale - 0.5
    weights = kernel((np.arange(in_size)[None, :] - centres[:, None]) / stretch)
    # Taps outside the image are dropped and the rest renormalised (PIL's edge handling).
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def resize(images, size, method="bilinear"):
    """Resize float images (N, H, W, C) to (N, size, size, C).

    Args:
        images: float32 array (N, H, W, C).
        size: output side in pixels.
        method: "bilinear" or "bicubic" (bicubic can overshoot [0, 1]; clip afterwards).

    Example:
        >>> resize(np.ones((1, 28, 28, 1), np.float32), 32).shape
        (1, 32, 32, 1)
    """
    _, height, width, _ = images.shape
    if (height, width) == (size, size):
        return images
    rows = _resize_matrix(height, size, method)
    cols = _resize_matrix(width, size, method)
    channels_first = np.moveaxis(images.astype(np.float32, copy=False), -1, 1)
    return np.moveaxis(rows @ channels_first @ cols.T, 1, -1)


def _to_float(images):
    """uint8 (or integer 0..255) or float [0, 1] images (N, H, W, C in 1, 3, 4) → float32 with
    C in 1, 3."""
    if np.issubdtype(images.dtype, np.integer):
        low, high = (int(images.min()), int(images.max())) if images.size else (0, 0)
        if low < 0 or high > 255:
            raise UserInputError(
                f"integer images must hold 8-bit values 0..255, got {low}..{high}: "
                "scale them to float [0, 1] first"
            )
        images = images.astype(np.float32) / 255.0
    elif np.issubdtype(images.dtype, np.floating):
        images = images.astype(np.float32)
        low, high = (float(images.min()), float(images.max())) if images.size else (0.0, 0.0)
        if not (low >= 0.0 and high <= 1.0):  # also catches NaN
            raise UserInputError(
                f"float images must lie in [0, 1], got {low:g}..{high:g}: divide by 255 "
                "(or pass uint8 arrays)"
            )
    else:
        raise UserInputError(f"images must be uint8 or float, got dtype {images.dtype}")
    if images.shape[-1] == 4:
        # RGBA: composite on white, so transparent regions look like a blank page rather than
        # whatever colour happens to be stored under alpha = 0.
        rgb, alpha = images[..., :3], images[..., 3:]
        images = rgb * alpha + (1.0 - alpha)
    return images


def check_positive_int(value, what):
    """Return ``value`` as an int, or raise UserInputError unless it is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise UserInputError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def check_image_size(image_size):
    """Return ``image_size`` as an int, or raise UserInputError unless it is positive."""
    return check_positive_int(image_size, "image_size")


def _check_layout(images):
    if images.ndim == 3:  # (N, H, W) grayscale
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise UserInputError(
            f"images must have shape (N, H, W) or (N, H, W, C) with C in 1, 3, 4, "
            f"got {images.shape}"
        )
    return images


def preprocess_images(images, image_size):
    """Convert a batch of images to float32 (N, image_size, image_size, 3) in [0, 1].

    uint8 values are divided by 255; floats must already lie in [0, 1]. Grayscale is repeated
    into 3 identical channels; RGBA is composited on white. Images of another size are resized
    with bilinear resampling (antialiased when shrinking); non-square images are stretched, as
    for a fixed-shape array the whole frame is the image.

    Args:
        images: array (N, H, W), (N, H, W, 1), (N, H, W, 3) or (N, H, W, 4), uint8 or float.
        image_size: side of the square output images.

    Returns:
        float32 array (N, image_size, image_size, 3).

    Example:
        >>> x = preprocess_images(np.full((2, 28, 28), 255, np.uint8), 32)
        >>> x.shape, float(x.max())
        ((2, 32, 32, 3), 1.0)
    """
    image_size = check_image_size(image_size)
    images = _check_layout(np.asarray(images))
    out = np.empty((len(images), image_size, image_size, 3), np.float32)
    for start in range(0, len(images), _CHUNK):
        chunk = resize(_to_float(images[start : start + _CHUNK]), image_size)
        out[start : start + _CHUNK] = chunk  # broadcasting repeats a gray channel 3 times
    return out


def pil_to_array(image):
    """Decode a PIL image to float32 (H, W, 3) in [0, 1].

    Grayscale and palette images become RGB; anything with transparency (RGBA, LA, palette or
    RGB with a transparent colour) is composited on white; 16-bit grayscale is scaled by 65535.

    Args:
        image: a ``PIL.Image.Image`` in any mode.

    Example:
        >>> pil_to_array(Image.new("L", (5, 4), 255)).shape
        (4, 5, 3)
    """
    if image.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N"):
        gray = np.asarray(image, dtype=np.float32) / 65535.0
        return np.repeat(np.clip(gray, 0.0, 1.0)[..., None], 3, axis=-1)
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        array = np.asarray(image.convert("RGBA"))
    else:
        array = np.asarray(image.convert("RGB"))
    return _to_float(array[None])[0]


def _center_crop(image, crop_proportion):
    """The official centre crop for a square target: keep ``crop_proportion`` of the shorter
    side, as a square in the middle (offsets rounded up, as ``data_util.center_crop``)."""
    height, width = image.shape[:2]
    side = int(np.rint(crop_proportion * min(height, width)))
    top = (height - side + 1) // 2
    left = (width - side + 1) // 2
    return image[top : top + side, left : left + side]


def eval_preprocess(image, image_size, crop_proportion=CROP_PROPORTION):
    """The official evaluation preprocessing for one image of any size.

    Centre-crops a square holding ``crop_proportion`` (0.875) of the shorter side, resizes it
    to ``image_size`` with bicubic resampling (as ``data_util.center_crop``) and clips to
    [0, 1]. Images whose shorter side is at most 32 px are not shrunk by the crop (the official
    code skips it for CIFAR), only cut to their central square so the aspect ratio is kept.

    Args:
        image: a PIL image, or an array (H, W) or (H, W, C) with C in 1, 3, 4 (uint8 or float
            in [0, 1]).
        image_size: side of the square output image.
        crop_proportion: fraction of the shorter side kept by the crop.

    Returns:
        float32 array (image_size, image_size, 3) in [0, 1].

    Example:
        >>> eval_preprocess(Image.new("RGB", (640, 480)), 224).shape
        (224, 224, 3)
    """
    image_size = check_image_size(image_size)
    if isinstance(image, Image.Image):
        image = pil_to_array(image)
    else:
        image = _to_float(_check_layout(np.asarray(image)[None]))[0]
    if min(image.shape[:2]) <= SMALL_IMAGE_SIZE:
        crop_proportion = 1.0
    image = resize(_center_crop(image, crop_proportion)[None], image_size, method="bicubic")[0]
    out = np.empty((image_size, image_size, 3), np.float32)
    out[...] = np.clip(image, 0.0, 1.0)  # broadcasting repeats a gray channel 3 times
    return out
