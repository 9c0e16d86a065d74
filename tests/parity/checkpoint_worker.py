"""One backend's half of the portable-checkpoint test (run with KERAS_BACKEND set).

    KERAS_BACKEND=B python checkpoint_worker.py save DIR
        Train a tiny SimCLR model for 3 steps, save DIR/B.keras, and record in DIR/B.source.npz
        what any backend must reproduce from that file: the embeddings h and z, every variable,
        the optimizer state, and the state after one more step (a train step on a fixed batch,
        and, on a fresh copy of the saved state, a LARS step on fixed gradients). Also writes
        DIR/B.embed.npy: `simclr embed`'s function on DIR/images.npz, in this backend.

    KERAS_BACKEND=B python checkpoint_worker.py load DIR S [S ...]
        Load DIR/S.keras for each source backend S and record the same quantities in
        DIR/S.on.B.npz.

The model is the production one (``build_model``, ``build_optimizer``), except that its
augmentation is made deterministic (whole-image crop, every random stage at probability 0): the
random streams differ by backend (different PRNGs behind ``keras.random``), so a train step on
two backends only sees the same views, and can only be compared, if nothing is drawn.

Run with the working directory outside the repository, so the installed package is imported.
"""

import os
import sys

import keras
import numpy as np

# Registers every class a SimCLR checkpoint names. `load_checkpoint` alone does not (it imports
# only simclr_keras3.model), so a fresh process cannot load any checkpoint: the `simclr embed`
# check of test_portable_checkpoints.py exposes that. Imported here so that the rest of the
# portability checks still run.
import simclr_keras3.lars  # noqa: F401
import simclr_keras3.projection_head  # noqa: F401
import simclr_keras3.resnet  # noqa: F401
import simclr_keras3.schedules  # noqa: F401
from simclr_keras3.augmentation import SimCLRAugment
from simclr_keras3.checkpoint import load_checkpoint, save_checkpoint
from simclr_keras3.embed import embed_checkpoint
from simclr_keras3.evaluation.features import embed_model_outputs
from simclr_keras3.model import SimCLR
from simclr_keras3.pretrain import build_model, build_optimizer
from simclr_keras3.pretrain_config import PretrainConfig

BACKEND = keras.backend.backend()
SIZE, BATCH, TRAIN_STEPS, TOTAL_STEPS = 16, 8, 3, 10
# 3-layer head (BN moving statistics in the head too); the learning rate is scaled up from the
# recipe's (1.0 x 8/256) so that one step moves the weights by ~1e-3, not ~1e-5: a step that
# hardly moves them would pass any comparison of weights.
CONFIG = PretrainConfig(width=0.125, image_size=SIZE, projection_dim=8, projection_layers=3,
                        batch_size=BATCH, epochs=TOTAL_STEPS, learning_rate=64.0,
                        warmup_epochs=2, weight_decay=1e-4, seed=0)


def data():
    """Training batch, the images to embed, and fixed per-variable gradients (NumPy, seeded)."""
    rng = np.random.default_rng(0)
    train = rng.uniform(size=(BATCH, SIZE, SIZE, 3)).astype("float32")
    probe = rng.uniform(size=(6, SIZE, SIZE, 3)).astype("float32")
    return train, probe


def fixed_gradients(model):
    rng = np.random.default_rng(1)
    return [rng.normal(size=tuple(v.shape)).astype("float32") for v in model.trainable_variables]


def new_model():
    base = build_model(CONFIG)  # encoder, head, temperature, convention as `simclr run` builds them
    deterministic = SimCLRAugment(
        SIZE, area_range=(1.0, 1.0), aspect_ratio_range=(1.0, 1.0), flip_probability=0.0,
        jitter_probability=0.0, grayscale_probability=0.0, blur_probability=0.0,
        seed=CONFIG.seed, name="augment",
    )
    model = SimCLR(base.encoder, base.projection_head, deterministic, name="simclr",
                   temperature=CONFIG.temperature, loss_convention=CONFIG.loss_convention)
    model.build((None, SIZE, SIZE, 3))
    model.compile(optimizer=build_optimizer(CONFIG, total_steps=TOTAL_STEPS, steps_per_epoch=1))
    return model


def state(model, prefix):
    """Every model and optimizer variable, in order (the order the .keras file stores them in),
    with its path. By order, not by path: the paths of a loaded model differ (see the test)."""
    out = {}
    for kind, variables in (("model", model.variables), ("optimizer", model.optimizer.variables)):
        out[f"{prefix}{kind}_paths"] = np.array([v.path for v in variables])
        for i, v in enumerate(variables):
            out[f"{prefix}{kind}/{i:04d}"] = keras.ops.convert_to_numpy(v)
    return out


def record(model, reload, train, probe):
    """Embeddings and state of ``model`` (as saved), then after one more step of each kind.

    ``reload()`` returns a fresh copy of the saved state (the fixed-gradient step needs one).
    """
    # Through the compiled inference path `simclr embed` uses (BN on moving statistics).
    out = {layer: embed_model_outputs(model, probe, layer, batch_size=len(probe), progress=False)
           for layer in ("h", "z")}
    out.update(state(model, "saved/"))
    trainable = {id(v) for v in model.trainable_variables}
    out["trainable"] = np.array([id(v) in trainable for v in model.variables])
    # A LARS step on fixed gradients: the optimizer math and its restored state alone.
    copy = reload()
    copy.optimizer.apply_gradients(zip(fixed_gradients(copy), copy.trainable_variables))
    out.update(state(copy, "fixed_gradient_step/"))
    # A full train step (forward, NT-Xent, backward, LARS) on a fixed batch, views deterministic.
    # fit, as training resumes; and, after the fit of `save`, the same compiled step.
    model.fit(train, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    out.update(state(model, "train_step/"))
    return out


def save(directory):
    keras.utils.set_random_seed(0)
    train, probe = data()
    model = new_model()
    model.fit(train, batch_size=BATCH, epochs=TRAIN_STEPS, shuffle=False, verbose=0)
    path = os.path.join(directory, f"{BACKEND}.keras")
    save_checkpoint(model, path, {"backend": BACKEND, "steps": TRAIN_STEPS})
    # What `simclr embed` computes on this backend, for the cross-backend CLI check.
    embed_checkpoint(path, os.path.join(directory, "images.npz"),
                     os.path.join(directory, f"{BACKEND}.embed.npy"), layer="h", progress=False)
    out = record(model, lambda: load_checkpoint(path), train, probe)
    out["jit_compile"] = np.array(str(model.jit_compile))
    np.savez(os.path.join(directory, f"{BACKEND}.source.npz"), **out)


def load(directory, sources):
    train, probe = data()
    for source in sources:
        path = os.path.join(directory, f"{source}.keras")
        model = load_checkpoint(path)
        jit_compile = model.jit_compile  # as the checkpoint's compile config left it here
        if BACKEND == "torch" and jit_compile:
            # True (resolved from "auto" on JAX) means torch.compile here: minutes per step on
            # CPU. Reset to what compile() gives on torch, so the other checks run; the test
            # asserts on `jit_compile` separately.
            model.jit_compile = False
        out = record(model, lambda: load_checkpoint(path), train, probe)
        out["jit_compile"] = np.array(str(jit_compile))
        np.savez(os.path.join(directory, f"{source}.on.{BACKEND}.npz"), **out)


if __name__ == "__main__":
    command, directory, *sources = sys.argv[1:]
    if command == "save":
        save(directory)
    elif command == "load":
        load(directory, sources)
    else:
        sys.exit(__doc__)
