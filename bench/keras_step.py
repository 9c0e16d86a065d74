"""One SimCLR training step through simclr-keras3, timed, for the backend in KERAS_BACKEND.

The model and optimizer come from the library exactly as ``simclr run`` builds them
(``build_model`` / ``build_optimizer`` of ``simclr_keras3.pretrain``): per-image augmentation of
two views inside the model's ``call``, ResNet-18 with the CIFAR stem, the v1 projection head,
NT-Xent in ``compute_loss`` and LARS with its warm-up + cosine schedule. Each step is one call of
Keras' own compiled train function (JAX jit, a tf.function, or eager torch, as
``jit_compile="auto"`` picks) and ends synchronised (its logs are read as host values). The first
``--warmup`` calls (tracing / compilation) are not timed.

Data parallelism (``--devices N``, or SIMCLR_BENCH_DEVICES=N), the global batch fixed:

- jax: one process, ``N`` simulated host devices (``XLA_FLAGS``, set by
  ``backends.environment.prepare_environment`` before jax is imported) and
  ``keras.distribution.DataParallel``; ``train_on_batch`` shards the global batch over the mesh.
- tensorflow: ``MirroredStrategy`` over ``N`` logical CPU devices. ``train_on_batch`` would hand
  every replica the WHOLE batch under a strategy, so the TF steps (every device count, so that
  1 and N compare like with like) read from a distributed ``tf.data`` iterator, as ``fit`` does.
- torch: one process per device, launched by ``python -m torch.distributed.run --standalone
  --nproc_per_node N`` (gloo on CPU); each process trains on its slice of the global batch, and
  a step's time is the slowest process's (the collectives make them wait for each other anyway).

``--disable gather|bn_sync`` replaces the adapter's all-gather of z (local negatives only) or the
BN-moment all-reduce (local moments) by identities, as ``tests/distributed_worker.py --disable``
does: the step time without a collective bounds what it costs. On jax the adapter's collectives are
already identities (XLA inserts its own inside the one jit), so there is nothing to switch off.

Run alone (prints one JSON line; with torch, only the first process prints)::

    KERAS_BACKEND=jax python bench/keras_step.py --batch-size 64 --width 0.5 --steps 3 --warmup 1
    KERAS_BACKEND=tensorflow python bench/keras_step.py --devices 2 --batch-size 64 --width 0.25
    KERAS_BACKEND=torch python -m torch.distributed.run --standalone --nproc_per_node 2 \\
        bench/keras_step.py --devices 2 --batch-size 64 --width 0.25

``bench/train_step.py`` runs this once per backend (and device count), each in its own process.
"""

import argparse
import json
import math
import os
import time

import numpy as np


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=256, help="GLOBAL batch (all devices)")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--devices", type=int,
                        default=int(os.environ.get("SIMCLR_BENCH_DEVICES", "1")),
                        help="data-parallel devices (default SIMCLR_BENCH_DEVICES or 1)")
    parser.add_argument("--disable", choices=("gather", "bn_sync"), default=None,
                        help="replace this collective by an identity (to time what it costs)")
    parser.add_argument("--jit-compile", default="auto", choices=("auto", "true", "false"),
                        help="passed to model.compile (auto: JAX jit, TF graph without XLA "
                        "on CPU, torch eager)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--images", help=".npy of (B, H, W, 3) float32 in [0, 1]; else random")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    backend = os.environ.get("KERAS_BACKEND", "jax")
    if args.devices < 1 or args.batch_size % args.devices:
        raise SystemExit(f"--batch-size {args.batch_size} must split over --devices {args.devices}")
    if backend == "torch" and args.devices > 1 and "WORLD_SIZE" not in os.environ:
        raise SystemExit("torch with --devices N needs one process per device: run under "
                         "python -m torch.distributed.run --standalone --nproc_per_node N")

    # Before keras (and jax / tensorflow) is imported: JAX reads XLA_FLAGS once, at start-up.
    from simclr_keras3.backends.environment import prepare_environment

    prepare_environment(backend, args.devices)
    if args.threads and backend == "torch":
        import torch

        torch.set_num_threads(args.threads)

    import keras

    from simclr_keras3 import backends
    from simclr_keras3.pretrain import build_model, build_optimizer
    from simclr_keras3.pretrain_config import PretrainConfig

    # Devices first: TensorFlow fixes its logical devices when its runtime starts.
    scope = backends.initialize(args.devices)
    adapter = backends.current()
    if args.disable == "gather":  # local negatives only
        adapter.all_gather = lambda x: x
    elif args.disable == "bn_sync":  # local batch-norm moments only
        adapter.all_reduce_mean = lambda x: x
    shard, shards = backends.input_shard()  # torch: (rank, processes); else (0, 1)

    if args.images:
        images = np.load(args.images)
    else:
        rng = np.random.default_rng(args.seed)
        images = rng.random((args.batch_size, args.image_size, args.image_size, 3), np.float32)
    global_batch = int(images.shape[0])
    local = global_batch // shards
    my_images = images[shard * local:(shard + 1) * local]  # this process's slice

    keras.utils.set_random_seed(args.seed)  # the same initial weights in every process
    config = PretrainConfig(
        encoder="resnet18",
        width=args.width,
        image_size=args.image_size,
        batch_size=global_batch,
        epochs=10,
        devices=args.devices,
        seed=args.seed,
    ).validate()
    jit = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
    with scope:  # entered once: a tf.distribute scope is not re-entrant
        model = build_model(config)
        # A long schedule so the rate is mid-warm-up, not 0, during the few timed steps.
        model.compile(optimizer=build_optimizer(config, total_steps=1000, steps_per_epoch=100),
                      jit_compile=jit)
        backends.prepare_model(model)  # torch: gradient all-reduce hooks
        step = _step_function(model, my_images, backend)

    times, losses, warmup_times = [], [], []
    for i in range(args.warmup + args.steps):
        start = time.perf_counter()
        loss = step()  # a host float: the step has finished
        elapsed = time.perf_counter() - start
        (warmup_times if i < args.warmup else times).append(elapsed)
        losses.append(loss)

    devices_used = _devices_used(backend, adapter, shards)
    if shards > 1:  # torch: the slowest process's time; the mean of the per-process losses
        times, warmup_times, losses = _across_processes(times, warmup_times, losses)
    if shard != 0:
        return
    print(json.dumps({
        "implementation": f"keras {backend}",
        "batch_size": global_batch, "image_size": args.image_size, "width": args.width,
        "devices": args.devices, "devices_used": devices_used, "disabled": args.disable,
        "jit_compile": bool(model.jit_compile), "keras": keras.__version__,
        "backend_version": _backend_version(backend),
        "communication": communication_sizes(model, global_batch, config.projection_dim),
        "warmup_times": warmup_times, "step_times": times, "losses": losses,
        "loss_is_finite": all(math.isfinite(x) for x in losses),
    }))


