"""Tests for the ResNet encoder and its residual blocks."""

import math

import keras
import numpy as np
import pytest
from keras import ops
from testing_utils import assert_serializable

from simclr_keras3 import ResNet, resnet_blocks
from simclr_keras3.resnet_blocks import BasicBlock, BottleneckBlock, conv2d, pad_for

# Width multiplier for forward passes: stage widths 4/8/16/32 (ResNet-50 outputs 128). Every
# forward test reuses these widths (standalone blocks take the shapes of a ResNet-50 stage),
# 8x8 (CIFAR stem) or 32x32 (ImageNet stem) images and BATCH: JAX compiles each initializer and
# op once per shape, which dominates its test time on a shared CPU. The full-width
# architectures are checked by the parameter counts.
NARROW = 1 / 16
BATCH = 4


class NumpyHeNormal(keras.initializers.Initializer):
    """He-normal kernels drawn by NumPy (untruncated): no per-shape compile."""

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)

    def __call__(self, shape, dtype=None):
        std = math.sqrt(2.0 / math.prod(shape[:-1]))
        return ops.convert_to_tensor(self.rng.normal(scale=std, size=shape), dtype=dtype)


@pytest.fixture(autouse=True)
def fast_conv_initializer(monkeypatch):
    """Draw conv kernels with NumPy in these tests.

    On JAX every random initializer is compiled once per kernel shape, a few seconds each on a
    busy CPU; with NumPy a forward test costs well under a second. The real initializer is
    checked by `test_conv_kernels_are_he_normal`.
    """
    monkeypatch.setattr(resnet_blocks, "CONV_INITIALIZER", NumpyHeNormal())


def images(batch, size, seed=0, channels=3):
    height, width = (size, size) if isinstance(size, int) else size
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(batch, height, width, channels)).astype("float32")


def numpy(x):
    # A Variable's own __array__ trips a NumPy 2 DeprecationWarning: convert its value.
    return ops.convert_to_numpy(x.value if isinstance(x, keras.Variable) else x)


# --- Parameter counts ---------------------------------------------------------------------


def expected_trainable_params(depth, width=1, cifar_stem=False):
    """Trainable parameters of ResNet v1 without classifier, by arithmetic from He et al. Table 1.

    A k×k conv from c_in to c_out channels has k·k·c_in·c_out weights (no bias); a BN on c
    channels has 2c trainable ones (gamma, beta). A projection shortcut (1×1 conv + BN) is used
    wherever a block changes its stride or channel count. Worked example, ResNet-18:
      stem 7·7·3·64 + 2·64                                                  =     9,536
      stage 1: 2 blocks × 2 × (9·64·64 + 128)                               =   147,968
      stage 2: (9·64·128 + 256) + (9·128·128 + 256) + (64·128 + 256)
               + 2 × (9·128·128 + 256)                                      =   525,568
      stage 3: same pattern 128 → 256                                       = 2,099,712
      stage 4: same pattern 256 → 512                                       = 8,393,728
      total                                                                 = 11,176,512
    and the CIFAR stem (3·3·3·64 instead of 7·7·3·64) is 7,680 fewer: 11,168,832.
    """
    bottleneck = depth >= 50
    blocks = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3),
              152: (3, 8, 36, 3)}[depth]  # fmt: skip

    def ch(base):
        return max(1, round(base * width))

    def conv(k, c_in, c_out):
        return k * k * c_in * c_out

    def bn(c):
        return 2 * c

    total = conv(3 if cifar_stem else 7, 3, ch(64)) + bn(ch(64))
    c_in = ch(64)
    for stage, base in enumerate((64, 128, 256, 512)):
        c = ch(base)
        c_out = 4 * c if bottleneck else c
        for i in range(blocks[stage]):
            stride = 2 if stage > 0 and i == 0 else 1
            if bottleneck:
                total += conv(1, c_in, c) + bn(c) + conv(3, c, c) + bn(c) + conv(1, c, c_out)
            else:
                total += conv(3, c_in, c) + bn(c) + conv(3, c, c_out)
            total += bn(c_out)
            if stride != 1 or c_in != c_out:
                total += conv(1, c_in, c_out) + bn(c_out)
            c_in = c_out
    return total


