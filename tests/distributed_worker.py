"""Train a tiny SimCLR for a few LARS steps on N devices and save what the equivalence tests compare.

Run as a script (one process; under torch.distributed.run for torch):
    KERAS_BACKEND=B python distributed_worker.py --devices N --out FILE.npz [--disable gather|bn_sync]

Saves the first step's loss (the global-batch loss), every weight after step 1 and after step 3
(BN moving statistics included) and the process's rank.
"""

import argparse
import os
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--devices", type=int, default=1)
parser.add_argument("--out", required=True)
parser.add_argument("--disable", choices=["gather", "bn_sync"], default=None)
args = parser.parse_args()

from simclr_keras3.backends.environment import prepare_environment  # noqa: E402

backend = os.environ["KERAS_BACKEND"]
prepare_environment(backend, args.devices)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from simclr_keras3 import backends  # noqa: E402
from simclr_keras3.batches import ShuffledBatches  # noqa: E402
from simclr_keras3.pretrain import build_model, build_optimizer  # noqa: E402
from simclr_keras3.pretrain_config import PretrainConfig  # noqa: E402

GLOBAL_BATCH = 8
STEPS = 3

scope = backends.initialize(args.devices)
adapter = backends.current()
if args.disable == "gather":  # the can-fail switch: local negatives only
    adapter.all_gather = lambda x: x
elif args.disable == "bn_sync":  # local batch-norm moments only
    adapter.all_reduce_mean = lambda x: x

config = PretrainConfig(width=0.125, image_size=16, projection_dim=16, batch_size=GLOBAL_BATCH,
                        devices=args.devices, temperature=0.5, weight_decay=1e-4, seed=0,
                        warmup_epochs=0)
images = np.random.default_rng(0).uniform(size=(GLOBAL_BATCH * STEPS, 16, 16, 3)).astype("float32")
batches = ShuffledBatches(images, GLOBAL_BATCH, seed=0, shard=backends.input_shard())
keras.utils.set_random_seed(0)


def to_numpy(variable):
    # convert_to_tensor first: reads a tf.distribute MirroredVariable's value, too.
    return keras.ops.convert_to_numpy(keras.ops.convert_to_tensor(variable))


class Record(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.saved = {}

    def on_train_batch_end(self, batch, logs=None):
        step = batch + 1  # one epoch of STEPS batches
        if step == 1:
            self.saved["loss"] = float(logs["loss"])
        # Keras reports the running mean over the epoch's steps.
        self.saved[f"mean_loss_to_step{step}"] = float(logs["loss"])
        if step in (1, STEPS):
            for variable in self.model.weights:
                self.saved[f"step{step}/{variable.path}"] = to_numpy(variable)


with scope:
    model = build_model(config)
    model.compile(optimizer=build_optimizer(config, total_steps=STEPS, steps_per_epoch=STEPS))
    backends.prepare_model(model)
    record = Record()
    model.fit(batches, epochs=1, steps_per_epoch=STEPS, callbacks=[record], verbose=0)

# How many devices really shared the step (the equivalence is vacuous if this is 1).
if backend == "jax":
    distribution = keras.distribution.distribution()
    DEVICES_USED = 1 if distribution is None else int(np.prod(distribution.device_mesh.shape))
elif backend == "tensorflow":
    DEVICES_USED = adapter._strategy.num_replicas_in_sync
else:
    DEVICES_USED = backends.input_shard()[1]

saved = record.saved
rank, count = backends.input_shard()
if count > 1:  # torch: each process reports its share of the loss; the global loss is their mean
    import torch
    import torch.distributed as dist

    for key in [k for k in saved if "loss" in k]:
        loss = torch.tensor([saved[key]], dtype=torch.float64)
        dist.all_reduce(loss)
        saved[key] = float(loss[0]) / count
saved["rank"] = rank
saved["devices_used"] = DEVICES_USED
np.savez(args.out if rank == 0 else f"{args.out}.rank{rank}.npz", **saved)
sys.exit(0)
