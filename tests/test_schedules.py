import math

import keras
import numpy as np
import pytest
from testing_utils import assert_serializable

from simclr_keras3 import WarmupCosineDecay, scale_learning_rate

# === scale_learning_rate ===


@pytest.mark.parametrize(
    "base, batch_size, scaling, expected",
    [
        (0.3, 256, "linear", 0.3),
        (0.3, 4096, "linear", 4.8),  # paper: 4.8 = 0.3 × 4096/256
        (1.0, 512, "linear", 2.0),  # CIFAR-10 reference run
        (0.3, 1, "linear", 0.3 / 256),
        (0.075, 4096, "sqrt", 4.8),  # 0.075 × 64
        (0.075, 256, "sqrt", 1.2),
        (0.075, 1, "sqrt", 0.075),
    ],
)
def test_scale_learning_rate(base, batch_size, scaling, expected):
    assert scale_learning_rate(base, batch_size, scaling) == pytest.approx(expected, rel=1e-12)


def test_scale_learning_rate_defaults_to_linear():
    assert scale_learning_rate(0.3, 1024) == pytest.approx(1.2)
    assert isinstance(scale_learning_rate(0.3, np.int64(1024)), float)


@pytest.mark.parametrize(
    "args",
    [(0.3, 256, "log"), (0.3, 256, "Linear"), (0.3, 0), (0.3, -8), (0.3, 2.5), (-0.1, 256)],
)
def test_scale_learning_rate_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        scale_learning_rate(*args)


# === WarmupCosineDecay ===


def lr_at(schedule, step):
    return float(keras.ops.convert_to_numpy(schedule(step)))


@pytest.mark.parametrize(
    "step, expected",
    [
        (0, 0.0),  # warm-up starts at 0
        (5, 0.5),  # mid-warm-up: 1.0 · 5/10
        (9, 0.9),
        (10, 1.0),  # end of warm-up: the peak
        (35, 0.5 * (1 + math.cos(math.pi * 0.25))),  # a quarter into the cosine ≈ 0.8536
        (60, 0.5),  # mid-cosine
        (85, 0.5 * (1 + math.cos(math.pi * 0.75))),  # ≈ 0.1464
        (110, 0.0),  # end
        (111, 0.0),  # beyond the end: clamped
        (10_000, 0.0),
    ],
)
def test_warmup_cosine_values(step, expected):
    schedule = WarmupCosineDecay(peak_learning_rate=1.0, total_steps=110, warmup_steps=10)
    assert lr_at(schedule, step) == pytest.approx(expected, abs=1e-6)


def test_scales_with_the_peak_and_accepts_tensor_steps():
    schedule = WarmupCosineDecay(peak_learning_rate=4.8, total_steps=110, warmup_steps=10)
    assert lr_at(schedule, keras.ops.convert_to_tensor(5, dtype="int32")) == pytest.approx(2.4)
    assert lr_at(schedule, keras.ops.convert_to_tensor(60.0)) == pytest.approx(2.4)


def test_no_warmup_is_a_pure_cosine():
    schedule = WarmupCosineDecay(peak_learning_rate=2.0, total_steps=100, warmup_steps=0)
    assert lr_at(schedule, 0) == pytest.approx(2.0)
    assert lr_at(schedule, 50) == pytest.approx(1.0)
    assert lr_at(schedule, 100) == pytest.approx(0.0, abs=1e-7)
    assert lr_at(schedule, 200) == pytest.approx(0.0, abs=1e-7)


def test_warmup_over_the_whole_run_then_zero():
    schedule = WarmupCosineDecay(peak_learning_rate=1.0, total_steps=4, warmup_steps=4)
    values = [lr_at(schedule, step) for step in range(6)]
    np.testing.assert_allclose(values, [0.0, 0.25, 0.5, 0.75, 0.0, 0.0], atol=1e-7)


def test_drives_an_optimizer():
    schedule = WarmupCosineDecay(peak_learning_rate=1.0, total_steps=110, warmup_steps=10)
    optimizer = keras.optimizers.SGD(learning_rate=schedule)
    variable = keras.Variable(np.zeros(2, np.float32))
    for _ in range(5):
        optimizer.apply([keras.ops.ones(2)], [variable])
    # steps 0..4 used 0, 0.1, 0.2, 0.3, 0.4; the next step would use 0.5
    np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), -1.0, atol=1e-6)
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(0.5)


def test_serialization_round_trip():
    schedule = WarmupCosineDecay(peak_learning_rate=0.6, total_steps=1000, warmup_steps=100)
    revived = assert_serializable(schedule)
    assert revived.get_config() == {
        "peak_learning_rate": 0.6,
        "total_steps": 1000,
        "warmup_steps": 100,
    }
    assert lr_at(revived, 550) == pytest.approx(lr_at(schedule, 550))


@pytest.mark.parametrize(
    "args",
    [
        (1.0, 10, 11),  # warm-up longer than the run
        (1.0, 10, -1),
        (1.0, 0, 0),
        (1.0, -5, 0),
        (-1.0, 10, 2),
        (1.0, 10.5, 2),
        (1.0, 10, "2"),
    ],
)
def test_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        WarmupCosineDecay(*args)
