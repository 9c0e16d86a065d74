"""Per-image random conversion to grayscale."""

import keras
from keras import ops

from simclr_keras3.augmentation import image_ops


@keras.saving.register_keras_serializable(package="simclr_keras3")
class RandomGrayscale(keras.layers.Layer):
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
        super().__init__(**kwargs)
        self.probability = float(probability)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True  # no weights to build; also lets a parent drive ``apply`` directly

    def sample_parameters(self, batch_size, image_height=None, image_width=None):
        draw = keras.random.uniform((batch_size,), seed=self.seed_generator)
        return {"apply": draw < self.probability}

    def apply(self, images, parameters):
        images, parameters = image_ops.as_tensors(images, parameters)
        return image_ops.grayscale(images, parameters["apply"])

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
