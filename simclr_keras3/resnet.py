"""ResNet v1 encoder f: images → representation h after global average pooling."""

import keras
from keras import layers, ops

from simclr_keras3.batch_norm import GlobalBatchNormalization
from simclr_keras3.resnet_blocks import (
    BasicBlock,
    BottleneckBlock,
    conv2d,
    conv_output_size,
    pad_for,
)

# depth → (block type, blocks per stage); He et al. 2015, Table 1.
STAGES = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (BottleneckBlock, (3, 4, 6, 3)),
    101: (BottleneckBlock, (3, 4, 23, 3)),
    152: (BottleneckBlock, (3, 8, 36, 3)),
}
STAGE_WIDTHS = (64, 128, 256, 512)
STAGE_STRIDES = (1, 2, 2, 2)


def scaled_channels(base, width_multiplier):
    """``base * width_multiplier`` rounded to an int ≥ 1 (fractional multipliers: tiny nets)."""
    return max(1, int(round(base * width_multiplier)))


@keras.saving.register_keras_serializable(package="simclr_keras3")
class ResNet(layers.Layer):
    """ResNet v1 encoder: images (B, H, W, C) in [0, 1] → h (B, ``output_dim``).

    Post-activation ResNet (BN after every conv, ReLU after the residual sum), bottleneck stride
    in the 3x3 conv ("v1.5", as in the official SimCLR code and torchvision), symmetric
    ``k // 2`` padding, zero-initialised gamma in the last BN of every residual block, a
    1x1 conv + BN projection shortcut wherever a block changes stride or channels, and global
    average pooling at the end (no classifier). Every BN is a ``GlobalBatchNormalization``, so
    BN moments span all replicas in distributed training.

    Args:
        depth: 18 or 34 (basic blocks), 50, 101 or 152 (bottleneck blocks, 4x expansion).
        width_multiplier: scales the stage widths 64/128/256/512 (and the stem); fractional
            values such as 0.25 give CPU-sized networks, channels round to ints ≥ 1.
        cifar_stem: use a 3x3 stride-1 conv + BN + ReLU stem with no max-pool (for 32x32
            images) instead of the ImageNet 7x7 stride-2 conv + BN + ReLU + 3x3/2 max-pool.
        batch_norm_momentum: moving-statistics momentum of every BN (official "batch_norm_decay").
        batch_norm_epsilon: epsilon of every BN.
        **kwargs: as for ``keras.layers.Layer``.

    Example:
        >>> encoder = ResNet(depth=18, width_multiplier=0.25, cifar_stem=True)
        >>> h = encoder(keras.ops.ones((2, 32, 32, 3)), training=False)
        >>> tuple(h.shape), encoder.output_dim, encoder.min_input_size
        ((2, 128), 128, 8)

    Reference:
        Chen et al. 2020, "A Simple Framework for Contrastive Learning of Visual
        Representations" (arXiv 2002.05709), §2.1: "h_i = f(x̃_i) = ResNet(x̃_i) where
        h_i ∈ R^d is the output after the average pooling layer"; §2.3: "We use ResNet-50 as
        the base encoder network"; Appendix B.9 (CIFAR-10): "we replace the first 7x7 Conv of
        stride 2 with 3x3 Conv of stride 1, and also remove the first max pooling operation".
        He et al. 2015, "Deep Residual Learning for Image Recognition", Table 1.
    """

    def __init__(
        self,
        depth=50,
        width_multiplier=1,
        cifar_stem=False,
        batch_norm_momentum=0.9,
        batch_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if depth not in STAGES:
            raise ValueError(f"Unknown ResNet depth {depth!r}; valid depths: {sorted(STAGES)}.")
        if not width_multiplier > 0:
            raise ValueError(f"width_multiplier must be > 0, got {width_multiplier!r}.")
        # Plain Python numbers, so the config stays JSON-serializable (numpy ints are not).
        self.depth = int(depth)
        self.width_multiplier = float(width_multiplier)
        self.cifar_stem = bool(cifar_stem)
        self.batch_norm_momentum = batch_norm_momentum
        self.batch_norm_epsilon = batch_norm_epsilon
        block_class, blocks_per_stage = STAGES[depth]
        bn_args = dict(
            batch_norm_momentum=batch_norm_momentum, batch_norm_epsilon=batch_norm_epsilon
        )

        # === Stem ===
        self.stem_width = scaled_channels(64, width_multiplier)
        self.stem_kernel_size, self.stem_strides = (3, 1) if self.cifar_stem else (7, 2)
        # Sub-layers share the encoder's dtype policy (e.g. ResNet(..., dtype="mixed_bfloat16")).
        self.stem_conv = conv2d(
            self.stem_width,
            self.stem_kernel_size,
            self.stem_strides,
            name="stem_conv",
            dtype=self.dtype_policy,
        )
        self.stem_batch_norm = GlobalBatchNormalization(
            momentum=batch_norm_momentum,
            epsilon=batch_norm_epsilon,
            name="stem_batch_norm",
            dtype=self.dtype_policy,
        )

        # === Residual stages ===
        self.blocks = []
        channels = self.stem_width
        for stage, (base_width, stage_strides, num_blocks) in enumerate(
            zip(STAGE_WIDTHS, STAGE_STRIDES, blocks_per_stage), start=1
        ):
            filters = scaled_channels(base_width, width_multiplier)
            for index in range(num_blocks):
                strides = stage_strides if index == 0 else 1
                block = block_class(
                    filters,
                    strides=strides,
                    # Project only where the shape changes, as torchvision does. The official
                    # code also projects in ResNet-18/34's first block (+4,224 params at width 1).
                    use_projection=strides != 1 or channels != filters * block_class.expansion,
                    name=f"stage{stage}_block{index + 1}",
                    dtype=self.dtype_policy,
                    **bn_args,
                )
                self.blocks.append(block)
                channels = block.output_channels
        self._output_dim = channels

    @property
    def output_dim(self):
        """Number of features of h (2048 for ResNet-50, 512 for ResNet-18, times the width)."""
        return self._output_dim

    @property
    def total_stride(self):
        """Downsampling factor from the image to the last stage (32, or 8 with the CIFAR stem)."""
        stride = self.stem_strides * (1 if self.cifar_stem else 2)  # stem conv, max-pool
        for s in STAGE_STRIDES[1:]:
            stride *= s
        return stride

    @property
    def min_input_size(self):
        """Smallest square side whose last-stage pixel still sees a full stride of real pixels.

        Padding keeps any side ≥ 1 computable (the last stage has ceil(side / total_stride)
        pixels), but below ``total_stride`` the strided convs mostly read zero padding.
        """
        return self.total_stride

    def build(self, input_shape):
        self.stem_conv.build((None, None, None, input_shape[-1]))
        self.stem_batch_norm.build((None, None, None, self.stem_width))
        channels = self.stem_width
        for block in self.blocks:
            block.build((None, None, None, channels))
            channels = block.output_channels

    def call(self, inputs, training=None):
        x = self.stem_conv(pad_for(inputs, self.stem_kernel_size, self.stem_strides))
        x = ops.relu(self.stem_batch_norm(x, training=training))
        if not self.cifar_stem:
            # Zero padding equals -inf padding here: x ≥ 0 after the ReLU.
            x = ops.max_pool(pad_for(x, 3, 2), pool_size=3, strides=2, padding="valid")
        for block in self.blocks:
            x = block(x, training=training)
        return ops.mean(x, axis=(1, 2))  # global average pooling → h

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim)

    def feature_map_size(self, size):
        """Side of the last-stage feature map for an input side ``size``."""
        size = conv_output_size(size, self.stem_strides)
        if not self.cifar_stem:
            size = conv_output_size(size, 2)
        for s in STAGE_STRIDES[1:]:
            size = conv_output_size(size, s)
        return size

    def get_config(self):
        config = super().get_config()
        config.update(
            depth=self.depth,
            width_multiplier=self.width_multiplier,
            cifar_stem=self.cifar_stem,
            batch_norm_momentum=self.batch_norm_momentum,
            batch_norm_epsilon=self.batch_norm_epsilon,
        )
        return config
