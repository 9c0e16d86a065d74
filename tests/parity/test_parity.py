"""Cross-backend parity: the running backend (KERAS_BACKEND) against the float64 reference.

Every test loads a committed fixture (``fixtures/*.npz``, written by ``make_fixtures.py`` from
``reference.py``: plain float64 NumPy, never keras), runs the library on the same float32 inputs
and compares. Running this file once per backend and finding every backend within tolerance of
the ONE reference is what "the same numbers on JAX, PyTorch and TensorFlow" means here.

Each comparison records ``{op, backend, max_abs, max_rel, rtol, atol}`` (``parity_report.py``); with
``PARITY_REPORT`` set, the rows go to that JSON file (``print_table.py`` prints op × backend).
"""

import pathlib

import keras
import numpy as np
import pytest
import parity_report as report
from fixture_io import decode_weights, unpack
from gradients import to_numpy, value_and_grad

from simclr_keras3 import LARS, NTXentLoss, ProjectionHead, ResNet, WarmupCosineDecay
from simclr_keras3.augmentation import (
    ColorJitter,
    RandomGaussianBlur,
    RandomGrayscale,
    RandomHorizontalFlip,
    RandomResizedCrop,
    SimCLRAugment,
    image_ops,
)

BACKEND = keras.backend.backend()
FIXTURES = pathlib.Path(__file__).with_name("fixtures")
ROWS = []

# === Tolerances (rtol, atol); see the README's "Parity" section ===
# float32 end to end: ~1e-5 relative. The absolute floors are where values are ~0.
FLOAT32 = (1e-5, 1e-6)
# Images in [0, 1]: 1e-5 of the full range. Resampling weights come from float32 coordinates
# (error ~1e-6 at 32 px) and the HSV round trip divides by the chroma, so a near-gray pixel's
# hue is ill-conditioned (its RGB is not: the error is scaled back by the chroma).
IMAGE = (1e-5, 1e-5)
# The encoders (see ``encoder_tolerance``): normwise, scaled by each fixture's conditioning.


def load(name):
    with np.load(FIXTURES / f"{name}.npz") as fixture:
        return dict(fixture)


def compare(op, actual, expected, tolerance, err_msg=""):
    """Record the errors of ``actual`` against the reference (``ROWS``), then assert."""
    report.compare(ROWS, op, BACKEND, actual, expected, tolerance, err_msg)


@pytest.fixture(scope="module", autouse=True)
def write_report():
    yield
    report.write(ROWS)


def compiled(fn):
    """``fn`` as a training step runs it: jax.jit, tf.function with XLA; torch stays eager
    (Keras trains eagerly on torch unless asked otherwise)."""
    if BACKEND == "jax":
        import jax

        return jax.jit(fn)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    return fn


# === NT-Xent: loss and gradient w.r.t. both projection batches ===

NT_XENT = load("nt_xent")
NT_XENT_CASES = sorted({key.split("/")[0] for key in NT_XENT})


# Every case compiled, as in a training step; two also eagerly (on JAX each eager op compiles
# for its shapes, so eagerly everywhere would cost ~30 s for little: eager ≡ jit here).
CONVENTIONS = ("mean", "sum_of_directions")
NT_XENT_RUNS = [(case, convention, True) for case in NT_XENT_CASES for convention in CONVENTIONS]
NT_XENT_RUNS += [("n4_d8_t0.5", "mean", False), ("n16_d32_t1.0_scaled", "sum_of_directions", False)]


@pytest.mark.parametrize("case, convention, jit", NT_XENT_RUNS,
                         ids=[f"{c}-{v}-{'jit' if j else 'eager'}" for c, v, j in NT_XENT_RUNS])
def test_nt_xent_loss_and_gradients(case, convention, jit):
    f = {k[len(case) + 1 :]: v for k, v in NT_XENT.items() if k.startswith(case + "/")}
    loss_fn = NTXentLoss(temperature=float(f["temperature"]), convention=convention)
    loss, (grad_a, grad_b) = value_and_grad(loss_fn, f["z_a"], f["z_b"], jit=jit)
    compare("nt_xent loss", loss, f[f"{convention}/loss"], FLOAT32, case)
    # The gradient's scale follows 1/‖z‖ (the "scaled" case is 100x smaller): floor relative
    # to the largest component, not a fixed number.
    want_a, want_b = f[f"{convention}/grad_a"], f[f"{convention}/grad_b"]
    scale = max(np.abs(want_a).max(), np.abs(want_b).max(), 1e-30)
    tolerance = (FLOAT32[0], FLOAT32[1] * scale)
    compare("nt_xent grad z_a", grad_a, want_a, tolerance, case)
    compare("nt_xent grad z_b", grad_b, want_b, tolerance, case)


