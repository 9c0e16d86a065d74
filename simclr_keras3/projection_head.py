"""Projection head g: representation h → z, the space where the contrastive loss is applied."""

import numbers

import keras
from keras import layers, ops

from simclr_keras3.batch_norm import GlobalBatchNormalization

MODES = ("none", "linear", "nonlinear")

# Official SimCLR initialises every head (and linear-eval) dense kernel with N(0, 0.01²). A
# config, not an instance: each Dense deserializes its own (a shared unseeded Keras initializer
# instance would give every layer the same values).
DENSE_INITIALIZER = {"class_name": "RandomNormal", "config": {"stddev": 0.01}}


def _positive_int(name, value):
    # A plain int keeps the config JSON-serializable (numpy ints are not).
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an int ≥ 1, got {value!r}.")
    return int(value)


@keras.saving.register_keras_serializable(package="simclr_keras3")
class ProjectionHead(layers.Layer):
    """Projection head g of SimCLR: h (B, d) → z (B, ``output_dim``).

    Modes:
        - ``"none"``: z = h.
        - ``"linear"``: Dense(output_dim), followed by BN without centering when
          ``output_batch_norm`` (then the Dense has no bias), else a Dense with bias.
        - ``"nonlinear"`` (default): ``num_layers`` layers. Each hidden layer is
          Dense(hidden_dim, no bias) → BN → ReLU; the last is Dense(output_dim, no bias) → BN
          without centering when ``output_batch_norm``, else Dense(output_dim) with bias.

    ``ProjectionHead.v1()`` is SimCLRv1's Dense → BN → ReLU → Dense; ``ProjectionHead.v2()``
    (the constructor default) is SimCLRv2's 3-layer head with BN in every layer.
    ``layer_outputs`` returns h and the output of every head layer (after the ReLU for hidden
    layers), so fine-tuning can start from head layer j.

    Args:
        num_layers: number of Dense layers in ``"nonlinear"`` mode (≥ 2); ignored otherwise.
        hidden_dim: width of the hidden layers; ``None`` = the feature dim of h.
        output_dim: features of z.
        mode: ``"none"``, ``"linear"`` or ``"nonlinear"``.
        output_batch_norm: BN (without centering, so no beta) on the last layer's output.
        batch_norm_momentum: moving-statistics momentum of every BN.
        batch_norm_epsilon: epsilon of every BN.
        **kwargs: as for ``keras.layers.Layer``.

    Example:
        >>> head = ProjectionHead.v2(output_dim=128)
        >>> h = keras.ops.ones((4, 512))
        >>> tuple(head(h, training=True).shape)
        (4, 128)
        >>> [tuple(t.shape) for t in head.layer_outputs(h)]
        [(4, 512), (4, 512), (4, 512), (4, 128)]

    Reference:
        Chen et al. 2020 (SimCLR, arXiv 2002.05709), §2.1: "We use a MLP with one hidden layer
        to obtain z_i = g(h_i) = W(2)σ(W(1)h_i) where σ is a ReLU non-linearity"; §2.3: "a
        2-layer MLP projection head to project the representation to a 128-dimensional latent
        space". Chen et al. 2020 (SimCLRv2, arXiv 2006.10029), §2: "we use a 3-layer projection
        head and fine-tune from the 1st layer of projection head". Official code
        (google-research/simclr): BN in every layer, the last BN without centering, no Dense
        bias where BN follows, kernels drawn from N(0, 0.01²).
    """

    def __init__(
        self,
        num_layers=3,
        hidden_dim=None,
        output_dim=128,
        mode="nonlinear",
        output_batch_norm=True,
        batch_norm_momentum=0.9,
        batch_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"Unknown projection head mode {mode!r}; valid modes: {MODES}.")
        num_layers = _positive_int("num_layers", num_layers)
        hidden_dim = None if hidden_dim is None else _positive_int("hidden_dim", hidden_dim)
        output_dim = _positive_int("output_dim", output_dim)
        if mode == "nonlinear" and num_layers < 2:
            raise ValueError(
                'mode="nonlinear" needs num_layers ≥ 2 (a hidden layer); '
                'use mode="linear" for a single Dense layer.'
            )
        self.num_layers = num_layers
        self.hidden_dim = hidden_dim
        self.output_dim = output_dim
        self.mode = mode
        self.output_batch_norm = bool(output_batch_norm)
        self.batch_norm_momentum = batch_norm_momentum
        self.batch_norm_epsilon = batch_norm_epsilon

        # === Layers ===
        # batch_norm_layers[j] belongs to dense_layers[j]; the last Dense has none when
        # output_batch_norm is False.
        self.dense_layers = []
        self.batch_norm_layers = []
        num_hidden = num_layers - 1 if mode == "nonlinear" else 0
        for j in range(num_hidden):
            # units=1 is a placeholder when hidden_dim is None: `build` sets it to h's dim.
            self.dense_layers.append(self._dense(hidden_dim or 1, False, f"dense_{j}"))
            self.batch_norm_layers.append(self._batch_norm(True, f"batch_norm_{j}"))
        if mode != "none":
            j = num_hidden
            # The last BN has no beta (center=False) and so the Dense before it has no bias:
            # a bias would be removed by the BN mean subtraction anyway.
            use_bias = not self.output_batch_norm
            self.dense_layers.append(self._dense(output_dim, use_bias, f"dense_{j}"))
            if self.output_batch_norm:
                self.batch_norm_layers.append(self._batch_norm(False, f"batch_norm_{j}"))

    @classmethod
    def v1(cls, **kwargs):
        """SimCLRv1 head: Dense → BN → ReLU → Dense (2 layers, no BN on z)."""
        kwargs.setdefault("num_layers", 2)
        kwargs.setdefault("output_batch_norm", False)
        return cls(**kwargs)

    @classmethod
    def v2(cls, **kwargs):
        """SimCLRv2 head: 3 layers with BN in every layer, the last one without centering."""
        kwargs.setdefault("num_layers", 3)
        kwargs.setdefault("output_batch_norm", True)
        return cls(**kwargs)

    def _dense(self, units, use_bias, name):
        return layers.Dense(
            units,
            use_bias=use_bias,
            kernel_initializer=DENSE_INITIALIZER,
            name=name,
            dtype=self.dtype_policy,  # sub-layers share the head's dtype policy
        )

    def _batch_norm(self, center, name):
        return GlobalBatchNormalization(
            momentum=self.batch_norm_momentum,
            epsilon=self.batch_norm_epsilon,
            center=center,
            name=name,
            dtype=self.dtype_policy,
        )

    @property
    def depth(self):
        """Number of head layers: 0 ("none"), 1 ("linear") or ``num_layers`` ("nonlinear")."""
        return len(self.dense_layers)

    def build(self, input_shape):
        features = input_shape[-1]
        if features is None and self.depth:
            raise ValueError(f"ProjectionHead needs a known feature dim, got shape {input_shape}.")
        for j, dense in enumerate(self.dense_layers):
            if j < self.depth - 1 and self.hidden_dim is None:
                dense.units = features  # hidden_dim=None: as wide as h (official behaviour)
            dense.build((None, features))
            features = dense.units
            if j < len(self.batch_norm_layers):
                self.batch_norm_layers[j].build((None, features))

    def call(self, h, training=None, return_layer_outputs=False):
        """z = g(h); with ``return_layer_outputs`` the list ``[h, out_1, ..., z]``."""
        outputs = [h]
        for j, dense in enumerate(self.dense_layers):
            x = dense(outputs[-1])
            if j < len(self.batch_norm_layers):
                x = self.batch_norm_layers[j](x, training=training)
            if j < self.depth - 1:
                x = ops.relu(x)
            outputs.append(x)
        return outputs if return_layer_outputs else outputs[-1]

    def layer_outputs(self, h, training=None):
        """``[h, out_1, ..., z]``: h and the output of each of the ``depth`` head layers."""
        # Through __call__, so building, dtype casting and training-mode resolution apply.
        return self(h, training=training, return_layer_outputs=True)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_layers=self.num_layers,
            hidden_dim=self.hidden_dim,
            output_dim=self.output_dim,
            mode=self.mode,
            output_batch_norm=self.output_batch_norm,
            batch_norm_momentum=self.batch_norm_momentum,
            batch_norm_epsilon=self.batch_norm_epsilon,
        )
        return config
