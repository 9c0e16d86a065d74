"""Per-image random Gaussian blur."""

import keras

from simclr_keras3.augmentation import image_ops
from simclr_keras3.augmentation.per_image_layer import PerImageLayer


@keras.saving.register_keras_serializable(package="simclr_keras3")
class RandomGaussianBlur(PerImageLayer):
    """Blur each image with probability ``probability`` and its own sigma.

    Sigma is uniform in ``sigma_range`` (pixels), one per image (Keras' built-in blur draws one
    per batch). The kernel is separable; its size defaults to 10 % of the image height, made odd
    as in the authors' code (radius = height // 10 // 2, size = 2 * radius + 1; 23 at 224 px,
    3 at 32 px). An explicit ``kernel_size`` is made odd the same way.

    Padding: ``"reflect"`` (default) mirrors the image at the border so the border keeps its
    brightness; ``"zeros"`` reproduces the official ``SAME`` convolution, which darkens it.

    Parameters (``sample_parameters``): ``{"apply": (B,) bool, "sigma": (B,) float}``.

    Args:
        probability: chance that an image is blurred.
        sigma_range: ``(min, max)`` of the uniform sigma, in pixels.
        kernel_size: int or None (10 % of the image height).
        padding: ``"reflect"`` or ``"zeros"``.
        seed: int or None, seeds this layer's ``keras.random.SeedGenerator``.
        **kwargs: base ``keras.layers.Layer`` arguments.

    Example:
        >>> blur = RandomGaussianBlur(seed=0)
        >>> out = blur(keras.random.uniform((8, 64, 64, 3)))

    Reference:
        Chen et al. 2020, Appendix A: "We blur the image 50% of the time using a Gaussian kernel.
        We randomly sample σ ∈ [0.1, 2.0], and the kernel size is set to be 10% of the image
        height/width."
    """

    config_keys = ("probability", "sigma_range", "kernel_size", "padding", "seed")

    def __init__(
        self,
        probability=0.5,
        sigma_range=(0.1, 2.0),
        kernel_size=None,
        padding="reflect",
        seed=None,
        **kwargs,
    ):
        super().__init__(probability, seed, **kwargs)
        if padding not in ("reflect", "zeros"):
            raise ValueError(f"padding must be 'reflect' or 'zeros', got {padding!r}")
        self.sigma_range = tuple(float(s) for s in sigma_range)
        self.kernel_size = None if kernel_size is None else int(kernel_size)
        self.padding = padding

    def kernel_size_for(self, image_height):
        """Odd kernel size used for images of this height."""
        size = image_height // 10 if self.kernel_size is None else self.kernel_size
        return 2 * (size // 2) + 1

    def sample_parameters(self, batch_size, image_height=None, image_width=None):
        u = keras.random.uniform((batch_size, 2), seed=self.seed_generator)  # one draw per call
        low, high = self.sigma_range
        return {"apply": u[:, 0] < self.probability, "sigma": low + (high - low) * u[:, 1]}

    def apply(self, images, parameters):
        images, parameters = image_ops.as_tensors(images, parameters)
        kernel_size = self.kernel_size_for(images.shape[1])
        if kernel_size == 1:  # a 1-tap Gaussian is the identity (e.g. images under 20 px)
            return images
        return image_ops.blur(
            images, parameters["sigma"], parameters["apply"], kernel_size, self.padding
        )
