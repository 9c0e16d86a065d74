"""LARS: SGD with momentum and a layer-wise trust ratio, as in the SimCLR recipe."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="simclr_keras3")
class LARS(keras.optimizers.Optimizer):
    """Layer-wise Adaptive Rate Scaling (LARS) with momentum, the SimCLR optimizer.

    For each variable ``w`` with gradient ``g``, learning rate ``lr`` and momentum buffer ``v``:

    ```
    g ← g + weight_decay · w                      (unless excluded from weight decay)
    trust = trust_coefficient · ‖w‖ / ‖g‖          (1 if ‖w‖ = 0 or ‖g‖ = 0, or if excluded
                                                   from layer adaptation)
    scaled_lr = lr · trust
    v ← momentum · v + scaled_lr · g
    update = momentum · v + scaled_lr · g  if nesterov  else  v
    w ← w − update
    ```

    Weight decay is L2 regularization added to the gradient *before* the trust ratio, as in the
    official code. Keras' own decoupled ``weight_decay`` step (applied by the base optimizer
    outside ``update_step``) is switched off: ``weight_decay`` here only means the LARS term.

    A variable is excluded from weight decay if its ``path`` (its ``name`` where it has no path)
    contains any substring of ``exclude_from_weight_decay``, or, with ``exclude_vectors=True``, if
    it has at most one dimension. The rank rule catches biases and batch-norm gamma/beta whatever
    their layers are called; the substrings catch the rest (e.g. a classifier head). Variables
    excluded with the Keras method ``optimizer.exclude_from_weight_decay(var_list, var_names)``
    (before the first step) are excluded too. Exclusion from layer adaptation follows the same
    rule with ``exclude_from_layer_adaptation`` in place of ``exclude_from_weight_decay``; when
    that is ``None``, a variable is adapted exactly when it is decayed.

    Args:
        learning_rate: float, or a ``keras.optimizers.schedules.LearningRateSchedule`` (e.g.
            ``WarmupCosineDecay``). SimCLR: ``scale_learning_rate(0.3, batch_size)``.
        momentum: momentum coefficient in [0, 1]. SimCLR: 0.9.
        weight_decay: L2 coefficient added to the gradient. SimCLR paper: 1e-6 (the official
            TF1 code and README use 1e-4).
        trust_coefficient: η in the trust ratio. SimCLR: 0.001.
        nesterov: use a Nesterov momentum update.
        exclude_from_weight_decay: substrings of variable paths that get no weight decay.
        exclude_from_layer_adaptation: substrings of variable paths that get no trust ratio
            (trust 1); ``None`` means "the variables excluded from weight decay".
        exclude_vectors: also exclude every variable of rank 0 or 1 from weight decay and from
            layer adaptation.
        name: name of the optimizer.
        **kwargs: other ``keras.optimizers.Optimizer`` arguments (``clipnorm``, ``use_ema``,
            ``loss_scale_factor``, ``gradient_accumulation_steps``, ...).

    Example:
        >>> from simclr_keras3 import WarmupCosineDecay, scale_learning_rate
        >>> schedule = WarmupCosineDecay(
        ...     peak_learning_rate=scale_learning_rate(0.3, batch_size=4096),
        ...     total_steps=31_200,
        ...     warmup_steps=3_120,
        ... )
        >>> optimizer = LARS(learning_rate=schedule, weight_decay=1e-6)
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        >>> model.compile(optimizer=optimizer, loss="mse")

    Reference:
        You, Gitman & Ginsburg 2017, "Large Batch Training of Convolutional Networks",
        arXiv 1708.03888. Chen et al. 2020 (arXiv 2002.05709), §2.2: "we use the LARS optimizer
        (You et al., 2017) for all batch sizes"; §2.3 "Default setting": "LARS with learning
        rate of 4.8 (= 0.3 × BatchSize/256) and weight decay of 10−6".
    """

    def __init__(
        self,
        learning_rate=0.1,
        momentum=0.9,
        weight_decay=1e-6,
        trust_coefficient=0.001,
        nesterov=False,
        exclude_from_weight_decay=("batch_norm", "bias"),
        exclude_from_layer_adaptation=None,
        exclude_vectors=True,
        name="lars",
        **kwargs,
    ):
        if isinstance(learning_rate, int) and not isinstance(learning_rate, bool):
            learning_rate = float(learning_rate)  # the base class accepts only float
        # weight_decay=None in the base: its decoupled decay must never run (see class docstring).
        super().__init__(learning_rate=learning_rate, weight_decay=None, name=name, **kwargs)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"`momentum` must be in [0, 1], got {momentum}.")
        if weight_decay is None:
            weight_decay = 0.0
        if weight_decay < 0.0:
            raise ValueError(f"`weight_decay` must be non-negative, got {weight_decay}.")
        if not trust_coefficient > 0.0:
            raise ValueError(f"`trust_coefficient` must be positive, got {trust_coefficient}.")
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self.trust_coefficient = float(trust_coefficient)
        self.nesterov = bool(nesterov)
        self.weight_decay_exclusions = _as_patterns(
            exclude_from_weight_decay, "exclude_from_weight_decay"
        )
        self.layer_adaptation_exclusions = (
            None
            if exclude_from_layer_adaptation is None
            else _as_patterns(exclude_from_layer_adaptation, "exclude_from_layer_adaptation")
        )
        self.exclude_vectors = bool(exclude_vectors)

    def _apply_weight_decay(self, variables):
        # The base optimizer applies decoupled decay w ← w − lr·wd·w here whenever
        # self.weight_decay is set; LARS puts its decay into the gradient in update_step instead.
        return

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums = self.add_optimizer_variables(variables, "momentum")
        # Decided once per variable, in Python: the update below stays free of string checks.
        self._use_decay = [not self._is_excluded_from_weight_decay(v) for v in variables]
        self._use_adaptation = [not self._is_excluded_from_layer_adaptation(v) for v in variables]

    def _is_excluded_from_weight_decay(self, variable):
        return (
            self._matches(variable, self.weight_decay_exclusions)
            or not self._use_weight_decay(variable)  # Keras' exclude_from_weight_decay() method
        )

    def _is_excluded_from_layer_adaptation(self, variable):
        if self.layer_adaptation_exclusions is None:
            return self._is_excluded_from_weight_decay(variable)
        return self._matches(variable, self.layer_adaptation_exclusions)

    def _matches(self, variable, patterns):
        if self.exclude_vectors and len(variable.shape) <= 1:
            return True
        path = getattr(variable, "path", None) or variable.name
        return any(pattern in path for pattern in patterns)

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        dtype = variable.dtype
        gradient = ops.cast(gradient, dtype)
        learning_rate = ops.cast(learning_rate, dtype)

        if self._use_decay[index] and self.weight_decay > 0.0:
            gradient = gradient + ops.cast(self.weight_decay, dtype) * variable

        scaled_lr = learning_rate
        if self._use_adaptation[index]:
            w_norm = ops.sqrt(ops.sum(ops.square(variable)))
            g_norm = ops.sqrt(ops.sum(ops.square(gradient)))
            both_positive = ops.logical_and(ops.greater(w_norm, 0.0), ops.greater(g_norm, 0.0))
            # The inner where keeps 0/0 out of the unselected branch (NaN-free on every backend).
            safe_g_norm = ops.where(both_positive, g_norm, ops.ones_like(g_norm))
            trust = ops.where(
                both_positive,
                ops.cast(self.trust_coefficient, dtype) * w_norm / safe_g_norm,
                ops.ones_like(w_norm),
            )
            scaled_lr = learning_rate * trust

        momentum = ops.cast(self.momentum, dtype)
        velocity = self._momentums[index]
        step = scaled_lr * gradient
        self.assign(velocity, momentum * velocity + step)
        if self.nesterov:
            self.assign_sub(variable, momentum * velocity + step)
        else:
            self.assign_sub(variable, velocity)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        # The base class replaces config["learning_rate"] in place; leave the caller's dict alone.
        return super().from_config(dict(config), custom_objects=custom_objects)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "momentum": self.momentum,
                "weight_decay": self.weight_decay,
                "trust_coefficient": self.trust_coefficient,
                "nesterov": self.nesterov,
                "exclude_from_weight_decay": list(self.weight_decay_exclusions),
                "exclude_from_layer_adaptation": (
                    None
                    if self.layer_adaptation_exclusions is None
                    else list(self.layer_adaptation_exclusions)
                ),
                "exclude_vectors": self.exclude_vectors,
            }
        )
        return config


def _as_patterns(patterns, label):
    if patterns is None:
        return ()
    if isinstance(patterns, str):
        raise ValueError(f"`{label}` must be a list of substrings, not the string {patterns!r}.")
    patterns = tuple(patterns)
    if not all(isinstance(p, str) and p for p in patterns):
        raise ValueError(f"`{label}` must hold non-empty strings, got {patterns!r}.")
    return patterns