def _step_function(model, images, backend):
    """A zero-argument callable running one compiled train step on ``images``; returns the loss."""
    if backend != "tensorflow":
        # JAX's train_on_batch shards the batch over a DataParallel mesh itself; torch gets this
        # process's slice.
        return lambda: float(model.train_on_batch(images, return_dict=True)["loss"])
    import tensorflow as tf

    # Under a tf.distribute strategy train_on_batch gives every replica the whole batch; a
    # distributed dataset splits each global batch over the replicas, as fit() does.
    dataset = (tf.data.Dataset.from_tensor_slices(images)
               .batch(len(images), drop_remainder=True).repeat())
    iterator = iter(model.distribute_strategy.experimental_distribute_dataset(dataset))
    # Optimizer slots now, under the strategy's scope (train_on_batch and fit build them before
    # tracing; creating them inside the traced step fails under MirroredStrategy).
    model.optimizer.build(model.trainable_variables)
    model.make_train_function()

    def step():
        model.reset_metrics()  # as train_on_batch does
        return float(model.train_function(iterator)["loss"])

    return step


def communication_sizes(model, global_batch, projection_dim):
    """What the data-parallel collectives move per step, from the model's own layers.

    - z all-gather: both views' projections, 2·B·D float32 (two gathers of B·D); every replica
      ends up holding all of it. The backward pass moves a tensor of the same size again (torch:
      an all-reduce of the gathered gradient, then each replica keeps its slice).
    - BN moments: each GlobalBatchNormalization layer all-reduces its per-channel mean and mean
      of squares once per step (the encoder sees both views in one call): 2·C floats per layer,
      2 calls; the backward all-reduces their gradients, the same again.
    - gradients: every trainable parameter, all-reduced once per step (torch hooks,
      MirroredStrategy; XLA on jax): for scale, usually the largest of the three.
    """
    from simclr_keras3.batch_norm import GlobalBatchNormalization

    bn_channels = [int(layer.moving_mean.shape[-1]) for layer in model._flatten_layers()
                   if isinstance(layer, GlobalBatchNormalization)]
    parameters = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    return {
        "z_gather_bytes": 2 * global_batch * projection_dim * 4,
        "z_gather_calls_forward": 2,
        "bn_layers": len(bn_channels),
        "bn_channels": sum(bn_channels),
        "bn_allreduce_bytes": 2 * sum(bn_channels) * 4,
        "bn_allreduce_calls_forward": 2 * len(bn_channels),
        "gradient_allreduce_bytes": 4 * parameters,
        "gradient_tensors": len(model.trainable_variables),
        "trainable_parameters": parameters,
    }


def _devices_used(backend, adapter, shards):
    """How many devices really shared the step (a 1-device run under an N label would lie)."""
    import keras

    if backend == "jax":
        distribution = keras.distribution.distribution()
        return 1 if distribution is None else int(np.prod(distribution.device_mesh.shape))
    if backend == "tensorflow":
        return int(adapter._strategy.num_replicas_in_sync)
    return shards


def _across_processes(times, warmup_times, losses):
    import torch
    import torch.distributed as dist

    t = torch.tensor(times + warmup_times, dtype=torch.float64)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    loss = torch.tensor(losses, dtype=torch.float64)
    dist.all_reduce(loss)  # each process reports the loss of its own anchors: average them
    n = len(times)
    result = t[:n].tolist(), t[n:].tolist(), (loss / dist.get_world_size()).tolist()
    dist.destroy_process_group()
    return result


def _backend_version(backend):
    module = {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow"}.get(backend)
    try:
        return __import__(module).__version__
    except Exception:  # noqa: BLE001 - a version string is only informative
        return None


if __name__ == "__main__":
    main()
