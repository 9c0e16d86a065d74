"""Helpers shared by the augmentation tests: run a function or a layer compiled per backend."""

import keras


def compiled(fn):
    """jit on JAX, XLA on TensorFlow, eager on torch: the ops must work under each."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(fn)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    return fn


class Train(keras.Model):
    """Runs ``layer(images, training=True)`` as a compiled predict step (jit on JAX).

    ``predict`` alone would pass ``training=False``, which skips the augmentation.
    """

    def __init__(self, layer):
        super().__init__()
        self.layer = layer
        self.built = True  # no weights: skips predict_on_batch's eager build call

    def call(self, images):
        return self.layer(images, training=True)


def compiled_model(layer):
    """``Train(layer)`` compiled: jit on JAX, a graph on TF, eager on torch."""
    model = Train(layer)
    model.compile(jit_compile=keras.backend.backend() == "jax")
    return model
