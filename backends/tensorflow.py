"""TensorFlow adapter: ``tf.distribute`` (Mirrored, MultiWorkerMirrored via TF_CONFIG, TPU).

Each replica computes the loss of its slice of the global batch; the loss all-gathers the
projections through the replica context (gradients flow back), batch norm all-reduces its
moments, and the loss is divided by the replica count because the strategy SUMS gradients.
"""

import json
import os

import tensorflow as tf

from simclr_keras3.errors import UserInputError

_strategy = None


def _make_strategy(devices):
    if os.environ.get("TF_CONFIG"):
        return tf.distribute.MultiWorkerMirroredStrategy()
    if os.environ.get("TPU_NAME"):
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=os.environ["TPU_NAME"])
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        if devices > len(gpus):
            raise UserInputError(f"--devices {devices} but TensorFlow sees {len(gpus)} GPU(s): lower --devices")
        return tf.distribute.MirroredStrategy([f"/gpu:{i}" for i in range(devices)])
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:  # simulate devices on a CPU-only machine
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(devices)]
        )
    except RuntimeError:  # the runtime is already up; fine if it already has enough devices
        pass
    logical = tf.config.list_logical_devices("CPU")
    if len(logical) < devices:
        raise UserInputError(
            f"--devices {devices} but TensorFlow has {len(logical)} logical CPU device(s) and is "
            "already initialised: call initialize() before running any TensorFlow op"
        )
    return tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(devices)])


def initialize(devices=1):
    global _strategy
    if devices == 1 and not os.environ.get("TF_CONFIG") and not os.environ.get("TPU_NAME"):
        _strategy = tf.distribute.get_strategy()
    else:
        _strategy = _make_strategy(devices)
    return _strategy.scope()


def _replica_context():
    """The replica context inside ``strategy.run``; None in cross-replica code (e.g. building)."""
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return None
    return ctx


def replica_count():
    ctx = _replica_context()
    return 1 if ctx is None else ctx.num_replicas_in_sync


def replica_id():
    ctx = _replica_context()
    return 0 if ctx is None else ctx.replica_id_in_sync_group


def all_gather(x):
    ctx = _replica_context()
    return x if ctx is None else ctx.all_gather(x, axis=0)


def all_reduce_mean(x):
    ctx = _replica_context()
    return x if ctx is None else ctx.all_reduce(tf.distribute.ReduceOp.MEAN, x)


def scale_loss(loss):
    return loss / replica_count()


def prepare_model(model):
    return model


def input_shard():
    # The strategy splits each global batch over its replicas; with several workers
    # (TF_CONFIG), each worker feeds its share.
    config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    workers = config.get("cluster", {}).get("worker", [])
    if len(workers) > 1:
        return config["task"]["index"], len(workers)
    return 0, 1
