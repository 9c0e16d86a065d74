import math

import keras
import numpy as np
import pytest
from gradients import value_and_grad
from testing_utils import assert_serializable

from simclr_keras3 import NTXentLoss, backends

CONVENTIONS = ("mean", "sum_of_directions")


# === NumPy reference: the paper's eq. (1), one anchor at a time, in float64 ===


def reference_per_anchor(z_a, z_b, temperature):
    """ℓ for each of the 2N anchors, ordered [views a; views b]."""
    z = np.concatenate([z_a, z_b]).astype(np.float64)
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    two_n = len(z)
    n = two_n // 2
    losses = np.zeros(two_n)
    for i in range(two_n):
        positive = (i + n) % two_n
        sim = [z[i] @ z[k] / temperature for k in range(two_n)]
        denominator = sum(math.exp(sim[k]) for k in range(two_n) if k != i)
        losses[i] = -math.log(math.exp(sim[positive]) / denominator)
    return losses


def reference_loss(z_a, z_b, temperature, convention="mean"):
    mean = reference_per_anchor(z_a, z_b, temperature).mean()
    return mean if convention == "mean" else 2.0 * mean


def reference_accuracy(z_a, z_b):
    z = np.concatenate([z_a, z_b]).astype(np.float64)
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    two_n = len(z)
    n = two_n // 2
    hits = 0
    for i in range(two_n):
        others = [k for k in range(two_n) if k != i]
        best = max(others, key=lambda k: z[i] @ z[k])
        hits += best == (i + n) % two_n
    return hits / two_n


def finite_difference_grads(f, z_a, z_b, eps=1e-6):
    grads = []
    for which in range(2):
        args = [z_a.astype(np.float64), z_b.astype(np.float64)]
        grad = np.zeros_like(args[which])
        for index in np.ndindex(grad.shape):
            plus = [a.copy() for a in args]
            minus = [a.copy() for a in args]
            plus[which][index] += eps
            minus[which][index] -= eps
            grad[index] = (f(*plus) - f(*minus)) / (2 * eps)
        grads.append(grad)
    return grads


def views(n, d, seed=0, noise=0.5):
    rng = np.random.default_rng(seed)
    z_a = rng.normal(size=(n, d)).astype(np.float32)
    z_b = (z_a + noise * rng.normal(size=(n, d))).astype(np.float32)
    return z_a, z_b


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


# === Value ===


# Every N in (1, 2, 5, 16) and every D in (3, 8, 128), without the full cross product: on JAX each
# new shape costs a compilation of every op, and CI machines are small. The other tests reuse
# these shapes.
SHAPES = [(1, 3), (2, 8), (5, 8), (16, 8), (16, 128)]
TEMPERATURES = (0.05, 0.1, 0.5, 1.0)


@pytest.mark.parametrize("n, d", SHAPES)
def test_matches_reference(n, d):
    z_a, z_b = views(n, d, seed=n * 1000 + d)
    for temperature in TEMPERATURES:
        for convention in CONVENTIONS:
            loss = NTXentLoss(temperature=temperature, convention=convention)(z_a, z_b)
            assert "float32" in str(loss.dtype)
            assert tuple(loss.shape) == ()
            np.testing.assert_allclose(
                numpy(loss),
                reference_loss(z_a, z_b, temperature, convention),
                rtol=1e-5,
                atol=1e-4,
                err_msg=f"{temperature=}, {convention=}",
            )


def test_sum_of_directions_is_twice_mean():
    z_a, z_b = views(5, 8)
    mean = numpy(NTXentLoss(convention="mean")(z_a, z_b))
    total = numpy(NTXentLoss(convention="sum_of_directions")(z_a, z_b))
    np.testing.assert_allclose(total, 2 * mean, rtol=1e-6)


@pytest.mark.parametrize("n, d", SHAPES)
def test_equal_similarities_give_log_2n_minus_1(n, d):
    # Every view identical: the positive and all 2N-2 negatives share one logit.
    z = np.ones((n, d), np.float32)
    for convention, factor in (("mean", 1.0), ("sum_of_directions", 2.0)):
        loss = NTXentLoss(temperature=0.1, convention=convention)(z, z)
        np.testing.assert_allclose(numpy(loss), factor * math.log(2 * n - 1), atol=1e-5)


def test_symmetric_in_the_two_views():
    z_a, z_b = views(5, 8)
    loss = NTXentLoss(temperature=0.2)
    np.testing.assert_allclose(numpy(loss(z_a, z_b)), numpy(loss(z_b, z_a)), rtol=1e-6)


