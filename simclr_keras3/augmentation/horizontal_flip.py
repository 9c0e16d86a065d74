"""Per-image random horizontal flip."""

import keras

from simclr_keras3.augmentation import image_ops
from simclr_keras3.augmentation.per_image_layer import PerImageLayer


@keras.saving.register_keras_serializable(package="simclr_keras3")
class RandomHorizontalFlip(PerImageLayer):
    """Mirror each image left-right with probability ``probability``, independently per image.

    Parameters (``sample_parameters``): ``{"flip": (B,) bool}``.

    Args:
        probability: chance that an image is flipped.
        seed: int or None, seeds this layer's ``keras.random.SeedGenerator``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``).

    Example:
        >>> flip = RandomHorizontalFlip(seed=0)
        >>> flipped = flip(keras.random.uniform((8, 32, 32, 3)))

    Reference:
        Chen et al. 2020, Appendix A: "the random crop (with resize) is always followed by a
        random horizontal/left-to-right flip with 50% probability".
    """

    def __init__(self, probability=0.5, seed=None, **kwargs):
        super().__init__(probability, seed, **kwargs)

    def sample_parameters(self, batch_size, image_height=None, image_width=None):
        return {"flip": self.sample_flags(batch_size)}

    def apply(self, images, parameters):
        images, parameters = image_ops.as_tensors(images, parameters)
        return image_ops.flip_left_right(images, parameters["flip"])