# === Augmentation: given parameters, every backend draws the same images ===

AUG = load("augmentation")


@pytest.mark.parametrize("size", [16, 24])
@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_crop_and_resize(interpolation, size):
    layer = RandomResizedCrop(size, interpolation=interpolation)
    out = layer.apply(AUG["images32"], {"boxes": AUG["crop/boxes"]})
    expected = AUG[f"crop/{interpolation}/{size}"]
    compare(f"crop+resize {interpolation}", to_numpy(out), expected, IMAGE, f"size {size}")


def test_flip():
    out = RandomHorizontalFlip().apply(AUG["images16"], {"flip": AUG["flip/flags"]})
    compare("flip", to_numpy(out), AUG["flip/expected"], IMAGE)


def test_grayscale():
    out = RandomGrayscale().apply(AUG["images16"], {"apply": AUG["grayscale/flags"]})
    compare("grayscale", to_numpy(out), AUG["grayscale/expected"], IMAGE)


@pytest.mark.parametrize(
    "op, function",
    [
        ("brightness", image_ops.adjust_brightness),
        ("contrast", image_ops.adjust_contrast),
        ("saturation", image_ops.adjust_saturation),
        ("hue", image_ops.adjust_hue),
    ],
)
def test_colour_op(op, function):
    out = function(AUG["images16"], AUG[f"{op}/factors"])
    compare(op, to_numpy(out), AUG[f"{op}/expected"], IMAGE)


def _jitter_parameters(prefix):
    keys = ("apply", "brightness", "contrast", "saturation", "hue", "order")
    return {k: AUG[f"{prefix}/{k}"] for k in keys}


def test_color_jitter_in_a_per_image_order():
    out = ColorJitter().apply(AUG["images16"], _jitter_parameters("color_jitter"))
    expected = AUG["color_jitter/expected"]
    compare("color_jitter (4 ops, per-image order)", to_numpy(out), expected, IMAGE)


@pytest.mark.parametrize("padding", ["reflect", "zeros"])
@pytest.mark.parametrize("kernel_size", [3, 5])
def test_gaussian_blur(kernel_size, padding):
    layer = RandomGaussianBlur(kernel_size=kernel_size, padding=padding)
    out = layer.apply(AUG["images16"], {"apply": AUG["blur/apply"], "sigma": AUG["blur/sigma"]})
    expected = AUG[f"blur/{kernel_size}/{padding}"]
    compare(f"blur {padding}", to_numpy(out), expected, IMAGE, f"kernel {kernel_size}")


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_simclr_view(jit):
    """A whole view (crop → flip → jitter → grayscale → blur), as the model runs it."""
    augment = SimCLRAugment(24, jitter_strength=0.5)
    stages = {"crop": ["boxes"], "flip": ["flip"], "grayscale": ["apply"],
              "blur": ["apply", "sigma"]}
    view = {stage: {k: AUG[f"view/{stage}/{k}"] for k in keys} for stage, keys in stages.items()}
    view["color_jitter"] = _jitter_parameters("view/color_jitter")
    apply_view = augment.apply_view
    if jit:
        tensors = keras.tree.map_structure(keras.ops.convert_to_tensor, view)
        images = keras.ops.convert_to_tensor(AUG["images32"])
        out = compiled(apply_view)(images, tensors)
    else:
        out = apply_view(AUG["images32"], view)
    mode = "jit" if jit else "eager"
    compare("SimCLRAugment.apply_view", to_numpy(out), AUG["view/expected"], IMAGE, mode)


# === Encoder and projection head: fixed weights, training and inference mode ===


