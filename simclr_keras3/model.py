"""The SimCLR model: two augmented views → encoder f → projection head g → NT-Xent."""

import keras
from keras import ops

from simclr_keras3 import backends
from simclr_keras3.nt_xent import NTXentLoss


@keras.saving.register_keras_serializable(package="simclr_keras3")
class SimCLR(keras.Model):
    """SimCLR pretraining model, trained with plain ``model.fit`` on every backend.

    ``call`` augments each image twice (in the graph, so augmentation runs on the accelerator and
    under jit), encodes both views in ONE encoder call (so batch norm sees all 2N views, as in the
    official code) and projects them; it returns the projections of view a stacked on those of view
    b, shape (2N, D). ``compute_loss`` splits them and applies NT-Xent; it also updates the
    ``contrastive_accuracy`` metric. Labels passed to ``fit`` are ignored. With several replicas
    the loss sees the negatives of the whole global batch (``backends.all_gather``) and batch norm
    uses global moments (``GlobalBatchNormalization``).

    Args:
        encoder: layer mapping images (N, H, W, 3) in [0, 1] to representations h (N, F).
        projection_head: layer mapping h to projections z (N, D).
        augment: layer returning two views ``(view_a, view_b)`` of a batch (``SimCLRAugment``).
        temperature: NT-Xent temperature τ.
        loss_convention: "mean" (mean over the 2N anchors) or "sum_of_directions" (the official
            TF code's value, 2× the mean).

    Example:
        >>> model = SimCLR(ResNet(18, width_multiplier=0.25, cifar_stem=True),
        ...                ProjectionHead.v1(output_dim=64), SimCLRAugment(32), temperature=0.5)
        >>> model.compile(optimizer=LARS(learning_rate=0.1))
        >>> model.fit(images, batch_size=128, epochs=1)          # doctest: +SKIP
        >>> h = model.encoder(images[:8], training=False)         # representations for downstream

    Reference:
        Chen et al. 2020, §2.1: "a stochastic data augmentation module ... a neural network base
        encoder f(·) ... a small neural network projection head g(·) ... a contrastive loss
        function defined for a contrastive prediction task."
    """

    def __init__(
        self,
        encoder,
        projection_head,
        augment,
        temperature=0.1,
        loss_convention="mean",
        **kwargs,
    ):
        super().__init__(**kwargs)
        # === Layers ===
        self.encoder = encoder
        self.projection_head = projection_head
        self.augment = augment
        # === Config ===
        self.temperature = temperature
        self.loss_convention = loss_convention
        self.contrastive_loss = NTXentLoss(temperature=temperature, convention=loss_convention)
        self.contrastive_accuracy = keras.metrics.Mean(name="contrastive_accuracy")

    def build(self, input_shape):
        # Sub-layers first, so weights exist (and load) before the first call.
        size = self.augment.image_size
        shapes = {
            self.augment: input_shape,
            self.encoder: (None, size, size, input_shape[-1]),
            self.projection_head: (None, self.encoder.output_dim),
        }
        for layer, shape in shapes.items():
            if not layer.built:  # deserialized sub-layers arrive built
                layer.build(shape)
        self.built = True

    def call(self, images, training=False):
        # The views are the objective's input, so they are drawn in evaluation too.
        view_a, view_b = self.augment(images, training=True)
        views = ops.concatenate([view_a, view_b], axis=0)
        h = self.encoder(views, training=training)
        return self.projection_head(h, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        z_a, z_b = ops.split(y_pred, 2, axis=0)
        loss, accuracy = self.contrastive_loss.loss_and_accuracy(z_a, z_b)
        self.contrastive_accuracy.update_state(accuracy)
        if self.losses:  # regularizers a user may add to the encoder or head
            loss = loss + ops.sum(self.losses)
        # Per replica: what the backend's gradient reduction turns into the global loss's gradient.
        return backends.scale_loss(loss)

    def embed(self, images, layer="h", training=False):
        """Representations h (encoder output) or projections z of ``images`` (no augmentation)."""
        h = self.encoder(images, training=training)
        if layer == "h":
            return h
        if layer == "z":
            return self.projection_head(h, training=training)
        raise ValueError(f"layer must be 'h' or 'z', got {layer!r}")

    def get_compile_config(self):
        # Keras resolves jit_compile="auto" per backend before saving; store "auto" so a checkpoint
        # compiles as the LOADING backend would (a JAX choice would force torch.compile on torch).
        config = super().get_compile_config()
        if config is not None and "jit_compile" in config:
            config["jit_compile"] = "auto"
        return config

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "projection_head": keras.saving.serialize_keras_object(self.projection_head),
                "augment": keras.saving.serialize_keras_object(self.augment),
                "temperature": self.temperature,
                "loss_convention": self.loss_convention,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "projection_head", "augment"):
            # Unbuilt: SimCLR.build then builds them under the model's name scope, so variable
            # paths (which LARS exclusions match) are the same after loading as before saving.
            sub_config = {k: v for k, v in config[key].items() if k != "build_config"}
            config[key] = keras.saving.deserialize_keras_object(sub_config)
        return cls(**config)
