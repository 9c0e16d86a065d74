"""JAX adapter: ``keras.distribution.DataParallel`` over a device mesh, multi-host via
``jax.distributed``.

One jit-compiled step sees the whole global batch (sharded over the mesh), so the loss already
sees every negative and batch norm already computes global moments: the collectives here are
identities, and the equivalence tests prove that N devices give the single-device numbers.
"""

import contextlib
import os

from simclr_keras3.errors import UserInputError


def _maybe_initialize_multi_host():
    """Join a multi-host run when the environment describes one (GPU cluster or TPU pod)."""
    import jax

    address = os.environ.get("JAX_COORDINATOR_ADDRESS")
    if address:
        missing = [k for k in ("JAX_NUM_PROCESSES", "JAX_PROCESS_ID") if k not in os.environ]
        if missing:
            raise UserInputError(
                f"JAX_COORDINATOR_ADDRESS is set but {' and '.join(missing)} is not: set all three "
                "on every host (see the README's multi-host recipe)"
            )
        jax.distributed.initialize(
            coordinator_address=address,
            num_processes=int(os.environ["JAX_NUM_PROCESSES"]),
            process_id=int(os.environ["JAX_PROCESS_ID"]),
        )
    elif os.environ.get("TPU_WORKER_HOSTNAMES") or os.environ.get("CLOUD_TPU_TASK_ID"):
        jax.distributed.initialize()  # TPU pods describe themselves


def initialize(devices=1):
    import jax
    import keras

    _maybe_initialize_multi_host()
    if jax.process_count() > 1:
        available = jax.devices()  # every host's devices form one global mesh
    else:
        available = jax.local_devices()
        if devices > len(available):
            raise UserInputError(
                f"--devices {devices} but JAX sees {len(available)} {available[0].platform} "
                f"device(s): lower --devices (on a CPU machine the CLI simulates them; from Python "
                f"set XLA_FLAGS=--xla_force_host_platform_device_count={devices} before importing jax)"
            )
        available = available[:devices]
    if len(available) > 1:
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=available))
    return contextlib.nullcontext()


def replica_count():
    return 1


def replica_id():
    return 0


def all_gather(x):
    return x


def all_reduce_mean(x):
    return x


def scale_loss(loss):
    return loss


def prepare_model(model):
    return model


def input_shard():
    import jax

    return jax.process_index(), jax.process_count()
