import math

import keras
import numpy as np
import pytest
from testing_utils import assert_serializable

from simclr_keras3 import LARS, WarmupCosineDecay

# === NumPy reference of the official update, in float64 ===


def reference_lars(
    weights,
    grads_per_step,
    learning_rates,
    decay,
    adapt,
    momentum=0.9,
    weight_decay=1e-6,
    trust_coefficient=0.001,
    nesterov=False,
):
    """Weights after one LARS step per entry of ``grads_per_step``.

    ``decay[i]`` / ``adapt[i]``: whether variable ``i`` gets weight decay / the trust ratio.
    """
    weights = [np.asarray(w, np.float64).copy() for w in weights]
    velocities = [np.zeros_like(w) for w in weights]
    for grads, lr in zip(grads_per_step, learning_rates):
        for i, (w, v) in enumerate(zip(weights, velocities)):
            g = np.asarray(grads[i], np.float64)
            if decay[i]:
                g = g + weight_decay * w
            trust = 1.0
            w_norm, g_norm = np.linalg.norm(w), np.linalg.norm(g)
            if adapt[i] and w_norm > 0 and g_norm > 0:
                trust = trust_coefficient * w_norm / g_norm
            scaled_lr = lr * trust
            v[...] = momentum * v + scaled_lr * g
            update = momentum * v + scaled_lr * g if nesterov else v
            w -= update
    return weights


def make_variables(values):
    """``{path: array}`` → keras Variables with exactly those paths."""
    variables = []
    for path, value in values.items():
        scope, _, name = path.rpartition("/")
        if scope:
            with keras.name_scope(scope):
                variables.append(keras.Variable(value, name=name))
        else:
            variables.append(keras.Variable(value, name=name))
        assert variables[-1].path == path
    return variables


def random_problem(paths_and_shapes, steps, seed=0):
    rng = np.random.default_rng(seed)
    weights = {p: rng.normal(size=s).astype(np.float32) for p, s in paths_and_shapes.items()}
    grads = [
        [rng.normal(size=s).astype(np.float32) for s in paths_and_shapes.values()]
        for _ in range(steps)
    ]
    return weights, grads


def run(optimizer, weights, grads_per_step):
    variables = make_variables(weights)
    for grads in grads_per_step:
        optimizer.apply([keras.ops.convert_to_tensor(g) for g in grads], variables)
    return [keras.ops.convert_to_numpy(v) for v in variables]


def assert_same_updates(actual, expected, initial):
    # Compare the moves, not the weights: the moves are small next to the weights.
    for a, e, w0 in zip(actual, expected, initial):
        np.testing.assert_allclose(a - w0, e - w0, rtol=2e-4, atol=1e-6)


# kernel: decayed and adapted; bias (rank 1 and "bias" in its path), gamma (rank 1 only) and
# batch_norm/kernel (rank 2, "batch_norm" in its path): neither.
SHAPES = {
    "dense/kernel": (4, 3),
    "dense/bias": (3,),
    "bn/gamma": (3,),
    "batch_norm/kernel": (3, 3),
}
DEFAULT_DECAY = [True, False, False, False]


# === Updates against the reference ===


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("steps", [1, 3])
def test_matches_reference(steps, nesterov):
    weights, grads = random_problem(SHAPES, steps, seed=steps)
    hyper = dict(momentum=0.9, weight_decay=0.05, trust_coefficient=0.01, nesterov=nesterov)
    optimizer = LARS(learning_rate=0.5, **hyper)
    actual = run(optimizer, weights, grads)
    initial = list(weights.values())
    expected = reference_lars(
        initial, grads, [0.5] * steps, DEFAULT_DECAY, DEFAULT_DECAY, **hyper
    )
    assert_same_updates(actual, expected, initial)


