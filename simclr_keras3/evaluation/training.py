"""The optimiser, the input pipeline and the training loop shared by linear eval and fine-tuning."""

import math

import keras
import numpy as np


def nesterov_sgd(learning_rate, total_steps, momentum=0.9, nesterov=True, weight_decay=0.0):
    """Momentum SGD with a cosine learning-rate decay to 0 over ``total_steps``.

    Weight decay (Keras' decoupled form, scaled by the learning rate) skips biases and BN
    parameters, as the official SimCLR code does.

    Reference:
        Chen et al. 2020, B.6: "we use the Nesterov momentum optimizer"; the official code decays
        every run with a cosine schedule.
    """
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=float(learning_rate), decay_steps=max(1, int(total_steps))
    )
    optimizer = keras.optimizers.SGD(
        learning_rate=schedule,
        momentum=float(momentum),
        nesterov=bool(nesterov),
        weight_decay=float(weight_decay) if weight_decay else None,
    )
    if weight_decay:
        optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return optimizer


def steps_per_epoch(count, batch_size, drop_remainder=False):
    """Batches per epoch; with ``drop_remainder`` only full batches (at least one)."""
    if drop_remainder:
        return max(1, count // batch_size)
    return max(1, math.ceil(count / batch_size))


def shuffled_batches(x, y, batch_size, seed, drop_remainder=False):
    """Endless (x, y) batches, reshuffled every epoch by a NumPy generator seeded with ``seed``.

    Our own RNG (not Keras' global one) makes a run depend on ``seed`` alone, on every backend.
    ``drop_remainder`` keeps every batch the same size (one shape to compile; no tiny batch for
    BN statistics), as the official training input does; a split smaller than ``batch_size`` is
    one batch of everything.
    """
    rng = np.random.default_rng(seed)
    batch_size = min(batch_size, len(x))
    steps = steps_per_epoch(len(x), batch_size, drop_remainder)
    while True:
        order = rng.permutation(len(x))
        for step in range(steps):
            index = np.sort(order[step * batch_size : (step + 1) * batch_size])
            yield x[index], y[index]


def fit_classifier(
    model, x, y, *, epochs, batch_size, learning_rate, momentum, nesterov, weight_decay, seed,
    verbose,
):
    """Train ``model`` (logits for integer labels ``y``) with cross-entropy and ``nesterov_sgd``.

    ``batch_size`` is capped at ``len(x)``; full batches only (one compiled step), reshuffled
    every epoch with ``seed`` so every example is still visited; the cosine decay spans all
    ``epochs``.

    Returns:
        the batch size used (after capping).
    """
    batch_size = min(int(batch_size), len(x))
    steps = steps_per_epoch(len(x), batch_size, drop_remainder=True)
    model.compile(
        optimizer=nesterov_sgd(learning_rate, steps * int(epochs), momentum, nesterov, weight_decay),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(
        shuffled_batches(x, y, batch_size, seed, drop_remainder=True),
        steps_per_epoch=steps,
        epochs=int(epochs),
        shuffle=False,  # the generator shuffles, with its own seed
        verbose=verbose,
    )
    return batch_size
