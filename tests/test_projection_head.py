"""Tests for the projection head g."""

import math

import keras
import numpy as np
import pytest
from keras import ops
from testing_utils import assert_serializable

from simclr_keras3 import ProjectionHead, projection_head

D = 16  # feature dim of h in these tests
BATCH = 8


class NumpyNormal(keras.initializers.Initializer):
    """N(0, 0.01²) kernels drawn by NumPy: no per-shape compile."""

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)

    def __call__(self, shape, dtype=None):
        return ops.convert_to_tensor(self.rng.normal(scale=0.01, size=shape), dtype=dtype)


@pytest.fixture(autouse=True)
def fast_dense_initializer(monkeypatch):
    """On JAX a random initializer compiles once per kernel shape (seconds on a busy CPU).

    The real initializer is checked by `test_dense_kernels_follow_official_initializer`.
    """
    monkeypatch.setattr(projection_head, "DENSE_INITIALIZER", NumpyNormal())


def features(batch=BATCH, dim=D, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, dim)).astype("float32")


def numpy(x):
    # A Variable's own __array__ trips a NumPy 2 DeprecationWarning: convert its value.
    return ops.convert_to_numpy(x.value if isinstance(x, keras.Variable) else x)


def count(variables):
    return sum(math.prod(v.shape) for v in variables)


def built(head, dim=D):
    head.build((None, dim))
    return head


# (constructor kwargs, output dim, Dense layers, BN layers, trainable, non-trainable), by hand
# for h of D = 16 features. A Dense d→k has d·k weights (+k bias); a BN on k features has
# gamma (+ beta when centered) trainable and 2k moving statistics. Dense shapes are kept to
# 16x16, 16x8 and 8x8: JAX compiles the kernel initializer once per shape.
CASES = {
    # v2: 16·16 + (16+16) | 16·16 + (16+16) | 16·8 + 8 (gamma only, no bias, no beta)
    "v2": (dict(output_dim=8), 8, 3, 3, 256 + 32 + 256 + 32 + 128 + 8, 32 + 32 + 16),
    # v1: 16·16 + (16+16) | 16·8 + 8 (bias)
    "v1": (dict(num_layers=2, output_batch_norm=False, output_dim=8), 8, 2, 1, 256 + 32 + 136, 32),
    # 4 layers, hidden 8: 16·8 + 16 | 8·8 + 16 | 8·8 + 16 | 8·8 + 8
    "deep": (dict(num_layers=4, hidden_dim=8, output_dim=8), 8, 4, 4,
             (128 + 16) + (64 + 16) + (64 + 16) + (64 + 8), 16 * 4),  # fmt: skip
    # linear with output BN: 16·8 + 8 (gamma); without: 16·8 + 8 (bias)
    "linear_bn": (dict(mode="linear", output_dim=8), 8, 1, 1, 136, 16),
    "linear": (dict(mode="linear", output_dim=8, output_batch_norm=False), 8, 1, 0, 136, 0),
    "none": (dict(mode="none"), D, 0, 0, 0, 0),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_structure_and_parameter_counts(case):
    kwargs, output_dim, num_dense, num_bn, trainable, non_trainable = CASES[case]
    head = built(ProjectionHead(**kwargs))
    assert len(head.dense_layers) == num_dense == head.depth
    assert len(head.batch_norm_layers) == num_bn
    assert count(head.trainable_weights) == trainable
    assert count(head.non_trainable_weights) == non_trainable
    z = head(features(), training=True)
    assert tuple(z.shape) == (BATCH, output_dim)
    assert tuple(head(keras.KerasTensor((None, D))).shape) == (None, output_dim)


def test_default_v2_head_on_resnet50_features():
    # 2048·2048 + 4096 | 2048·2048 + 4096 | 2048·128 + 128: about 8.65 M trainable parameters.
    head = ProjectionHead()
    with keras.StatelessScope(initialize_variables=False):  # shapes only, no 2048² init
        head.build((None, 2048))
    try:
        assert count(head.trainable_weights) == 2 * (2048 * 2048 + 2 * 2048) + 2048 * 128 + 128
        assert [d.units for d in head.dense_layers] == [2048, 2048, 128]
    finally:
        keras.backend.clear_session(free_memory=False)


def test_presets():
    v1, v2 = built(ProjectionHead.v1(output_dim=8)), built(ProjectionHead.v2(output_dim=8))
    assert (v1.num_layers, v1.output_batch_norm, v1.mode) == (2, False, "nonlinear")
    assert (v2.num_layers, v2.output_batch_norm, v2.mode) == (3, True, "nonlinear")
    # v2 is the default.
    assert v2.get_config() == ProjectionHead(output_dim=8, name=v2.name).get_config()
    # v1: Dense → BN → ReLU → Dense with bias; v2: no Dense bias anywhere, BN in every layer.
    assert [d.use_bias for d in v1.dense_layers] == [False, True]
    assert [d.use_bias for d in v2.dense_layers] == [False, False, False]
    assert [bn.center for bn in v2.batch_norm_layers] == [True, True, False]
    # Keyword arguments pass through and may override the preset.
    assert ProjectionHead.v1(output_dim=64).output_dim == 64
    assert ProjectionHead.v2(num_layers=4).num_layers == 4


def test_output_batch_norm_has_no_beta_and_centres_z():
    head = built(ProjectionHead(output_dim=8))
    last = head.batch_norm_layers[-1]
    assert not last.center and last.beta is None
    assert sorted(v.name for v in last.weights) == ["gamma", "moving_mean", "moving_variance"]
    assert all(bn.beta is not None for bn in head.batch_norm_layers[:-1])
    # Without beta, training-mode z has zero mean per feature over the batch.
    z = numpy(head(features(), training=True))
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-5)