def test_matches_reference_with_a_schedule():
    weights, grads = random_problem(SHAPES, 4, seed=4)
    schedule = WarmupCosineDecay(peak_learning_rate=0.8, total_steps=4, warmup_steps=2)
    # iterations 0..3: warm-up 0, 0.4; then 0.8·½(1 + cos(π·k/2)) for k = 0, 1.
    learning_rates = [0.0, 0.4, 0.8, 0.4]
    optimizer = LARS(learning_rate=schedule, weight_decay=0.01, trust_coefficient=0.02)
    actual = run(optimizer, weights, grads)
    initial = list(weights.values())
    expected = reference_lars(
        initial,
        grads,
        learning_rates,
        DEFAULT_DECAY,
        DEFAULT_DECAY,
        weight_decay=0.01,
        trust_coefficient=0.02,
    )
    assert_same_updates(actual, expected, initial)


def test_exclude_vectors_false_decays_and_adapts_vectors_not_matching_a_substring():
    weights, grads = random_problem(SHAPES, 2, seed=5)
    optimizer = LARS(
        learning_rate=0.3, weight_decay=0.1, trust_coefficient=0.05, exclude_vectors=False
    )
    actual = run(optimizer, weights, grads)
    initial = list(weights.values())
    flags = [True, False, True, False]  # bn/gamma is now in; the two substrings still exclude
    expected = reference_lars(
        initial, grads, [0.3, 0.3], flags, flags, weight_decay=0.1, trust_coefficient=0.05
    )
    assert_same_updates(actual, expected, initial)


def test_separate_layer_adaptation_exclusions():
    shapes = {"dense/kernel": (4, 3), "head/kernel": (3, 2), "dense/bias": (3,)}
    weights, grads = random_problem(shapes, 2, seed=6)
    optimizer = LARS(
        learning_rate=0.3,
        weight_decay=0.1,
        trust_coefficient=0.05,
        exclude_from_weight_decay=["bias"],
        exclude_from_layer_adaptation=["head"],
        exclude_vectors=False,
    )
    actual = run(optimizer, weights, grads)
    initial = list(weights.values())
    expected = reference_lars(
        initial,
        grads,
        [0.3, 0.3],
        decay=[True, True, False],
        adapt=[True, False, True],
        weight_decay=0.1,
        trust_coefficient=0.05,
    )
    assert_same_updates(actual, expected, initial)


def test_keras_exclude_from_weight_decay_method_is_honoured():
    shapes = {"dense/kernel": (4, 3), "head/kernel": (3, 2)}
    weights, grads = random_problem(shapes, 1, seed=7)
    variables = make_variables(weights)
    optimizer = LARS(learning_rate=0.3, weight_decay=0.1, trust_coefficient=0.05)
    optimizer.exclude_from_weight_decay(var_list=variables[1:])
    optimizer.apply([keras.ops.convert_to_tensor(g) for g in grads[0]], variables)
    actual = [keras.ops.convert_to_numpy(v) for v in variables]
    initial = list(weights.values())
    flags = [True, False]
    expected = reference_lars(
        initial, grads, [0.3], flags, flags, weight_decay=0.1, trust_coefficient=0.05
    )
    assert_same_updates(actual, expected, initial)


def test_excluded_variables_take_a_plain_momentum_sgd_step():
    # A huge weight decay and a tiny trust coefficient make any leak obvious.
    weights, grads = random_problem({"dense/bias": (5,), "batch_norm/kernel": (2, 2)}, 1)
    optimizer = LARS(learning_rate=0.1, weight_decay=10.0, trust_coefficient=1e-4)
    actual = run(optimizer, weights, grads)
    for a, w0, g in zip(actual, weights.values(), grads[0]):
        np.testing.assert_allclose(a, w0 - 0.1 * g, rtol=1e-6, atol=1e-7)


