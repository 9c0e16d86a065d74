"""One SimCLR training step through simclr-keras3, timed, for the backend in KERAS_BACKEND.

The model and optimizer come from the library exactly as ``simclr run`` builds them
(``build_model`` / ``build_optimizer`` of ``simclr_keras3.pretrain``): per-image augmentation of
two views inside the model's ``call``, ResNet-18 with the CIFAR stem, the v1 projection head,
NT-Xent in ``compute_loss`` and LARS with its warm-up + cosine schedule. Each step is one
``model.train_on_batch(images)``: Keras' own compiled train function (JAX jit, a tf.function,
or eager torch, as ``jit_compile="auto"`` picks), and the returned logs are host values, so each
call ends synchronised. The first ``--warmup`` calls (tracing / compilation) are not timed.

Run alone (prints one JSON line)::

    KERAS_BACKEND=jax python bench/keras_step.py --batch-size 64 --width 0.5 --steps 3 --warmup 1

``bench/train_step.py`` runs this once per backend, each in its own process.
"""

import argparse
import json
import math
import os
import time

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--jit-compile", default="auto", choices=("auto", "true", "false"),
                        help="passed to model.compile (auto: JAX jit, TF graph without XLA "
                        "on CPU, torch eager)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--images", help=".npy of (B, H, W, 3) float32 in [0, 1]; else random")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    devices = int(os.environ.get("SIMCLR_BENCH_DEVICES", "1"))
    if devices != 1:
        # Reserved for a data-parallel variant (keras.distribution on JAX, MirroredStrategy on
        # TF, one process per device on torch); timing 1 device under an N-device label would lie.
        raise SystemExit(f"SIMCLR_BENCH_DEVICES={devices}: only 1 device is benchmarked so far")

    if args.threads and os.environ.get("KERAS_BACKEND") == "torch":
        import torch

        torch.set_num_threads(args.threads)

    import keras

    from simclr_keras3.pretrain import build_model, build_optimizer
    from simclr_keras3.pretrain_config import PretrainConfig

    if args.images:
        images = np.load(args.images)
    else:
        rng = np.random.default_rng(args.seed)
        images = rng.random((args.batch_size, args.image_size, args.image_size, 3), np.float32)

    keras.utils.set_random_seed(args.seed)
    config = PretrainConfig(
        encoder="resnet18",
        width=args.width,
        image_size=args.image_size,
        batch_size=int(images.shape[0]),
        epochs=10,
        seed=args.seed,
    ).validate()
    model = build_model(config)
    # A long schedule so the rate is mid-warm-up, not 0, during the few timed steps.
    jit = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
    model.compile(optimizer=build_optimizer(config, total_steps=1000, steps_per_epoch=100),
                  jit_compile=jit)

    times, losses, warmup_times = [], [], []
    for i in range(args.warmup + args.steps):
        start = time.perf_counter()
        logs = model.train_on_batch(images, return_dict=True)
        elapsed = time.perf_counter() - start
        (warmup_times if i < args.warmup else times).append(elapsed)
        losses.append(float(logs["loss"]))

    backend = keras.backend.backend()
    print(json.dumps({
        "implementation": f"keras {backend}",
        "batch_size": int(images.shape[0]), "image_size": args.image_size, "width": args.width,
        "jit_compile": bool(model.jit_compile), "keras": keras.__version__,
        "backend_version": _backend_version(backend),
        "warmup_times": warmup_times, "step_times": times, "losses": losses,
        "loss_is_finite": all(math.isfinite(x) for x in losses),
    }))


def _backend_version(backend):
    module = {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow"}.get(backend)
    try:
        return __import__(module).__version__
    except Exception:  # noqa: BLE001 - a version string is only informative
        return None


if __name__ == "__main__":
    main()