def test_invariant_to_scaling_of_projections():
    z_a, z_b = views(5, 8)
    rng = np.random.default_rng(3)
    row_scale = rng.uniform(0.01, 100.0, size=(5, 1)).astype(np.float32)
    loss = NTXentLoss(temperature=0.1)
    base = numpy(loss(z_a, z_b))
    np.testing.assert_allclose(numpy(loss(3.0 * z_a, 0.01 * z_b)), base, rtol=1e-5)
    np.testing.assert_allclose(numpy(loss(row_scale * z_a, z_b)), base, rtol=1e-5)


def test_one_pair_is_zero_loss_and_full_accuracy():
    z_a, z_b = views(1, 3, noise=3.0)
    for convention in CONVENTIONS:
        loss_fn = NTXentLoss(convention=convention)
        loss, accuracy = loss_fn.loss_and_accuracy(z_a, z_b)
        assert numpy(loss) == 0.0
        assert numpy(accuracy) == 1.0
        _, grads = value_and_grad(loss_fn, z_a, z_b)
        for grad in grads:
            assert np.all(np.isfinite(grad))
            np.testing.assert_allclose(grad, 0.0, atol=1e-7)


def test_zero_projection_stays_finite():
    z_a, z_b = views(5, 8)
    z_a[1] = 0.0
    value, grads = value_and_grad(NTXentLoss(), z_a, z_b)
    assert np.isfinite(value)
    assert all(np.all(np.isfinite(g)) for g in grads)


# === Gradients ===


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("temperature", [0.1, 0.5])
def test_gradients_match_finite_differences(temperature, convention):
    z_a, z_b = views(5, 8, seed=11, noise=1.5)
    loss_fn = NTXentLoss(temperature=temperature, convention=convention)
    value, (grad_a, grad_b) = value_and_grad(loss_fn, z_a, z_b)
    expected_a, expected_b = finite_difference_grads(
        lambda a, b: reference_loss(a, b, temperature, convention), z_a, z_b
    )
    expected = reference_loss(z_a, z_b, temperature, convention)
    np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-5)
    scale = max(np.abs(expected_a).max(), np.abs(expected_b).max())
    np.testing.assert_allclose(grad_a, expected_a, rtol=1e-3, atol=1e-5 * scale)
    np.testing.assert_allclose(grad_b, expected_b, rtol=1e-3, atol=1e-5 * scale)


def test_compiled_value_and_gradients_match_eager():
    # jax.jit / tf.function (graph mode), as inside a training step; torch stays eager.
    z_a, z_b = views(5, 8, seed=12, noise=1.0)
    loss_fn = NTXentLoss(temperature=0.2)
    eager_value, eager_grads = value_and_grad(loss_fn, z_a, z_b)
    value, grads = value_and_grad(loss_fn, z_a, z_b, jit=True)
    np.testing.assert_allclose(value, eager_value, rtol=1e-6)
    for grad, eager_grad in zip(grads, eager_grads):
        np.testing.assert_allclose(grad, eager_grad, rtol=1e-5, atol=1e-7)


# === Low precision ===


def _rounded(x, dtype):
    return numpy(keras.ops.cast(keras.ops.cast(x, dtype), "float32"))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("magnitude", [1e-4, 1.0, 1e4])
def test_low_precision_inputs_are_finite_and_accurate(dtype, magnitude):
    # (1e4)² overflows float16 and 1e-4² underflows it: only casting before normalizing survives.
    z_a, z_b = views(16, 8, seed=5)
    z_a, z_b = magnitude * z_a, magnitude * z_b
    loss_fn = NTXentLoss(temperature=0.05)
    value, grads = value_and_grad(loss_fn, z_a, z_b, dtype=dtype)
    assert np.isfinite(value)
    assert all(np.all(np.isfinite(g.astype(np.float32))) for g in grads)
    assert grads[0].dtype.name == dtype
    expected = reference_loss(_rounded(z_a, dtype), _rounded(z_b, dtype), 0.05)
    np.testing.assert_allclose(value, expected, rtol=1e-4, atol=1e-4)


@pytest.fixture
def mixed_policy(request):
    keras.mixed_precision.set_global_policy(request.param)
    try:
        yield request.param
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("mixed_policy", ["mixed_float16", "mixed_bfloat16"], indirect=True)
def test_under_mixed_precision_policy(mixed_policy):
    head = keras.layers.Dense(8)
    loss_fn = NTXentLoss(temperature=0.1)
    x_a, x_b = views(5, 8, seed=2)

    def loss_of_inputs(x_a, x_b):
        z_a, z_b = head(x_a), head(x_b)
        assert "16" in str(z_a.dtype)  # the head really computes in half precision
        return loss_fn(z_a, z_b)

    value, grads = value_and_grad(loss_of_inputs, x_a, x_b)
    assert np.isfinite(value)
    assert all(np.all(np.isfinite(g)) for g in grads)
    loss = loss_fn(head(x_a), head(x_b))
    assert "float32" in str(loss.dtype)


