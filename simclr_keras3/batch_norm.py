"""Batch normalization whose moments span the global batch."""

import keras
from keras import ops

from simclr_keras3 import backends


@keras.saving.register_keras_serializable(package="simclr_keras3")
class GlobalBatchNormalization(keras.layers.BatchNormalization):
    """Batch normalization with moments over the global batch of every replica.

    On one device (and on JAX, where one jit spans all devices) this is exactly
    ``keras.layers.BatchNormalization``. With several replicas the per-replica mean and mean of
    squares are averaged through the backend adapter (replicas hold equal batch sizes), so every
    replica normalizes with, and updates its moving statistics from, the same global moments.

    Args:
        **kwargs: as for ``keras.layers.BatchNormalization``.

    Example:
        >>> bn = GlobalBatchNormalization(momentum=0.9, epsilon=1e-5)
        >>> y = bn(keras.ops.ones((4, 8)), training=True)

    Reference:
        Chen et al. 2020, §2 "Global BN": "we aggregate BN mean and variance over all devices
        during the training."
    """

    def _moments(self, inputs, mask):
        if mask is not None or backends.replica_count() == 1:
            return super()._moments(inputs, mask)
        mean = ops.mean(inputs, axis=self._reduction_axes)
        mean_of_squares = ops.mean(ops.square(inputs), axis=self._reduction_axes)
        mean = backends.all_reduce_mean(mean)
        mean_of_squares = backends.all_reduce_mean(mean_of_squares)
        variance = ops.maximum(mean_of_squares - ops.square(mean), 0.0)
        return mean, variance
