"""One dispatch point for the backend adapters.

Every adapter module (``jax``, ``torch``, ``tensorflow``) defines the same names:

- ``replica_count()``: how many replicas split the global batch that one loss sees (1 on one device, and
  on JAX, where one jit spans all devices).
- ``replica_id()``: this replica's index in ``[0, replica_count())``.
- ``all_gather(x)``: concatenate ``x`` over replicas along axis 0, carrying gradients back to each replica.
- ``all_reduce_mean(x)``: the mean of ``x`` over replicas (batch-norm moments), carrying gradients.
- ``initialize(devices)``: set up ``devices`` local devices for data parallelism (no-op for 1).

Core code imports from here and never branches on the backend itself.
"""

import importlib

import keras

_MODULES = {
    "jax": "simclr_keras3.backends.jax",
    "torch": "simclr_keras3.backends.torch",
    "tensorflow": "simclr_keras3.backends.tensorflow",
}


def current():
    """Return the adapter module for the running Keras backend."""
    name = keras.backend.backend()
    if name not in _MODULES:
        raise NotImplementedError(
            f"simclr-keras3 supports the jax, torch and tensorflow backends, not {name!r}."
        )
    return importlib.import_module(_MODULES[name])


def replica_count():
    return current().replica_count()


def replica_id():
    return current().replica_id()


def all_gather(x):
    return current().all_gather(x)


def all_reduce_mean(x):
    return current().all_reduce_mean(x)


def initialize(devices=1):
    return current().initialize(devices)