# torchvision resnetN().parameters() totals minus the fc layer (d·1000 + 1000): an independent
# check of the arithmetic above. Moving BN statistics are buffers there, not parameters.
TORCHVISION_WITHOUT_FC = {
    18: 11_689_512 - 513_000,  # = 11,176,512
    34: 21_797_672 - 513_000,  # = 21,284,672
    50: 25_557_032 - 2_049_000,  # = 23,508,032
    101: 44_549_160 - 2_049_000,  # = 42,500,160
    152: 60_192_808 - 2_049_000,  # = 58,143,808
}


def build_without_allocating(layer, input_shape):
    """Build ``layer`` with shapes only: variables are created but never initialised.

    Initialising ResNet-152 takes seconds on a shared CPU; counting parameters needs shapes
    only. The never-initialised variables are dropped from Keras' global state afterwards.
    """
    with keras.StatelessScope(initialize_variables=False):
        layer.build(input_shape)
    trainable = sum(math.prod(v.shape) for v in layer.trainable_weights)
    non_trainable = sum(math.prod(v.shape) for v in layer.non_trainable_weights)
    return trainable, non_trainable


@pytest.fixture
def no_allocation():
    yield build_without_allocating
    keras.backend.clear_session(free_memory=False)


def test_formula_matches_torchvision_counts():
    for depth, count in TORCHVISION_WITHOUT_FC.items():
        assert expected_trainable_params(depth) == count
    assert expected_trainable_params(18) == 11_176_512
    assert expected_trainable_params(18, cifar_stem=True) == 11_168_832
    assert expected_trainable_params(50) == 23_508_032


@pytest.mark.parametrize("depth", [18, 34, 50, 101, 152])
def test_parameter_counts_full_width(depth, no_allocation):
    encoder = ResNet(depth)
    trainable, non_trainable = no_allocation(encoder, (None, None, None, 3))
    assert trainable == TORCHVISION_WITHOUT_FC[depth]
    # Moving mean and variance: one pair per BN channel, as many as gamma + beta.
    bn_trainable = sum(math.prod(v.shape) for v in encoder.trainable_weights if len(v.shape) == 1)
    assert non_trainable == bn_trainable


def test_parameter_count_cifar_stem(no_allocation):
    trainable, _ = no_allocation(ResNet(18, cifar_stem=True), (None, None, None, 3))
    assert trainable == 11_168_832


@pytest.mark.parametrize("depth", [18, 34, 50, 101, 152])
def test_parameter_counts_scaled_width(depth, no_allocation, width=0.25):
    trainable, _ = no_allocation(ResNet(depth, width_multiplier=width), (None, None, None, 3))
    assert trainable == expected_trainable_params(depth, width)


def test_wide_resnet50_sizes_match_paper(no_allocation):
    # SimCLR Table 6 ("Param (M)"): ResNet-50 (2×) has 94M and ResNet-50 (4×) 375M parameters.
    assert round(no_allocation(ResNet(50, 2), (None, None, None, 3))[0] / 1e6) == 94
    assert round(expected_trainable_params(50, 4) / 1e6) == 375


def test_output_dim_and_rounding():
    assert ResNet(50).output_dim == 2048
    assert ResNet(18).output_dim == 512
    assert ResNet(34).output_dim == 512
    assert ResNet(50, 2).output_dim == 4096
    assert ResNet(50, 0.25).output_dim == 512
    assert ResNet(18, 0.01).output_dim == 5  # round(5.12)
    tiny = ResNet(18, 0.001)  # every width rounds to at least one channel
    assert tiny.stem_width == 1 and tiny.output_dim == 1


def test_unknown_depth_lists_valid_depths():
    with pytest.raises(ValueError, match=r"\[18, 34, 50, 101, 152\]"):
        ResNet(depth=42)
    with pytest.raises(ValueError, match="width_multiplier"):
        ResNet(18, width_multiplier=0)


def test_variables_are_conv_kernels_or_named_batch_norm(no_allocation):
    encoder = ResNet(50)
    no_allocation(encoder, (None, None, None, 3))
    for v in encoder.weights:
        if len(v.shape) == 1:
            assert "batch_norm" in v.path, v.path
        else:
            assert len(v.shape) == 4 and v.path.endswith("kernel"), v.path
    # 53 convs and 53 BNs (4 variables each) in ResNet-50.
    assert len(encoder.weights) == 53 + 53 * 4


