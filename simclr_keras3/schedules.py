"""Learning-rate scaling and the warm-up + cosine schedule of the SimCLR recipe."""

import math
import numbers

import keras
from keras import ops

_SCALINGS = ("linear", "sqrt")


def scale_learning_rate(base_learning_rate, batch_size, scaling="linear"):
    """Scale a base learning rate with the batch size, as in SimCLR.

    Args:
        base_learning_rate: non-negative float. SimCLR uses 0.3 with ``"linear"`` and 0.075 with
            ``"sqrt"``.
        batch_size: positive int, the global batch size (pairs of views, not views).
        scaling: ``"linear"``: ``base · batch_size / 256``; ``"sqrt"``: ``base · √batch_size``.

    Returns:
        The scaled learning rate, a Python float.

    Raises:
        ValueError: for an unknown ``scaling``, a non-positive ``batch_size`` or a negative
            ``base_learning_rate``.

    Example:
        >>> scale_learning_rate(0.3, 4096)  # paper, ImageNet
        4.8
        >>> scale_learning_rate(0.075, 4096, scaling="sqrt")
        4.8

    Reference:
        Chen et al. 2020 (arXiv 2002.05709), §2.3 "Default setting": "LARS with learning rate of
        4.8 (= 0.3 × BatchSize/256)". Appendix B.1 compares this linear scaling with square-root
        scaling, 0.075 × √BatchSize, which the official code offers as ``learning_rate_scaling``
        and which helps small batches.
    """
    if scaling not in _SCALINGS:
        raise ValueError(f"`scaling` must be one of {_SCALINGS}, got {scaling!r}.")
    if _as_int(batch_size, "batch_size") < 1:
        raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}.")
    if not base_learning_rate >= 0:
        raise ValueError(f"`base_learning_rate` must be non-negative, got {base_learning_rate!r}.")
    if scaling == "linear":
        return float(base_learning_rate) * int(batch_size) / 256.0
    return float(base_learning_rate) * math.sqrt(int(batch_size))


@keras.saving.register_keras_serializable(package="simclr_keras3")
class WarmupCosineDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to a peak, then cosine decay to 0, as in SimCLR.

    ``lr(step) = peak · step / warmup_steps`` for ``step < warmup_steps``, then
    ``peak · ½ · (1 + cos(π · (step − warmup_steps) / (total_steps − warmup_steps)))`` up to
    ``total_steps``, and 0 from ``total_steps`` on. The step is the optimizer's iteration count
    (0 for the first update), so the first update uses a learning rate of 0 when there is a
    warm-up, as in the official code. With ``warmup_steps=0`` the schedule is a pure cosine decay
    starting at the peak; with ``warmup_steps == total_steps`` it is a pure warm-up, then 0.

    Args:
        peak_learning_rate: non-negative float reached at the end of the warm-up, e.g.
            ``scale_learning_rate(0.3, batch_size)``.
        total_steps: positive int, the step at which the learning rate reaches 0.
        warmup_steps: int in ``[0, total_steps]``. SimCLR warms up for 10 epochs.

    Example:
        >>> steps_per_epoch = 50_000 // 512
        >>> schedule = WarmupCosineDecay(
        ...     peak_learning_rate=scale_learning_rate(1.0, 512),
        ...     total_steps=1000 * steps_per_epoch,
        ...     warmup_steps=10 * steps_per_epoch,
        ... )
        >>> from simclr_keras3 import LARS
        >>> optimizer = LARS(learning_rate=schedule)

    Reference:
        Chen et al. 2020 (arXiv 2002.05709), §2.3 "Default setting": "we use linear warmup for
        the first 10 epochs, and decay the learning rate with the cosine decay schedule without
        restarts (Loshchilov & Hutter, 2016)."
    """

    def __init__(self, peak_learning_rate, total_steps, warmup_steps):
        if not peak_learning_rate >= 0:
            raise ValueError(
                f"`peak_learning_rate` must be non-negative, got {peak_learning_rate!r}."
            )
        total_steps = _as_int(total_steps, "total_steps")
        warmup_steps = _as_int(warmup_steps, "warmup_steps")
        if total_steps < 1:
            raise ValueError(f"`total_steps` must be at least 1, got {total_steps}.")
        if not 0 <= warmup_steps <= total_steps:
            raise ValueError(
                f"`warmup_steps` must be in [0, total_steps={total_steps}], got {warmup_steps}."
            )
        self.peak_learning_rate = float(peak_learning_rate)
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        step = ops.cast(step, "float32")
        peak = self.peak_learning_rate
        decay_steps = self.total_steps - self.warmup_steps
        if decay_steps > 0:
            progress = ops.clip((step - self.warmup_steps) / decay_steps, 0.0, 1.0)
            cosine = 0.5 * peak * (1.0 + ops.cos(math.pi * progress))
        else:  # pure warm-up: 0 from total_steps (= warmup_steps) on
            cosine = ops.zeros_like(step)
        if self.warmup_steps == 0:
            return cosine
        warmup = peak * step / self.warmup_steps
        return ops.where(step < self.warmup_steps, warmup, cosine)

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
        }


def _as_int(value, label):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValueError(f"`{label}` must be an integer, got {value!r}.")
    return int(value)