def test_hidden_dim_defaults_to_feature_dim():
    head = built(ProjectionHead(output_dim=8), dim=8)
    assert [d.units for d in head.dense_layers] == [8, 8, 8]
    head = built(ProjectionHead(hidden_dim=8, output_dim=8), dim=16)
    assert [d.units for d in head.dense_layers] == [8, 8, 8]


def test_dense_kernels_follow_official_initializer(monkeypatch):
    monkeypatch.undo()  # the library's own initializer
    keras.utils.set_random_seed(0)
    head = built(ProjectionHead(num_layers=2, output_dim=8), dim=D)
    first, second = (numpy(d.kernel) for d in head.dense_layers)
    assert abs(first.std() - 0.01) < 0.002 and abs(first.mean()) < 0.002
    assert not np.allclose(first[:, :8], second)  # every layer draws its own values


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("training", [False, True])
def test_layer_outputs(case, training):
    kwargs, output_dim, num_dense, *_ = CASES[case]
    head = ProjectionHead(**kwargs)
    h = features()
    outputs = head.layer_outputs(h, training=training)
    assert len(outputs) == num_dense + 1
    np.testing.assert_array_equal(numpy(outputs[0]), h)
    np.testing.assert_allclose(
        numpy(outputs[-1]), numpy(head(h, training=training)), atol=1e-6
    )
    assert tuple(outputs[-1].shape) == (BATCH, output_dim)
    for hidden in outputs[1:-1]:  # hidden layer outputs are taken after the ReLU
        assert numpy(hidden).min() >= 0.0
    symbolic = head.layer_outputs(keras.KerasTensor((None, D)))
    assert [tuple(t.shape) for t in symbolic] == [(None, tuple(o.shape)[1]) for o in outputs]


def test_batch_norm_statistics_move_only_in_training():
    head = ProjectionHead(output_dim=8)
    h = features()
    head(h, training=False)
    before = [numpy(v).copy() for v in head.non_trainable_weights]
    head(h)
    head.layer_outputs(h, training=False)
    for a, v in zip(before, head.non_trainable_weights):
        np.testing.assert_array_equal(a, numpy(v))
    head(h, training=True)
    assert all(not np.allclose(a, numpy(v)) for a, v in zip(before, head.non_trainable_weights))