def test_keras_decoupled_weight_decay_is_off():
    optimizer = LARS(weight_decay=0.5)
    assert optimizer.weight_decay == 0.5
    variable = make_variables({"dense/kernel": np.ones((2, 2), np.float32)})[0]
    optimizer.apply([keras.ops.zeros((2, 2))], [variable])
    # g = wd·w = 0.5 → trust = η·‖w‖/‖g‖ = 0.002 → w ← 1 − 0.1·0.002·0.5. Decoupled decay would
    # also subtract lr·wd·w = 0.05.
    np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), 1 - 1e-4, rtol=1e-6)


# === Zero norms: trust ratio 1 ===


def test_zero_weight_gets_trust_one():
    grad = np.array([[0.5, -1.0], [2.0, 0.0]], np.float32)
    optimizer = LARS(learning_rate=0.1, weight_decay=0.1)
    (actual,) = run(optimizer, {"dense/kernel": np.zeros((2, 2), np.float32)}, [[grad]])
    np.testing.assert_allclose(actual, -0.1 * grad, rtol=1e-6)


def test_zero_gradient_is_finite_and_keeps_momentum():
    w0 = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)
    grads = [[np.ones((2, 2), np.float32)], [np.zeros((2, 2), np.float32)]]
    hyper = dict(weight_decay=0.0, trust_coefficient=0.01)
    (actual,) = run(LARS(learning_rate=0.2, **hyper), {"dense/kernel": w0}, grads)
    (expected,) = reference_lars([w0], grads, [0.2, 0.2], [True], [True], **hyper)
    assert np.all(np.isfinite(actual))
    np.testing.assert_allclose(actual - w0, expected - w0, rtol=1e-5)


def test_zero_weight_and_zero_gradient_stay_zero():
    zeros = np.zeros((3, 2), np.float32)
    (actual,) = run(LARS(), {"dense/kernel": zeros}, [[zeros]])
    assert np.all(actual == 0.0)


# === Config ===


def test_config_round_trip():
    optimizer = LARS(
        learning_rate=0.7,
        momentum=0.8,
        weight_decay=1e-4,
        trust_coefficient=0.002,
        nesterov=True,
        exclude_from_weight_decay=["bn", "bias", "head_supervised"],
        exclude_from_layer_adaptation=["bias"],
        exclude_vectors=False,
        name="my_lars",
        clipnorm=1.0,
    )
    revived = assert_serializable(optimizer)
    config = revived.get_config()
    assert config["weight_decay"] == 1e-4
    assert config["learning_rate"] == pytest.approx(0.7)
    assert config["exclude_from_weight_decay"] == ["bn", "bias", "head_supervised"]
    assert config["exclude_from_layer_adaptation"] == ["bias"]
    assert (config["momentum"], config["trust_coefficient"]) == (0.8, 0.002)
    assert (config["nesterov"], config["exclude_vectors"], config["clipnorm"]) == (True, False, 1.0)


def test_config_round_trip_with_schedule():
    schedule = WarmupCosineDecay(peak_learning_rate=1.2, total_steps=100, warmup_steps=10)
    revived = assert_serializable(LARS(learning_rate=schedule))
    config = revived.get_config()
    assert config["learning_rate"]["class_name"] == "WarmupCosineDecay"
    assert config["learning_rate"]["config"] == schedule.get_config()
    assert config["exclude_from_layer_adaptation"] is None


def test_integer_learning_rate_is_accepted():
    assert LARS(learning_rate=1).get_config()["learning_rate"] == 1.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"momentum": -0.1},
        {"momentum": 1.5},
        {"weight_decay": -1.0},
        {"trust_coefficient": 0.0},
        {"exclude_from_weight_decay": "bias"},
        {"exclude_from_layer_adaptation": [""]},
    ],
)
def test_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        LARS(**kwargs)


# === Training ===


@pytest.mark.slow
def test_trains_a_small_model_with_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype(np.float32)
    y = (x @ rng.normal(size=(6, 1)) + 0.3).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(
        optimizer=LARS(learning_rate=0.5, trust_coefficient=0.02, weight_decay=1e-4), loss="mse"
    )
    history = model.fit(x, y, batch_size=16, epochs=6, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < 0.7 * losses[0], losses
