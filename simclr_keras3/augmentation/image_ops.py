"""Pure, backend-neutral image operations that APPLY given per-image parameters.

Every function takes a batch of channels-last float images ``(B, H, W, C)`` in ``[0, 1]`` and
per-image parameter tensors whose first axis is ``B``. Nothing here draws random numbers, so the
same parameters give the same result on every backend (the layers sample, these functions apply).
Only gathers, elementwise ops and reductions are used: they run under JAX jit, TF XLA and torch.
"""

from keras import ops

# ITU-R 601 luma weights, as in tf.image.rgb_to_grayscale (used by the official SimCLR code).
LUMA_WEIGHTS = (0.2989, 0.5870, 0.1140)

BRIGHTNESS, CONTRAST, SATURATION, HUE = 0, 1, 2, 3

_EPS = 1e-4  # slack when turning box fractions back into pixel indices (float rounding)


def as_tensors(images, parameters):
    """Convert images and a parameter dict (possibly NumPy) to backend tensors."""
    images = ops.convert_to_tensor(images)
    return images, {k: ops.convert_to_tensor(v) for k, v in parameters.items()}


def _per_image(values, ndim=4):
    """Reshape ``(B,)`` values to ``(B, 1, 1, 1)`` so they broadcast over an image."""
    return ops.reshape(values, (-1,) + (1,) * (ndim - 1))


# --- crop and resize -------------------------------------------------------------------------


def _cubic_weights(t, a=-0.5):
    """Keys cubic convolution weights for the 4 taps at offsets -1, 0, 1, 2 (a=-0.5 as in TF)."""

    def near(x):  # |x| <= 1
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a

    return [far(1.0 + t), near(t), near(1.0 - t), far(2.0 - t)]


def _taps(start, length, in_size, out_size, interpolation):
    """Source indices and weights along one axis for resizing the span [start, start+length).

    ``start`` and ``length`` are ``(B,)`` in pixels. Half-pixel centres (as tf.image.resize and
    torch's align_corners=False): output pixel i samples ``start + (i + 0.5) * length / out - 0.5``.
    Taps are confined to the box, not the whole image, so an integer-pixel box gives exactly
    "crop, then resize". Returns lists of ``(B, out)`` int32 indices and float weights.
    """
    # Constants come from Python lists: under a JAX trace an op on constants alone would run
    # (and compile) eagerly, once per op.
    centres = ops.convert_to_tensor([[(i + 0.5) / out_size for i in range(out_size)]], "float32")
    start = ops.expand_dims(start, 1)
    length = ops.expand_dims(length, 1)
    coord = start + centres * length - 0.5
    lo = ops.maximum(ops.floor(start + _EPS), 0.0)
    hi = ops.minimum(ops.ceil(start + length - _EPS) - 1.0, in_size - 1.0)
    hi = ops.maximum(hi, lo)
    base = ops.floor(coord)
    t = coord - base
    if interpolation == "bilinear":
        offsets, weights = [0.0, 1.0], [1.0 - t, t]
    elif interpolation == "bicubic":
        offsets, weights = [-1.0, 0.0, 1.0, 2.0], _cubic_weights(t)
        # Like TF's half-pixel bicubic: taps outside the box get weight 0, the rest renormalise.
        weights = [
            ops.where((base + o >= lo) & (base + o <= hi), w, 0.0)
            for o, w in zip(offsets, weights)
        ]
        total = weights[0] + weights[1] + weights[2] + weights[3]
        weights = [w / total for w in weights]
    else:
        raise ValueError(f"interpolation must be 'bilinear' or 'bicubic', got {interpolation!r}")
    indices = [ops.cast(ops.clip(base + o, lo, hi), "int32") for o in offsets]
    return indices, weights


def _resample_axis(images, indices, weights, axis):
    """Weighted sum of gathered slices along ``axis`` (1 = rows, 2 = columns)."""
    out_shape = list(ops.shape(images))
    out_shape[axis] = ops.shape(indices[0])[1]
    every = slice(None)
    expand = (every, every, None, None) if axis == 1 else (every, None, every, None)
    result = 0.0
    for idx, w in zip(indices, weights):
        idx = ops.broadcast_to(idx[expand], out_shape)
        result = result + ops.take_along_axis(images, idx, axis=axis) * w[expand]
    return result


def crop_and_resize(images, boxes, size, interpolation="bilinear"):
    """Crop one box per image and resize it to ``size x size``.

    Args:
        images: ``(B, H, W, C)`` float images.
        boxes: ``(B, 4)`` float ``(y_min, x_min, height, width)`` as fractions of the image.
        size: int, output side.
        interpolation: ``"bilinear"`` or ``"bicubic"`` (Keys, a=-0.5, like TF).

    Returns:
        ``(B, size, size, C)`` images, clipped to ``[0, 1]`` (bicubic can overshoot).
    """
    images = ops.convert_to_tensor(images)
    height, width = images.shape[1], images.shape[2]
    boxes = ops.cast(boxes, "float32")
    rows = _taps(boxes[:, 0] * height, boxes[:, 2] * height, height, size, interpolation)
    cols = _taps(boxes[:, 1] * width, boxes[:, 3] * width, width, size, interpolation)
    out = _resample_axis(images, *rows, axis=1)
    out = _resample_axis(out, *cols, axis=2)
    return ops.clip(out, 0.0, 1.0)


