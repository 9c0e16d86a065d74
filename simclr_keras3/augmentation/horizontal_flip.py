"""Per-image random horizontal flip."""

import keras
from keras import ops

from simclr_keras3.augmentation import image_ops


@keras.saving.register_keras_serializable(package="simclr_keras3")
class RandomHorizontalFlip(keras.layers.Layer):
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
        super().__init__(**kwargs)
        self.probability = float(probability)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True  # no weights to build; also lets a parent drive ``apply`` directly

    def sample_parameters(self, batch_size, image_height=None, image_width=None):
        draw = keras.random.uniform((batch_size,), seed=self.seed_generator)
        return {"flip": draw < self.probability}

    def apply(self, images, parameters):
        images, parameters = image_ops.as_tensors(images, parameters)
        return image_ops.flip_left_right(images, parameters["flip"])

    def call(self, images, training=True):
        if not training:
            return images
        return self.apply(images, self.sample_parameters(ops.shape(images)[0]))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(probability=self.probability, seed=self.seed)
        return config
