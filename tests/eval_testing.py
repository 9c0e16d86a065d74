"""Small stand-ins for the evaluation tests: a tiny conv encoder, a tiny head, digits as images."""

import functools
import os
import tempfile

import keras
import numpy as np
from sklearn.datasets import load_digits


@keras.saving.register_keras_serializable(package="eval_tests")
class TinyEncoder(keras.Sequential):
    """A Sequential with the ``output_dim`` property of the project's ResNet (SimCLR needs it)."""

    @property
    def output_dim(self):
        return self.output_shape[-1]


def tiny_encoder(image_size=16, width=16):
    """Two strided conv -> BN -> ReLU blocks, global average pool: (B, S, S, 3) -> h (B, 2 width).

    BN momentum 0.9 (the official SimCLR decay) so a few dozen steps move the moving statistics.
    Initializers are unseeded, so a copy rebuilt from the config gets different random weights.
    """
    layers = [keras.Input((image_size, image_size, 3))]
    for filters in (width, 2 * width):
        layers += [
            keras.layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=False),
            keras.layers.BatchNormalization(momentum=0.9),
            keras.layers.ReLU(),
        ]
    return TinyEncoder(layers + [keras.layers.GlobalAveragePooling2D()])


@keras.saving.register_keras_serializable(package="eval_tests")
class TinyHead(keras.layers.Layer):
    """Dense -> BN -> ReLU -> Dense, with ``layer_outputs`` like the project's ProjectionHead."""

    def __init__(self, hidden_dim=8, output_dim=4, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.output_dim = output_dim
        self.dense_layers = [
            keras.layers.Dense(hidden_dim, use_bias=False), keras.layers.Dense(output_dim)
        ]
        self.batch_norm_layers = [keras.layers.BatchNormalization(momentum=0.9)]

    def layer_outputs(self, h, training=False):
        hidden = self.batch_norm_layers[0](self.dense_layers[0](h), training=training)
        hidden = keras.ops.relu(hidden)
        return [h, hidden, self.dense_layers[1](hidden)]

    def call(self, h, training=False):
        return self.layer_outputs(h, training)[-1]

    def get_config(self):
        return {**super().get_config(), "hidden_dim": self.hidden_dim, "output_dim": self.output_dim}


class TinySimCLR:
    """What the evaluation code reads from a SimCLR model: ``.encoder`` and ``.projection_head``."""

    def __init__(self, image_size=16):
        self.encoder = tiny_encoder(image_size)
        self.projection_head = TinyHead()
        self.projection_head(keras.KerasTensor((1, 32)))


def digits(image_size=16):
    """sklearn's 8x8 digits as (N, S, S, 3) float32 images in [0, 1] and int64 labels."""
    data = load_digits()
    images = (data.images / 16.0).astype("float32")
    factor = image_size // 8
    images = images.repeat(factor, axis=1).repeat(factor, axis=2)[..., None].repeat(3, axis=-1)
    return images, data.target.astype("int64")


def weights_of(layer):
    """Every variable (trainable and BN moving statistics) as NumPy copies."""
    return [np.array(keras.ops.convert_to_numpy(v)) for v in layer.weights]


def save_tiny_checkpoint(path, image_size=16):
    """A real SimCLR checkpoint (tiny conv encoder, v1 head, SimCLRAugment) written to ``path``."""
    from simclr_keras3.augmentation import SimCLRAugment
    from simclr_keras3.checkpoint import save_checkpoint
    from simclr_keras3.model import SimCLR
    from simclr_keras3.projection_head import ProjectionHead

    model = SimCLR(
        tiny_encoder(image_size), ProjectionHead.v1(output_dim=8), SimCLRAugment(image_size),
        temperature=0.5,
    )
    model.build((None, image_size, image_size, 3))  # as pretrain.build_model does
    save_checkpoint(model, str(path))
    return model


@functools.lru_cache(maxsize=None)
def tiny_checkpoint():
    """Path of one tiny checkpoint shared by every test of the session (never modified)."""
    path = os.path.join(tempfile.mkdtemp(prefix="eval-tests-"), "model.keras")
    save_tiny_checkpoint(path)
    return path
