"""One dispatch point for the backend adapters.

Every adapter module (``jax``, ``torch``, ``tensorflow``) defines the same names; all are no-ops
(identities, 0, 1) on a single device:

- ``initialize(devices)``: set up ``devices`` local devices (or the multi-host/torchrun/TF_CONFIG
  launch the environment describes) and return the context manager under which the model is
  built, compiled and trained.
- ``replica_count()`` / ``replica_id()``: how many replicas each hold a slice of the global batch
  inside one training step, and which one this is (1 and 0 on JAX, where one jit sees the whole
  global batch).
- ``all_gather(x)``: concatenate ``x`` over replicas along axis 0, carrying gradients back.
- ``all_reduce_mean(x)``: the mean of ``x`` over replicas (batch-norm moments), carrying gradients.
- ``scale_loss(loss)``: the per-replica loss whose gradients the backend's reduction turns into the
  gradient of the global loss.
- ``prepare_model(model)``: hook the model into the backend's gradient reduction where the trainer
  does not do it.
- ``input_shard()``: ``(index, count)``: which slice of every global batch this process feeds.

Core code imports from here and never branches on the backend itself.
"""

import importlib

_MODULES = {
    "jax": "simclr_keras3.backends.jax",
    "torch": "simclr_keras3.backends.torch",
    "tensorflow": "simclr_keras3.backends.tensorflow",
}


def current():
    """Return the adapter module for the running Keras backend."""
    import keras  # here, not at the top: the CLI imports this package before choosing a backend

    name = keras.backend.backend()
    if name not in _MODULES:
        raise NotImplementedError(
            f"simclr-keras3 supports the jax, torch and tensorflow backends, not {name!r}."
        )
    return importlib.import_module(_MODULES[name])


def initialize(devices=1):
    return current().initialize(devices)


def replica_count():
    return current().replica_count()


def replica_id():
    return current().replica_id()


def all_gather(x):
    return current().all_gather(x)


def all_reduce_mean(x):
    return current().all_reduce_mean(x)


def scale_loss(loss):
    return current().scale_loss(loss)


def prepare_model(model):
    return current().prepare_model(model)


def input_shard():
    return current().input_shard()