# --- flip and grayscale ----------------------------------------------------------------------


def flip_left_right(images, flip):
    """Mirror the images whose ``flip`` flag ``(B,)`` is true."""
    images = ops.convert_to_tensor(images)
    return ops.where(_per_image(flip), ops.flip(images, axis=2), images)


def rgb_to_grayscale(images):
    """Luma of RGB images replicated to 3 channels (the official SimCLR ``to_grayscale``)."""
    images = ops.convert_to_tensor(images)
    weights = ops.convert_to_tensor(LUMA_WEIGHTS, images.dtype)
    gray = ops.sum(images * weights, axis=-1, keepdims=True)
    return ops.repeat(gray, 3, axis=-1)


def grayscale(images, apply):
    """Convert the images whose ``apply`` flag ``(B,)`` is true to 3-channel grayscale."""
    images = ops.convert_to_tensor(images)
    return ops.where(_per_image(apply), rgb_to_grayscale(images), images)


# --- colour ----------------------------------------------------------------------------------


def adjust_brightness(images, factor):
    """Multiply by ``factor`` ``(B,)`` (SimCLR v2 brightness is multiplicative), clip to [0, 1]."""
    images = ops.convert_to_tensor(images)
    return ops.clip(images * _per_image(factor), 0.0, 1.0)


def adjust_contrast(images, factor):
    """``(x - mean) * factor + mean`` with the per-image, per-channel mean (tf.image semantics)."""
    images = ops.convert_to_tensor(images)
    mean = ops.mean(images, axis=(1, 2), keepdims=True)
    return ops.clip((images - mean) * _per_image(factor) + mean, 0.0, 1.0)


def _wrap(hue):
    """Onto [0, 1): ``floor`` behaves the same on every backend (``mod`` signs differ)."""
    return hue - ops.floor(hue)


def _rgb_to_hsv(images):
    """``(h, s, v)``, each ``(B, H, W)`` in [0, 1], as colorsys / tf.image (hue 0 for grays).

    Written out rather than ``ops.image.rgb_to_hsv``: the same arithmetic on every backend
    (TF would use its own kernel) and a much smaller XLA graph for the 4-stage jitter.
    """
    r, g, b = ops.unstack(images, 3, axis=-1)
    v = ops.max(images, axis=-1)
    chroma = v - ops.min(images, axis=-1)
    s = ops.where(v > 0, chroma / ops.where(v > 0, v, 1.0), 0.0)
    safe = ops.where(chroma > 0, chroma, 1.0)
    h = ops.where(
        v == r,
        (g - b) / safe,
        ops.where(v == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0),
    )
    h = _wrap(ops.where(chroma > 0, h / 6.0, 0.0))
    return h, s, v


def _hsv_to_rgb(h, s, v):
    """Channel n in (5, 3, 1) for (r, g, b): v - v s clip(min(k, 4 - k), 0, 1), k = n + 6h mod 6."""
    k = ops.convert_to_tensor([5.0, 3.0, 1.0], v.dtype) + 6.0 * h[..., None]
    k = k - 6.0 * ops.floor(k / 6.0)
    v, s = v[..., None], s[..., None]
    return ops.clip(v - v * s * ops.clip(ops.minimum(k, 4.0 - k), 0.0, 1.0), 0.0, 1.0)


def adjust_saturation(images, factor):
    """Scale HSV saturation by ``factor`` ``(B,)`` (clipped to [0, 1], as tf.image)."""
    images = ops.convert_to_tensor(images)
    h, s, v = _rgb_to_hsv(images)
    return _hsv_to_rgb(h, ops.clip(s * _per_image(factor, 3), 0.0, 1.0), v)


def adjust_hue(images, delta):
    """Rotate HSV hue by ``delta`` ``(B,)``, a fraction of the hue circle."""
    images = ops.convert_to_tensor(images)
    h, s, v = _rgb_to_hsv(images)
    return _hsv_to_rgb(_wrap(h + _per_image(delta, 3)), s, v)