def test_mode_none_is_identity():
    head = ProjectionHead(mode="none")
    h = features()
    np.testing.assert_array_equal(numpy(head(h, training=True)), h)
    assert head.weights == []


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(mode="mlp"), "mode"),
        (dict(num_layers=0), "num_layers"),
        (dict(num_layers=-1, mode="linear"), "num_layers"),
        (dict(num_layers=1), "num_layers"),  # nonlinear needs a hidden layer
        (dict(num_layers=2.0), "num_layers"),
        (dict(num_layers=None), "num_layers"),
        (dict(hidden_dim=0), "hidden_dim"),
        (dict(output_dim=0), "output_dim"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ProjectionHead(**kwargs)


def test_unknown_feature_dim_is_an_error():
    with pytest.raises(ValueError, match="feature dim"):
        ProjectionHead().build((None, None))


def test_dtype_policy_reaches_every_sub_layer():
    head = ProjectionHead(output_dim=8, dtype="mixed_bfloat16")
    layers = head.dense_layers + head.batch_norm_layers
    assert len(layers) == 6
    assert {layer.dtype_policy.name for layer in layers} == {"mixed_bfloat16"}


def test_get_config_has_every_constructor_argument():
    kwargs = dict(
        num_layers=4,
        hidden_dim=12,
        output_dim=5,
        mode="nonlinear",
        output_batch_norm=False,
        batch_norm_momentum=0.99,
        batch_norm_epsilon=1e-3,
    )
    config = ProjectionHead(**kwargs).get_config()
    assert {k: config[k] for k in kwargs} == kwargs
    # NumPy integers (e.g. from a config array) become plain ints in the config.
    config = ProjectionHead(output_dim=np.int64(8), num_layers=np.int64(2)).get_config()
    assert type(config["output_dim"]) is int and type(config["num_layers"]) is int
    head = ProjectionHead(**kwargs)
    assert all((bn.momentum, bn.epsilon) == (0.99, 1e-3) for bn in head.batch_norm_layers)


@pytest.mark.parametrize("case", ["v2", "v1", "linear_bn", "none"])
def test_serialization_round_trip(case):
    head = ProjectionHead(**CASES[case][0])
    h = features()
    head(h, training=True)  # move BN statistics off their initial values
    assert_serializable(head, h, training=False)


@keras.saving.register_keras_serializable(package="tests_projection_head")
class _HeadModel(keras.Model):
    """A subclassed model that owns a ProjectionHead, as the SimCLR model will."""

    def __init__(self, head_config, **kwargs):
        super().__init__(**kwargs)
        self.head_config = head_config
        self.head = ProjectionHead(name="head", **head_config)

    def call(self, h, training=None):
        return self.head.layer_outputs(h, training=training)

    def get_config(self):
        return {**super().get_config(), "head_config": self.head_config}


def test_keras_file_round_trip_inside_subclassed_model(tmp_path):
    model = _HeadModel({"output_dim": 8})
    h = features()
    model(h, training=True)
    expected = [numpy(t) for t in model(h, training=False)]
    path = str(tmp_path / "head.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.head.get_config() == model.head.get_config()
    # A loaded model builds its sub-layers outside the model's name scope, so the paths lose
    # the model-name prefix; below the sub-layer they match.
    def paths(m):
        return [v.path[v.path.index("head/"):] for v in m.weights]

    assert paths(loaded) == paths(model)
    for e, a in zip(expected, loaded(h, training=False)):
        np.testing.assert_allclose(numpy(a), e, atol=1e-6)


def test_trains_with_fit():
    """Compiled training updates the head's weights and BN statistics on every backend."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((D,))
    head = ProjectionHead(output_dim=8)
    model = keras.Model(inputs, head(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    h, target = features(), features(dim=8, seed=1)
    before = [numpy(v).copy() for v in head.weights]
    history = model.fit(h, target, batch_size=BATCH, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert all(not np.allclose(a, numpy(v)) for a, v in zip(before, head.weights))