def sub_layers(encoder, kind):
    """The encoder's conv (``kind="conv"``) or BN (``kind="batch_norm"``) layers."""
    found = [getattr(encoder, f"stem_{kind}")]
    for block in encoder.blocks:
        for name in (f"{kind}1", f"{kind}2", f"{kind}3", f"shortcut_{kind}"):
            if hasattr(block, name):
                found.append(getattr(block, name))
    return found


def test_conv_kernels_are_he_normal(monkeypatch, no_allocation):
    monkeypatch.undo()  # the library's own initializer
    encoder = ResNet(50)
    no_allocation(encoder, (None, None, None, 3))
    convs = sub_layers(encoder, "conv")
    assert len(convs) == 53
    assert all(isinstance(c.kernel_initializer, keras.initializers.HeNormal) for c in convs)
    assert all(not c.use_bias for c in convs)
    keras.utils.set_random_seed(0)
    conv = conv2d(64, 3, 1, "conv")
    conv.build((None, None, None, 64))
    # He normal: std = sqrt(2 / fan_in), fan_in = 3·3·64 (Keras rescales the truncation).
    assert abs(numpy(conv.kernel).std() / math.sqrt(2 / 576) - 1) < 0.03


# --- Shapes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "depth, cifar_stem, size, output_dim",
    [(18, True, 8, 32), (50, True, 8, 128), (18, False, 32, 32)],
)
def test_output_shape(depth, cifar_stem, size, output_dim):
    encoder = ResNet(depth, NARROW, cifar_stem=cifar_stem)
    h = encoder(images(BATCH, size), training=False)
    assert tuple(h.shape) == (BATCH, output_dim) == (BATCH, encoder.output_dim)
    assert np.all(np.isfinite(numpy(h)))
    symbolic = encoder(keras.KerasTensor((None, None, None, 3)))
    assert tuple(symbolic.shape) == (None, output_dim)


def test_min_input_size_and_feature_map_size():
    imagenet, cifar = ResNet(18, NARROW), ResNet(18, NARROW, cifar_stem=True)
    assert imagenet.min_input_size == 32 and imagenet.total_stride == 32
    assert cifar.min_input_size == 8 and cifar.total_stride == 8
    assert imagenet.feature_map_size(224) == 7 and imagenet.feature_map_size(32) == 1
    assert imagenet.feature_map_size(33) == 2  # padding keeps the partial stride
    assert cifar.feature_map_size(32) == 4 and cifar.feature_map_size(8) == 1
    assert ResNet(50).min_input_size == 32


def test_strided_layers_give_ceil_of_half_the_side():
    """Symmetric k // 2 padding: a stride-2 layer maps a side s to ceil(s / 2), odd or even."""
    encoder = ResNet(18, NARROW)
    x = encoder.stem_conv(pad_for(images(1, (9, 12)), 7, 2))
    assert tuple(x.shape) == (1, 5, 6, 4)
    block = BasicBlock(8, strides=2, use_projection=True)
    y = block(images(1, (5, 6), channels=4))
    assert tuple(y.shape) == (1, 3, 3, 8) == block.compute_output_shape((1, 5, 6, 4))


# --- Batch norm and zero-init behaviour ----------------------------------------------------


def moving_stats(layer):
    return [numpy(v).copy() for v in layer.non_trainable_weights]


def test_moving_statistics_change_only_in_training():
    encoder = ResNet(18, NARROW, cifar_stem=True)
    x = images(BATCH, 8)
    encoder(x, training=False)
    before = moving_stats(encoder)
    assert len(before) == 2 * 20  # BNs after the stem, 16 block convs and 3 projections
    encoder(x, training=False)
    encoder(x)  # outside fit(), training defaults to inference
    for a, b in zip(before, moving_stats(encoder)):
        np.testing.assert_array_equal(a, b)
    encoder(x, training=True)
    after = moving_stats(encoder)
    assert all(not np.allclose(a, b) for a, b in zip(before, after))


