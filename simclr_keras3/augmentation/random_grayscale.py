"""Per-image random conversion to grayscale."""

import keras

from simclr_keras3.augmentation import image_ops
from simclr_keras3.augmentation.per_image_layer import PerImageLayer


@keras.saving.register_keras_serializable(package="simclr_keras3")
class RandomGrayscale(PerImageLayer):
    """Turn each RGB image to grayscale with probability ``probability``, independently.

    Gray = 0.2989 R + 0.5870 G + 0.1140 B (``tf.image.rgb_to_grayscale``), copied to 3 channels
    so the encoder input keeps its shape.

    Parameters (``sample_parameters``): ``{"apply": (B,) bool}``.

    Args:
        probability: chance that an image is converted.
        seed: int or None, seeds this layer's ``keras.random.SeedGenerator``.
        **kwargs: base ``keras.layers.Layer`` arguments.

    Example:
        >>> gray = RandomGrayscale(seed=0)
        >>> out = gray(keras.random.uniform((8, 32, 32, 3)))

    Reference:
        Chen et al. 2020, Appendix A: "Color distortion is composed by color jittering and color
        dropping"; its pseudo-code applies ``color_drop`` (grayscale, tiled to 3 channels) with
        p = 0.2 after the jitter.
    """

    def __init__(self, probability=0.2, seed=None, **kwargs):
        super().__init__(probability, seed, **kwargs)

    def sample_parameters(self, batch_size, image_height=None, image_width=None):
        return {"apply": self.sample_flags(batch_size)}

    def apply(self, images, parameters):
        images, parameters = image_ops.as_tensors(images, parameters)
        return image_ops.grayscale(images, parameters["apply"])