def encoder_tolerance(fixture, mode):
    """``(rtol, atol)`` for an encoder output: 1e-5 relative plus a normwise floor.

    A ResNet is 8-17 batch-normalised blocks of float32 convolutions whose summation order
    differs per backend (XLA, oneDNN, Eigen); rounding anywhere reaches every feature of h, so
    the error scales with the output's range, not with each (often near-0) entry. The floor is
    ``max(1e-5, 5·s) · max|h|``, with ``s`` the fixture's own conditioning (``make_fixtures.
    sensitivity``: how far the EXACT output moves when inputs and weights move by one float32
    rounding). s is ≤ 5e-7 in inference mode but 1e-6 to 8e-6 in training mode, where batch norm
    divides by batch standard deviations of a few values: no float32 code can beat s, and the
    factor 5 covers the rounding of every later op (Keras' torch backend also computes the batch
    variance as E[x²] − E[x]², which cancels when the mean dominates).
    """
    floor = max(1e-5, 5.0 * float(fixture[f"{mode}/sensitivity"]))
    return 1e-5, floor * float(np.abs(fixture[f"{mode}/h"]).max())


def _build_for_fixture(layer, input_shape):
    """Build with constant initial values: the fixture replaces every one of them, and on JAX
    each distinct kernel shape would compile its own random initializer (~17 s for a ResNet-18)."""
    for sublayer in layer._flatten_layers():
        if hasattr(sublayer, "kernel_initializer"):
            sublayer.kernel_initializer = keras.initializers.Zeros()
    layer.build(input_shape)


def _set_weights(layer, weights):
    """Assign reference weights by variable path; the paths and shapes must match exactly."""
    variables = {v.path: v for v in layer.variables}
    assert sorted(variables) == sorted(weights), "the layer's variables differ from the reference's"
    for path, value in weights.items():
        assert tuple(variables[path].shape) == value.shape, path
        variables[path].assign(value)
    return variables


def _forward(layer, inputs, training):
    """``layer(inputs, training=training)`` as a train or predict step runs it: stateless and
    compiled (``compiled``), the new moving statistics then written back to the variables."""
    trainable = [v.value for v in layer.trainable_variables]
    non_trainable = [v.value for v in layer.non_trainable_variables]

    def step(trainable, non_trainable, x):
        return layer.stateless_call(trainable, non_trainable, x, training=training)

    inputs = keras.ops.convert_to_tensor(inputs)
    out, non_trainable = compiled(step)(trainable, non_trainable, inputs)
    for variable, value in zip(layer.non_trainable_variables, non_trainable):
        variable.assign(value)
    return to_numpy(out)


ENCODER_FIXTURES = sorted(p.stem for p in FIXTURES.glob("encoder_*.npz"))


@pytest.mark.parametrize("name", ENCODER_FIXTURES)
def test_encoder_forward(name):
    f = load(name)
    depth, width, cifar_stem = int(f["depth"]), float(f["width"]), bool(f["cifar_stem"])
    encoder = ResNet(depth, width_multiplier=width, cifar_stem=cifar_stem, name="encoder")
    _build_for_fixture(encoder, (None,) + f["images"].shape[1:])
    variables = _set_weights(encoder, decode_weights(f))
    label = f"resnet{depth}{' cifar' if cifar_stem else ' imagenet'}-stem"

    h = _forward(encoder, f["images"], training=False)  # first: inference mode moves nothing
    tolerance = encoder_tolerance(f, "inference")
    compare(f"{label} h (inference BN)", h, f["inference/h"], tolerance, name)
    h = _forward(encoder, f["images"], training=True)
    compare(f"{label} h (training BN)", h, f["train/h"], encoder_tolerance(f, "train"), name)
    # The moved statistics carry the batch moments of every layer: the same conditioning as h,
    # so the same normwise floor, per variable.
    floor = max(1e-6, 5.0 * float(f["train/sensitivity"]))
    for path, expected in unpack(f, "moved").items():
        tolerance = (1e-5, floor * float(np.abs(expected).max()))
        actual = to_numpy(variables[path])
        compare(f"{label} BN moving stats", actual, expected, tolerance, f"{name} {path}")