def test_inference_is_per_example_training_is_per_batch():
    encoder = ResNet(18, NARROW, cifar_stem=True)
    x = images(BATCH, 8)
    other = x.copy()
    other[1:] = images(BATCH - 1, 8, seed=1)  # same first image, different companions
    np.testing.assert_allclose(
        numpy(encoder(other, training=False))[0], numpy(encoder(x, training=False))[0], atol=1e-6
    )
    # Training-mode BN normalises with the batch's moments, so the companions matter.
    assert not np.allclose(
        numpy(encoder(other, training=True))[0], numpy(encoder(x, training=True))[0], atol=1e-4
    )


def test_frozen_encoder_keeps_batch_norm_in_inference_mode():
    # Linear evaluation freezes the encoder; Keras then runs BN with its moving statistics.
    encoder = ResNet(18, NARROW, cifar_stem=True)
    x = images(BATCH, 8)
    expected = numpy(encoder(x, training=False))
    moving = [v for v in encoder.weights if "moving" in v.path]
    before = [numpy(v).copy() for v in moving]
    encoder.trainable = False
    np.testing.assert_allclose(numpy(encoder(x, training=True)), expected, atol=1e-6)
    for a, v in zip(before, moving):
        np.testing.assert_array_equal(a, numpy(v))


def test_dtype_policy_reaches_every_sub_layer():
    encoder = ResNet(50, NARROW, dtype="mixed_bfloat16")
    layers = sub_layers(encoder, "conv") + sub_layers(encoder, "batch_norm") + encoder.blocks
    assert len(layers) == 53 + 53 + 16
    assert {layer.dtype_policy.name for layer in layers} == {"mixed_bfloat16"}
    revived = ResNet.from_config(encoder.get_config())
    assert revived.blocks[-1].conv3.dtype_policy.name == "mixed_bfloat16"


def test_last_batch_norm_of_each_block_starts_with_zero_gamma():
    for encoder in (ResNet(18, NARROW), ResNet(50, NARROW)):
        encoder.build((None, None, None, 3))
        np.testing.assert_array_equal(numpy(encoder.stem_batch_norm.gamma), 1.0)
        for block in encoder.blocks:
            last = block.batch_norm3 if isinstance(block, BottleneckBlock) else block.batch_norm2
            names = ("batch_norm1", "batch_norm2", "batch_norm3", "shortcut_batch_norm")
            bns = [getattr(block, name) for name in names if hasattr(block, name)]
            assert len(bns) == 2 + isinstance(block, BottleneckBlock) + block.use_projection
            for bn in bns:
                expected = 0.0 if bn is last else 1.0
                np.testing.assert_array_equal(numpy(bn.gamma), expected)


# Block shapes below reuse the kernel shapes of the NARROW networks (JAX compiles per shape).
@pytest.mark.parametrize("block_class, filters", [(BasicBlock, 8), (BottleneckBlock, 4)])
@pytest.mark.parametrize("training", [False, True])
def test_fresh_identity_block_is_the_identity(block_class, filters, training):
    # Zero gamma (and zero beta) silence the residual branch: relu(0 + x) = x for x ≥ 0,
    # and a block's input is always ≥ 0 (it follows a ReLU).
    block = block_class(filters)
    x = images(BATCH, 4, channels=filters * block_class.expansion)
    np.testing.assert_allclose(numpy(block(x, training=training)), x, atol=1e-6)


@pytest.mark.parametrize("block_class, filters", [(BasicBlock, 8), (BottleneckBlock, 8)])
def test_fresh_projection_block_is_its_shortcut(block_class, filters):
    block = block_class(filters, strides=2, use_projection=True)
    x = images(BATCH, 4, channels=16 if block_class is BottleneckBlock else 4)
    y = block(x, training=True)
    shortcut = ops.relu(block.shortcut_batch_norm(block.shortcut_conv(x), training=True))
    np.testing.assert_allclose(numpy(y), numpy(shortcut), atol=1e-5)
    # A trained (nonzero) gamma switches the residual branch on.
    last = block.batch_norm2 if block_class is BasicBlock else block.batch_norm3
    last.gamma.assign(np.ones(last.gamma.shape, "float32"))
    assert not np.allclose(numpy(block(x, training=True)), numpy(shortcut), atol=1e-3)