def color_jitter(images, brightness, contrast, saturation, hue, order, apply):
    """Brightness, contrast, saturation and hue in a per-image order, on the flagged images.

    Args:
        images: ``(B, H, W, 3)`` in [0, 1].
        brightness, contrast, saturation: ``(B,)`` multiplicative factors.
        hue: ``(B,)`` hue shift, a fraction of the hue circle.
        order: ``(B, 4)`` int, a permutation of ``[0, 1, 2, 3]`` per image; ``order[b, k]`` is
            the op applied at stage ``k`` (0 brightness, 1 contrast, 2 saturation, 3 hue).
        apply: ``(B,)`` bool; images not flagged are returned unchanged.

    Every stage computes all four ops and keeps, per image, the one its order names: this is
    what makes a per-image order vectorizable (no data-dependent control flow).
    """
    images = ops.convert_to_tensor(images)
    order = ops.convert_to_tensor(order)

    def stage(k, x):
        op = _per_image(ops.take(order, k, axis=1))
        # Saturation and hue share one HSV round trip: edit S or H per image, convert once.
        h, s, v = _rgb_to_hsv(x)
        op_hsv = op[..., 0]  # (B, 1, 1), like h, s, v
        s = ops.where(op_hsv == SATURATION, ops.clip(s * _per_image(saturation, 3), 0.0, 1.0), s)
        h = ops.where(op_hsv == HUE, _wrap(h + _per_image(hue, 3)), h)
        return ops.where(
            op == BRIGHTNESS,
            adjust_brightness(x, brightness),
            ops.where(op == CONTRAST, adjust_contrast(x, contrast), _hsv_to_rgb(h, s, v)),
        )

    # A loop, not 4 unrolled stages: compilers build the stage once, and XLA cannot fuse the
    # stages into one ever-growing expression (unrolled, that took ~20 s to compile on CPU).
    x = ops.fori_loop(0, 4, stage, images)
    return ops.where(_per_image(apply), x, images)


# --- blur ------------------------------------------------------------------------------------


def gaussian_kernels(sigma, kernel_size):
    """Normalised 1-D Gaussian kernels ``(B, kernel_size)`` for per-image ``sigma`` ``(B,)``."""
    radius = kernel_size // 2
    squares = [[float(x * x) for x in range(-radius, radius + 1)]]
    x_squared = ops.convert_to_tensor(squares, "float32")
    sigma = ops.expand_dims(ops.cast(sigma, "float32"), 1)
    kernel = ops.exp(-x_squared / (2.0 * ops.square(sigma)))
    return kernel / ops.sum(kernel, axis=1, keepdims=True)


def _pad_indices(size, radius, padding):
    """Source index for each padded position: reflect (``dcb|abcd|cba``) or -1 for zeros."""
    if radius >= size and padding == "reflect":
        raise ValueError(f"reflect padding needs kernel radius {radius} < image side {size}")
    positions = list(range(-radius, size + radius))
    if padding == "reflect":
        return [-p if p < 0 else 2 * (size - 1) - p if p >= size else p for p in positions]
    if padding == "zeros":
        return [p if 0 <= p < size else -1 for p in positions]
    raise ValueError(f"padding must be 'reflect' or 'zeros', got {padding!r}")


def _blur_axis(images, kernels, axis, padding):
    size = images.shape[axis]
    k = kernels.shape[1]
    radius = k // 2
    index = _pad_indices(size, radius, padding)
    padded = ops.take(images, ops.convert_to_tensor([max(i, 0) for i in index], "int32"), axis=axis)
    if padding == "zeros":
        keep = [[float(i >= 0)] for i in index]  # zero the padded positions: (P, 1)
        mask = [[keep]] if axis == 2 else [[[row] for row in keep]]  # (1, 1, P, 1) / (1, P, 1, 1)
        padded = padded * ops.convert_to_tensor(mask, padded.dtype)
    out = 0.0
    for j in range(k):  # sum of shifted copies: a per-image kernel without a per-image conv
        window = padded[:, j : j + size] if axis == 1 else padded[:, :, j : j + size]
        out = out + window * _per_image(kernels[:, j])
    return out


def gaussian_blur(images, sigma, kernel_size, padding="reflect"):
    """Separable Gaussian blur with one ``sigma`` per image.

    Args:
        images: ``(B, H, W, C)``.
        sigma: ``(B,)`` standard deviations in pixels.
        kernel_size: int; made odd as in the official code (radius = kernel_size // 2).
        padding: ``"reflect"`` (default: keeps the border brightness) or ``"zeros"`` (the
            official code's ``SAME`` depthwise convolution, which darkens the border).
    """
    images = ops.convert_to_tensor(images)
    kernels = gaussian_kernels(sigma, kernel_size)
    out = _blur_axis(images, kernels, 1, padding)
    out = _blur_axis(out, kernels, 2, padding)
    return ops.clip(out, 0.0, 1.0)


def blur(images, sigma, apply, kernel_size, padding="reflect"):
    """Blur the images whose ``apply`` flag ``(B,)`` is true; the others pass unchanged."""
    images = ops.convert_to_tensor(images)
    return ops.where(_per_image(apply), gaussian_blur(images, sigma, kernel_size, padding), images)


__all__ = [
    "LUMA_WEIGHTS",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_hue",
    "adjust_saturation",
    "blur",
    "color_jitter",
    "crop_and_resize",
    "flip_left_right",
    "gaussian_blur",
    "gaussian_kernels",
    "grayscale",
    "rgb_to_grayscale",
]