HEAD = load("projection_head")


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_projection_head_forward(version):
    f = {k[3:]: v for k, v in HEAD.items() if k.startswith(version + "/")}
    factory = ProjectionHead.v1 if version == "v1" else ProjectionHead.v2
    head = factory(hidden_dim=16, output_dim=8, name="projection_head")
    _build_for_fixture(head, (None, f["h"].shape[1]))
    variables = _set_weights(head, decode_weights(f))
    z = _forward(head, f["h"], training=False)
    compare(f"head {version} z (inference BN)", z, f["inference/z"], FLOAT32)
    z = _forward(head, f["h"], training=True)
    compare(f"head {version} z (training BN)", z, f["train/z"], FLOAT32)
    moved = unpack(f, "moved")
    actual = np.concatenate([to_numpy(variables[p]).ravel() for p in moved])
    expected = np.concatenate([v.ravel() for v in moved.values()])
    compare(f"head {version} BN moving stats", actual, expected, FLOAT32)


# === LARS steps and the learning-rate schedule ===

LARS_FIXTURE = load("lars")
LARS_OPTIONS = {  # the optimizer arguments each fixture case was computed with
    "one_step": dict(momentum=0.9, weight_decay=1e-4, trust_coefficient=0.001),
    "five_steps_schedule": dict(momentum=0.9, weight_decay=1e-4, trust_coefficient=0.001),
    "four_steps_nesterov": dict(
        momentum=0.9, weight_decay=5e-2, trust_coefficient=0.01, nesterov=True),
    "three_steps_custom_exclusions": dict(
        momentum=0.8, weight_decay=1e-2, trust_coefficient=0.02, exclude_vectors=False,
        exclude_from_weight_decay=["batch_norm", "bias"], exclude_from_layer_adaptation=["bias"],
    ),
}


LARS_LABELS = {
    "one_step": "LARS 1 step",
    "five_steps_schedule": "LARS 5 steps, warm-up + cosine",
    "four_steps_nesterov": "LARS 4 steps, Nesterov",
    "three_steps_custom_exclusions": "LARS 3 steps, exclusions",
}


def _variable(path, value):
    scope, _, name = path.rpartition("/")
    with keras.name_scope(scope):
        variable = keras.Variable(value, name=name)
    assert variable.path == path
    return variable


@pytest.mark.parametrize("case", sorted(LARS_OPTIONS))
def test_lars_steps(case):
    f = {k[len(case) + 1 :]: v for k, v in LARS_FIXTURE.items() if k.startswith(case + "/")}
    paths = [k[len("initial/") :] for k in f if k.startswith("initial/")]
    if "schedule" in f:
        peak, total, warmup = f["schedule"]
        learning_rate = WarmupCosineDecay(float(peak), int(total), int(warmup))
    else:
        learning_rate = float(f["learning_rate"])
    optimizer = LARS(learning_rate=learning_rate, **LARS_OPTIONS[case])
    variables = [_variable(p, f[f"initial/{p}"]) for p in paths]
    steps = len(f[f"grads/{paths[0]}"])
    for step in range(steps):
        grads = [keras.ops.convert_to_tensor(f[f"grads/{p}"][step]) for p in paths]
        optimizer.apply(grads, variables)
    momentums = {v.path: v for v in optimizer.variables if v.path.endswith("_momentum")}
    label = LARS_LABELS[case]
    for path, variable in zip(paths, variables):
        initial = f[f"initial/{path}"].astype(np.float64)
        actual = to_numpy(variable)
        # The moves are small next to the weights: compare them, not only the weights.
        expected = f[f"expected/{path}"]
        where = f"{case} {path}"
        compare(f"{label}: update w1 − w0", actual - initial, expected - initial, FLOAT32, where)
        compare(f"{label}: weights", actual, expected, FLOAT32, where)
        velocity = momentums[f"lars/{path.replace('/', '_')}_momentum"]
        compare(f"{label}: momentum", to_numpy(velocity), f[f"velocity/{path}"], FLOAT32, where)


SCHEDULE = load("schedule")


@pytest.mark.parametrize("case", sorted({k.split("/")[0] for k in SCHEDULE}))
def test_warmup_cosine_schedule(case):
    peak, total, warmup = SCHEDULE[f"{case}/config"]
    schedule = WarmupCosineDecay(float(peak), int(total), int(warmup))
    actual = [float(to_numpy(schedule(int(step)))) for step in SCHEDULE[f"{case}/steps"]]
    # float32 cos: ~1e-7 · peak absolute, so near the end of the decay (lr → 0) the relative
    # error grows; the floor is relative to the peak.
    compare("WarmupCosineDecay lr", actual, SCHEDULE[f"{case}/expected"], (1e-5, 1e-6 * peak), case)