# --- Serialization and backends ------------------------------------------------------------


def test_get_config_has_every_constructor_argument():
    config = ResNet(34, 0.5, cifar_stem=True, batch_norm_momentum=0.99,
                    batch_norm_epsilon=1e-3).get_config()  # fmt: skip
    assert {k: config[k] for k in ("depth", "width_multiplier", "cifar_stem",
                                   "batch_norm_momentum", "batch_norm_epsilon")} == {
        "depth": 34, "width_multiplier": 0.5, "cifar_stem": True,
        "batch_norm_momentum": 0.99, "batch_norm_epsilon": 1e-3,
    }  # fmt: skip
    config = ResNet(np.int64(50), np.float32(0.5)).get_config()  # plain numbers in the config
    assert type(config["depth"]) is int and type(config["width_multiplier"]) is float
    encoder = ResNet(18, NARROW, batch_norm_momentum=0.99, batch_norm_epsilon=1e-3)
    for bn in (encoder.stem_batch_norm, encoder.blocks[-1].batch_norm2):
        assert (bn.momentum, bn.epsilon) == (0.99, 1e-3)


def test_serialization_round_trip():
    encoder = ResNet(18, NARROW, cifar_stem=True)
    x = images(BATCH, 8)
    encoder(x, training=True)  # move the BN statistics away from their initial values
    assert_serializable(encoder, x, training=False)
    block = BottleneckBlock(8, strides=2, use_projection=True)
    assert_serializable(block, images(BATCH, 4, channels=16))


@keras.saving.register_keras_serializable(package="tests_resnet")
class _EncoderModel(keras.Model):
    """A subclassed model that owns a ResNet, as the SimCLR model will."""

    def __init__(self, encoder_config, **kwargs):
        super().__init__(**kwargs)
        self.encoder_config = encoder_config
        self.encoder = ResNet(name="encoder", **encoder_config)

    def call(self, x, training=None):
        return self.encoder(x, training=training)

    def get_config(self):
        return {**super().get_config(), "encoder_config": self.encoder_config}


def test_keras_file_round_trip_inside_subclassed_model(tmp_path):
    model = _EncoderModel({"depth": 18, "width_multiplier": NARROW, "cifar_stem": True})
    x = images(BATCH, 8)
    model(x, training=True)
    expected = numpy(model(x, training=False))
    path = str(tmp_path / "encoder.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.encoder.get_config() == model.encoder.get_config()
    np.testing.assert_allclose(numpy(loaded(x, training=False)), expected, atol=1e-5)
    # A loaded model builds its sub-layers outside the model's name scope, so the paths lose
    # the model-name prefix; below the sub-layer they match.
    def paths(m):
        return [v.path[v.path.index("encoder/"):] for v in m.weights]

    assert paths(loaded) == paths(model)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(numpy(a), numpy(b))


def test_one_training_step_with_fit():
    """Compiled training (jit on JAX, tf.function on TF) updates weights and BN statistics."""
    keras.utils.set_random_seed(0)
    # Two blocks of the NARROW ResNet-18 (stage 2) rather than a whole encoder: the compiled
    # step is what matters here, and compiling a full ResNet costs JAX/XLA ~10 s of shared CPU.
    blocks = [BasicBlock(8, strides=2, use_projection=True), BasicBlock(8)]
    inputs = keras.Input((8, 8, 4))
    model = keras.Model(inputs, blocks[1](blocks[0](inputs)))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x, y = images(BATCH, 8, channels=4), images(BATCH, 4, seed=1, channels=8)
    before = {v.path: numpy(v).copy() for v in model.weights}
    history = model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    changed = {v.path: not np.array_equal(before[v.path], numpy(v)) for v in model.weights}
    assert all(c for path, c in changed.items() if "moving" in path)
    assert changed[blocks[0].shortcut_conv.kernel.path]
    # Zero gamma blocks the gradient into a fresh residual branch: on the first plain-SGD step
    # its convs stay put while the zero gammas themselves start to move.
    for block in blocks:
        assert not changed[block.conv1.kernel.path] and not changed[block.conv2.kernel.path]
        assert changed[block.batch_norm2.gamma.path]
