"""Per-image random resized crop (Inception-style), built on gathers."""

import keras
from keras import ops

from simclr_keras3.augmentation import image_ops


@keras.saving.register_keras_serializable(package="simclr_keras3")
class RandomResizedCrop(keras.layers.Layer):
    """Crop a random box from each image and resize it to ``size x size``.

    Per image, ``max_attempts`` candidates are drawn at once: area fraction uniform in
    ``area_range`` and aspect ratio (width / height) uniform in ``aspect_ratio_range``, rounded
    to whole pixels. The first candidate that fits inside the image is used (else the whole
    image), at a uniform random offset. The crop is resampled by gathers (no affine transform,
    which fails under TF XLA), so it runs under JAX jit, TF XLA and torch alike.

    ``interpolation="bilinear"`` by default; the authors' code resizes bicubically, which
    ``"bicubic"`` reproduces (Keys a = -0.5 with TF's border handling). Neither antialiases, like
    the official ``tf.image.resize``. With ``training=False`` the whole image is resized.

    Parameters (``sample_parameters``): ``{"boxes": (B, 4) float}``, rows
    ``(y_min, x_min, height, width)`` as fractions of the input image.

    Args:
        size: int, side of the square output.
        area_range: ``(min, max)`` crop area as a fraction of the image area.
        aspect_ratio_range: ``(min, max)`` crop width / height.
        max_attempts: candidates per image before falling back to the whole image.
        interpolation: ``"bilinear"`` or ``"bicubic"``.
        seed: int or None, seeds this layer's ``keras.random.SeedGenerator``.
        **kwargs: base ``keras.layers.Layer`` arguments.

    Example:
        >>> crop = RandomResizedCrop(32, seed=0)
        >>> out = crop(keras.random.uniform((8, 48, 48, 3)))  # (8, 32, 32, 3)

    Reference:
        Chen et al. 2020, Appendix A: "The crop of random size (uniform from 0.08 to 1.0 in
        area) of the original size and a random aspect ratio (default: of 3/4 to 4/3) of the
        original aspect ratio is made. This crop is finally resized to the original size."
    """

    def __init__(
        self,
        size,
        area_range=(0.08, 1.0),
        aspect_ratio_range=(3 / 4, 4 / 3),
        max_attempts=100,
        interpolation="bilinear",
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if interpolation not in ("bilinear", "bicubic"):
            raise ValueError(
                f"interpolation must be 'bilinear' or 'bicubic', got {interpolation!r}"
            )
        self.size = int(size)
        self.area_range = tuple(float(a) for a in area_range)
        self.aspect_ratio_range = tuple(float(r) for r in aspect_ratio_range)
        self.max_attempts = int(max_attempts)
        self.interpolation = interpolation
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True  # no weights to build; also lets a parent drive ``apply`` directly

    def sample_parameters(self, batch_size, image_height, image_width):
        height, width = float(image_height), float(image_width)
        attempts = self.max_attempts
        # One draw per call: `attempts` areas, `attempts` aspect ratios, then the 2 offsets.
        u = keras.random.uniform((batch_size, 2 * attempts + 2), seed=self.seed_generator)
        (area_low, area_high), (ratio_low, ratio_high) = self.area_range, self.aspect_ratio_range
        area = (area_low + (area_high - area_low) * u[:, :attempts]) * (height * width)
        aspect = ratio_low + (ratio_high - ratio_low) * u[:, attempts : 2 * attempts]
        crop_h = ops.round(ops.sqrt(area / aspect))  # whole pixels, as the official crop
        crop_w = ops.round(ops.sqrt(area * aspect))
        fits = (crop_h >= 1) & (crop_h <= height) & (crop_w >= 1) & (crop_w <= width)
        # First fitting attempt: min over attempt indices (argmax tie-breaking is not portable).
        attempt = ops.convert_to_tensor([list(range(attempts))], "int32")
        first = ops.min(ops.where(fits, attempt, attempts), axis=1)
        found = first < attempts
        pick = ops.expand_dims(ops.minimum(first, attempts - 1), 1)
        crop_h = ops.where(found, ops.take_along_axis(crop_h, pick, axis=1)[:, 0], height)
        crop_w = ops.where(found, ops.take_along_axis(crop_w, pick, axis=1)[:, 0], width)
        y = ops.minimum(ops.floor(u[:, -2] * (height - crop_h + 1)), height - crop_h)
        x = ops.minimum(ops.floor(u[:, -1] * (width - crop_w + 1)), width - crop_w)
        boxes = ops.stack([y / height, x / width, crop_h / height, crop_w / width], axis=1)
        return {"boxes": boxes}

    def full_image_parameters(self, batch_size):
        """Parameters that resize the whole image (what ``training=False`` uses)."""
        whole = ops.convert_to_tensor([[0.0, 0.0, 1.0, 1.0]], "float32")
        return {"boxes": ops.broadcast_to(whole, (batch_size, 4))}

    def apply(self, images, parameters):
        images, parameters = image_ops.as_tensors(images, parameters)
        return image_ops.crop_and_resize(
            images, parameters["boxes"], self.size, self.interpolation
        )

    def call(self, images, training=True):
        batch_size = ops.shape(images)[0]
        if training:
            parameters = self.sample_parameters(batch_size, images.shape[1], images.shape[2])
        else:
            parameters = self.full_image_parameters(batch_size)
        return self.apply(images, parameters)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, input_shape[3])

    def get_config(self):
        config = super().get_config()
        config.update(
            size=self.size,
            area_range=self.area_range,
            aspect_ratio_range=self.aspect_ratio_range,
            max_attempts=self.max_attempts,
            interpolation=self.interpolation,
            seed=self.seed,
        )
        return config