# === Accuracy ===


@pytest.mark.parametrize("noise", [0.1, 1.0, 3.0])
def test_accuracy_matches_reference(noise):
    z_a, z_b = views(16, 8, seed=7, noise=noise)
    loss, accuracy = NTXentLoss(temperature=0.5).loss_and_accuracy(z_a, z_b)
    np.testing.assert_allclose(numpy(accuracy), reference_accuracy(z_a, z_b), atol=1e-7)
    np.testing.assert_allclose(numpy(loss), reference_loss(z_a, z_b, 0.5), rtol=1e-5)


def test_accuracy_is_one_for_identical_views_of_distinct_images():
    z = np.eye(5, 8, dtype=np.float32)
    _, accuracy = NTXentLoss().loss_and_accuracy(z, z)
    assert numpy(accuracy) == 1.0


# === Distributed indexing: local anchors against gathered global candidates ===


def test_local_anchors_against_global_candidates(monkeypatch):
    replicas, n, d, temperature = 3, 2, 8, 0.2
    z_a, z_b = views(replicas * n, d, seed=9)
    per_anchor = reference_per_anchor(z_a, z_b, temperature)
    normalized = {
        name: z / np.linalg.norm(z, axis=1, keepdims=True) for name, z in (("a", z_a), ("b", z_b))
    }
    global_n = replicas * n
    losses = []
    for replica in range(replicas):
        rows = slice(replica * n, (replica + 1) * n)

        def fake_all_gather(x, rows=rows):
            # Which view is being gathered: the local block it equals. Keep x itself in its
            # block so that the result depends on it as a real gather would.
            local = numpy(x)
            name = "a" if np.allclose(local, normalized["a"][rows], atol=1e-6) else "b"
            full = keras.ops.convert_to_tensor(normalized[name].astype(np.float32))
            return keras.ops.concatenate([full[: rows.start], x, full[rows.stop :]], axis=0)

        monkeypatch.setattr(backends, "all_gather", fake_all_gather)
        monkeypatch.setattr(backends, "replica_id", lambda replica=replica: replica)
        loss = numpy(NTXentLoss(temperature=temperature)(z_a[rows], z_b[rows]))
        local_anchors = np.r_[np.arange(global_n)[rows], global_n + np.arange(global_n)[rows]]
        np.testing.assert_allclose(loss, per_anchor[local_anchors].mean(), rtol=1e-5)
        losses.append(loss)
    np.testing.assert_allclose(np.mean(losses), per_anchor.mean(), rtol=1e-5)


# === Config and validation ===


def test_serialization_round_trip():
    z_a, z_b = views(5, 8)
    loss = NTXentLoss(temperature=0.5, convention="sum_of_directions", name="contrastive")
    revived = assert_serializable(loss, z_a, z_b)
    assert revived.temperature == 0.5
    assert revived.convention == "sum_of_directions"
    assert revived.name == "contrastive"


@pytest.mark.parametrize(
    "kwargs", [{"temperature": 0.0}, {"temperature": -1.0}, {"convention": "sum"}]
)
def test_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        NTXentLoss(**kwargs)


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((4, 8), (5, 8)), ((4, 8), (4, 7)), ((0, 8), (0, 8)), ((4,), (4,)), ((2, 4, 8), (2, 4, 8))],
)
def test_rejects_bad_shapes(shape_a, shape_b):
    with pytest.raises(ValueError):
        NTXentLoss()(np.ones(shape_a, np.float32), np.ones(shape_b, np.float32))


# === In a compiled training step ===


class TwoViewModel(keras.Model):
    """Embeds both views of each example; the loss is NT-Xent between them."""

    def __init__(self):
        super().__init__()
        self.head = keras.layers.Dense(8)
        self.nt_xent = NTXentLoss(temperature=0.5)

    def call(self, x):
        return self.head(x)  # (batch, 2, features) → (batch, 2, 8)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return self.nt_xent(y_pred[:, 0], y_pred[:, 1])


@pytest.mark.slow
def test_trains_inside_fit():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(32, 1, 6)).astype(np.float32)
    x = np.concatenate([images, images + 0.3 * rng.normal(size=images.shape)], axis=1)
    x = x.astype(np.float32)
    keras.utils.set_random_seed(0)
    model = TwoViewModel()
    model.compile(optimizer=keras.optimizers.SGD(0.5))
    history = model.fit(x, batch_size=16, epochs=5, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < losses[0], losses
