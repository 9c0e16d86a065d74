"""Base of the layers that transform each image with a probability, drawn per image."""

import keras
from keras import ops


class PerImageLayer(keras.layers.Layer):
    """Seeded, weightless layer: ``sample_parameters`` then ``apply`` in training, identity else.

    Subclasses define ``sample_parameters(batch_size, image_height=None, image_width=None)`` and
    ``apply(images, parameters)``, and list in ``config_keys`` the attributes ``get_config``
    writes, in their order. Output shape = input shape.

    Args:
        probability: chance that an image is transformed.
        seed: int or None, seeds this layer's ``keras.random.SeedGenerator``.
        **kwargs: base ``keras.layers.Layer`` arguments (``name``, ``dtype``).
    """

    config_keys = ("probability", "seed")

    def __init__(self, probability, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.probability = float(probability)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True  # no weights to build; also lets a parent drive ``apply`` directly

    def sample_flags(self, batch_size):
        """(B,) bool, True with probability ``probability``: one uniform draw per image."""
        return keras.random.uniform((batch_size,), seed=self.seed_generator) < self.probability

    def call(self, images, training=True):
        if not training:
            return images
        return self.apply(images, self.sample_parameters(ops.shape(images)[0]))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({key: getattr(self, key) for key in self.config_keys})
        return config
