"""Residual blocks of ResNet v1 (post-activation), the building units of ``ResNet``."""

import keras
from keras import layers, ops

from simclr_keras3.batch_norm import GlobalBatchNormalization

# He-normal init. Every conv is followed by BN and trained with LARS, both of which make the
# forward pass and the relative update size independent of the kernel's scale, so the exact
# variance (the official code uses VarianceScaling(scale=1, fan_in)) does not matter much.
CONV_INITIALIZER = "he_normal"


def conv2d(filters, kernel_size, strides, name, dtype=None):
    """A bias-free conv. Strided convs use "valid" padding; the caller pads with `pad_for`."""
    return layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        # Keras/TF "same" pads a strided conv asymmetrically (more at the end, depending on
        # the input size); torchvision and the official code pad kernel_size // 2 on both sides.
        padding="same" if strides == 1 else "valid",
        use_bias=False,  # BN follows, its beta is the bias
        kernel_initializer=CONV_INITIALIZER,
        name=name,
        dtype=dtype,
    )


def pad_for(x, kernel_size, strides):
    """Symmetric ``kernel_size // 2`` zero padding in front of a strided conv or pool."""
    if strides == 1 or kernel_size == 1:
        return x
    p = kernel_size // 2
    return ops.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))


def conv_output_size(size, strides):
    """Spatial size after a conv or pool padded by `pad_for` (odd kernel): ceil(size / strides)."""
    return None if size is None else -(-size // strides)


class _ResidualBlock(layers.Layer):
    """Shared constructor, shortcut, config and shapes of the two block types."""

    expansion = 1

    def __init__(
        self,
        filters,
        strides=1,
        use_projection=False,
        batch_norm_momentum=0.9,
        batch_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.strides = int(strides)
        self.use_projection = bool(use_projection)
        self.batch_norm_momentum = batch_norm_momentum
        self.batch_norm_epsilon = batch_norm_epsilon
        self.output_channels = self.filters * self.expansion

        # === Shortcut: 1x1 conv + BN where the shape changes, identity otherwise ===
        if self.use_projection:
            self.shortcut_conv = self.conv(self.output_channels, 1, self.strides, "shortcut_conv")
            self.shortcut_batch_norm = self.batch_norm("shortcut_batch_norm")

    # Sub-layers share the block's dtype policy (e.g. mixed precision given to the encoder).
    def conv(self, filters, kernel_size, strides, name):
        return conv2d(filters, kernel_size, strides, name, dtype=self.dtype_policy)

    def batch_norm(self, name, zero_gamma=False):
        return GlobalBatchNormalization(
            momentum=self.batch_norm_momentum,
            epsilon=self.batch_norm_epsilon,
            # Zero gamma in the block's last BN: the residual branch starts at 0, so each block
            # starts as its (projection) shortcut. Official SimCLR code and Goyal et al. 2017.
            gamma_initializer="zeros" if zero_gamma else "ones",
            name=name,
            dtype=self.dtype_policy,
        )

    def build_shortcut(self, input_channels):
        if self.use_projection:
            self.shortcut_conv.build((None, None, None, input_channels))
            self.shortcut_batch_norm.build((None, None, None, self.output_channels))

    def shortcut(self, x, training):
        if not self.use_projection:
            return x
        return self.shortcut_batch_norm(self.shortcut_conv(x), training=training)

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        return (
            batch,
            conv_output_size(height, self.strides),
            conv_output_size(width, self.strides),
            self.output_channels,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            strides=self.strides,
            use_projection=self.use_projection,
            batch_norm_momentum=self.batch_norm_momentum,
            batch_norm_epsilon=self.batch_norm_epsilon,
        )
        return config


@keras.saving.register_keras_serializable(package="simclr_keras3")
class BasicBlock(_ResidualBlock):
    """ResNet basic block: two 3x3 convs, each followed by BN; output ``filters`` channels.

    ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``, the stride in the first conv.
    Used by ResNet-18 and ResNet-34.

    Args:
        filters: channels of both convs and of the output.
        strides: stride of the first 3x3 conv (and of the projection shortcut).
        use_projection: 1x1 conv + BN on the shortcut (needed when stride or channels change);
            otherwise the shortcut is the identity.
        batch_norm_momentum: moving-statistics momentum of every BN.
        batch_norm_epsilon: epsilon of every BN.
        **kwargs: as for ``keras.layers.Layer``.

    Example:
        >>> block = BasicBlock(64, strides=2, use_projection=True)
        >>> tuple(block(keras.ops.ones((2, 32, 32, 32))).shape)
        (2, 16, 16, 64)

    Reference:
        He et al. 2015, "Deep Residual Learning for Image Recognition", Fig. 5 (left).
    """

    expansion = 1

    def __init__(self, filters, strides=1, use_projection=False, **kwargs):
        super().__init__(filters, strides, use_projection, **kwargs)
        # === Layers ===
        self.conv1 = self.conv(self.filters, 3, self.strides, "conv1")
        self.batch_norm1 = self.batch_norm("batch_norm1")
        self.conv2 = self.conv(self.filters, 3, 1, "conv2")
        self.batch_norm2 = self.batch_norm("batch_norm2", zero_gamma=True)

    def build(self, input_shape):
        channels = self.filters
        self.conv1.build((None, None, None, input_shape[-1]))
        self.batch_norm1.build((None, None, None, channels))
        self.conv2.build((None, None, None, channels))
        self.batch_norm2.build((None, None, None, channels))
        self.build_shortcut(input_shape[-1])

    def call(self, inputs, training=None):
        x = self.conv1(pad_for(inputs, 3, self.strides))
        x = ops.relu(self.batch_norm1(x, training=training))
        x = self.batch_norm2(self.conv2(x), training=training)
        return ops.relu(x + self.shortcut(inputs, training))


@keras.saving.register_keras_serializable(package="simclr_keras3")
class BottleneckBlock(_ResidualBlock):
    """ResNet bottleneck block: 1x1 → 3x3 → 1x1 convs with BN; output ``4 * filters`` channels.

    The stride sits in the 3x3 conv ("ResNet v1.5", as in the official SimCLR code and
    torchvision), not in the first 1x1 conv as in the original paper. Used by ResNet-50/101/152.

    Args:
        filters: channels of the two inner convs; the block outputs ``4 * filters``.
        strides: stride of the 3x3 conv (and of the projection shortcut).
        use_projection: 1x1 conv + BN on the shortcut (needed when stride or channels change);
            otherwise the shortcut is the identity.
        batch_norm_momentum: moving-statistics momentum of every BN.
        batch_norm_epsilon: epsilon of every BN.
        **kwargs: as for ``keras.layers.Layer``.

    Example:
        >>> block = BottleneckBlock(64, use_projection=True)
        >>> tuple(block(keras.ops.ones((2, 8, 8, 64))).shape)
        (2, 8, 8, 256)

    Reference:
        He et al. 2015, "Deep Residual Learning for Image Recognition", Fig. 5 (right).
    """

    expansion = 4

    def __init__(self, filters, strides=1, use_projection=False, **kwargs):
        super().__init__(filters, strides, use_projection, **kwargs)
        # === Layers ===
        self.conv1 = self.conv(self.filters, 1, 1, "conv1")
        self.batch_norm1 = self.batch_norm("batch_norm1")
        self.conv2 = self.conv(self.filters, 3, self.strides, "conv2")
        self.batch_norm2 = self.batch_norm("batch_norm2")
        self.conv3 = self.conv(self.output_channels, 1, 1, "conv3")
        self.batch_norm3 = self.batch_norm("batch_norm3", zero_gamma=True)

    def build(self, input_shape):
        self.conv1.build((None, None, None, input_shape[-1]))
        self.batch_norm1.build((None, None, None, self.filters))
        self.conv2.build((None, None, None, self.filters))
        self.batch_norm2.build((None, None, None, self.filters))
        self.conv3.build((None, None, None, self.filters))
        self.batch_norm3.build((None, None, None, self.output_channels))
        self.build_shortcut(input_shape[-1])

    def call(self, inputs, training=None):
        x = ops.relu(self.batch_norm1(self.conv1(inputs), training=training))
        x = self.conv2(pad_for(x, 3, self.strides))
        x = ops.relu(self.batch_norm2(x, training=training))
        x = self.batch_norm3(self.conv3(x), training=training)
        return ops.relu(x + self.shortcut(inputs, training))
