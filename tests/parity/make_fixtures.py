"""Build ``tests/parity/fixtures/*.npz`` from the float64 reference (``reference.py``).

    python tests/parity/make_fixtures.py            # rewrite the fixtures
    python tests/parity/make_fixtures.py --check    # rebuild in memory, compare with the files

Inputs (images, projections, weights, gradients) are drawn with fixed seeds and stored in float32
(or int8 + a power-of-two scale for network weights: exact in float32, and 4x smaller), so every
backend and the reference see bit-identical inputs. Expected outputs are float64. No keras here.
"""

import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402
from fixture_io import decode_weights, pack  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


# === NT-Xent ==================================================================================

# (name, N, D, temperature, kind): several batch sizes, dims and temperatures; "near" makes the
# views near-duplicates (low loss, peaked softmax), "scaled" multiplies by 100 (normalisation).
NT_XENT_CASES = [
    ("n1_d4_t0.5", 1, 4, 0.5, "random"),
    ("n2_d3_t0.1", 2, 3, 0.1, "random"),
    ("n4_d8_t0.5", 4, 8, 0.5, "random"),
    ("n8_d16_t0.2_near", 8, 16, 0.2, "near"),
    ("n16_d32_t1.0_scaled", 16, 32, 1.0, "scaled"),
    ("n6_d128_t0.07", 6, 128, 0.07, "random"),
]


def nt_xent_fixture():
    rng = np.random.default_rng(1)
    out = {}
    for name, n, d, tau, kind in NT_XENT_CASES:
        z_a = rng.normal(size=(n, d))
        z_b = z_a + 0.05 * rng.normal(size=(n, d)) if kind == "near" else rng.normal(size=(n, d))
        if kind == "scaled":
            z_a, z_b = 100 * z_a, 100 * z_b
        z_a, z_b = z_a.astype(np.float32), z_b.astype(np.float32)
        out[f"{name}/z_a"], out[f"{name}/z_b"] = z_a, z_b
        out[f"{name}/temperature"] = np.float64(tau)
        for convention in ("mean", "sum_of_directions"):
            loss, g_a, g_b = ref.nt_xent(z_a, z_b, tau, convention)
            out[f"{name}/{convention}/loss"] = np.float64(loss)
            out[f"{name}/{convention}/grad_a"], out[f"{name}/{convention}/grad_b"] = g_a, g_b
    return out


# === Augmentation =============================================================================


def test_images(rng, count, size):
    """Uniform colours plus the edge cases of HSV and clipping: grays (chroma 0), ties between
    the top two channels, exact 0 and 1 values."""
    images = rng.uniform(size=(count, size, size, 3))
    gray = rng.uniform(size=(count, size, size)) < 0.08
    images[gray] = images[gray][:, :1]  # r = g = b
    tie = rng.uniform(size=(count, size, size)) < 0.08
    images[tie, 1] = images[tie, 0]  # r = g
    images[rng.uniform(size=images.shape) < 0.03] = 0.0
    images[rng.uniform(size=images.shape) < 0.03] = 1.0
    return images.astype(np.float32)


def whole_pixel_boxes(rng, count, side, fixed=()):
    """``(y, x, h, w)`` fractions of whole-pixel boxes, as the crop sampler draws them."""
    boxes = list(fixed)
    while len(boxes) < count:
        h, w = rng.integers(1, side + 1, size=2)
        y, x = rng.integers(0, side - h + 1), rng.integers(0, side - w + 1)
        boxes.append((y, x, h, w))
    return (np.array(boxes, np.float64) / side).astype(np.float32)


def augmentation_fixture():
    rng = np.random.default_rng(2)
    out = {}
    b = 6
    big = test_images(rng, b, 32)
    small = test_images(rng, b, 16)
    out["images32"], out["images16"] = big, small

    # Crop: whole image, a 1-pixel row, a 3x5 box (strong upscale), random boxes.
    boxes = whole_pixel_boxes(rng, b, 32, fixed=[(0, 0, 32, 32), (7, 0, 1, 32), (10, 20, 3, 5)])
    out["crop/boxes"] = boxes
    for interpolation in ("bilinear", "bicubic"):
        for size in (16, 24):
            expected = ref.crop_and_resize(big, boxes, size, interpolation)
            out[f"crop/{interpolation}/{size}"] = expected

    flags = np.array([True, False, True, True, False, False])
    out["flip/flags"] = flags
    out["flip/expected"] = ref.flip(small, flags)
    out["grayscale/flags"] = flags[::-1].copy()
    out["grayscale/expected"] = ref.grayscale(small, flags[::-1])

    # Single colour ops, factors including the extremes (0 → gray / flat, clipping, ±½ hue).
    factors = {
        "brightness": [0.0, 0.2, 0.9, 1.0, 1.5, 1.8],
        "contrast": [0.0, 0.2, 0.7, 1.0, 1.4, 1.8],
        "saturation": [0.0, 0.2, 0.6, 1.0, 1.3, 1.8],
        "hue": [-0.5, -0.2, -0.03, 0.0, 0.17, 0.5],
    }
    for op, values in factors.items():
        values = np.array(values, np.float32)
        out[f"{op}/factors"] = values
        out[f"{op}/expected"] = np.stack(
            [getattr(ref, op)(small[i].astype(np.float64), float(values[i])) for i in range(b)]
        )

    # Colour jitter: random magnitudes within strength 1, a random order per image, 2 skipped.
    jitter = jitter_parameters(rng, b, strength=1.0)
    jitter["apply"] = np.array([True, True, False, True, True, False])
    out.update({f"color_jitter/{k}": v for k, v in jitter.items()})
    out["color_jitter/expected"] = ref.color_jitter(
        small, jitter_factors(jitter), jitter["order"], jitter["apply"]
    )

    # Blur: kernel 3 and 5 (explicit sizes: 16 px images would get a 1-tap kernel), both paddings.
    sigmas = np.array([0.1, 0.5, 1.0, 1.5, 2.0, 3.0], np.float32)
    apply = np.array([True, True, True, True, False, True])
    out["blur/sigma"], out["blur/apply"] = sigmas, apply
    for kernel_size in (3, 5):
        for padding in ("reflect", "zeros"):
            expected = ref.gaussian_blur(small, sigmas, apply, kernel_size, padding)
            out[f"blur/{kernel_size}/{padding}"] = expected

    # A whole view: 32 px inputs → 24 px views, so the default blur kernel is 3 (24 // 10 → 3).
    view = {"crop/boxes": whole_pixel_boxes(rng, b, 32, fixed=[(4, 6, 20, 24)])}
    view["flip/flip"] = rng.uniform(size=b) < 0.5
    jitter = jitter_parameters(rng, b, strength=0.5)
    view.update({f"color_jitter/{k}": v for k, v in jitter.items()})
    view["color_jitter/apply"] = rng.uniform(size=b) < 0.8
    view["grayscale/apply"] = np.array([False, True, False, False, True, False])
    view["blur/apply"] = np.array([True, False, True, True, False, True])
    view["blur/sigma"] = rng.uniform(0.1, 2.0, size=b).astype(np.float32)
    out.update({f"view/{k}": v for k, v in view.items()})
    out["view/expected"] = ref.simclr_view(big, view, 24)
    return out


def jitter_parameters(rng, b, strength):
    m = 0.8 * strength
    return {
        "brightness": rng.uniform(max(0, 1 - m), 1 + m, size=b).astype(np.float32),
        "contrast": rng.uniform(max(0, 1 - m), 1 + m, size=b).astype(np.float32),
        "saturation": rng.uniform(max(0, 1 - m), 1 + m, size=b).astype(np.float32),
        "hue": rng.uniform(-0.2 * strength, 0.2 * strength, size=b).astype(np.float32),
        "order": np.stack([rng.permutation(4) for _ in range(b)]).astype(np.int32),
        "apply": np.ones(b, bool),
    }


def jitter_factors(p):
    columns = [p["brightness"], p["contrast"], p["saturation"], p["hue"]]
    return np.stack(columns, axis=1).astype(np.float64)


# === Networks: weights as int8 × power-of-two scale (+ offset), exact in float32 ==============


def quantized_weights(rng, shapes):
    """``{path: (q int8, [offset, scale])}``; kernels ~ He-uniform, BN parameters near their
    usual values (gamma, moving variance around 1) but random, so every term matters."""
    out = {}
    for path, shape in shapes.items():
        q = rng.integers(-127, 128, size=shape).astype(np.int8)
        leaf = path.rsplit("/", 1)[1]
        if leaf == "kernel":
            fan_in = int(np.prod(shape[:-1]))
            std = math.sqrt(2.0 / fan_in)
            offset, scale = 0.0, 2.0 ** round(math.log2(std * math.sqrt(3) / 127))
        elif leaf in ("gamma", "moving_variance"):
            offset, scale = 1.0, 2.0 ** -8  # [0.50, 1.50]
        elif leaf == "moving_mean":
            offset, scale = 0.0, 2.0 ** -9
        else:  # beta, bias
            offset, scale = 0.0, 2.0 ** -8
        out[path] = (q, np.array([offset, scale]))
    return out


def _store_weights(out, weights):
    out.update(pack("weights/q", {p: q for p, (q, _) in weights.items()}, np.int8))
    out["weights/offset_scale"] = np.array([os_ for _, os_ in weights.values()])


def sensitivity(forward, images, weights, rng, trials=3):
    """How far the exact output moves (max |Δ| / max |out|) when the images and weights are
    perturbed by float32 rounding (relative 2^-24): the conditioning of the case itself, the
    floor under any float32 implementation's error (batch norm over few, nearly equal values
    makes it large: a ResNet-50 on 8 px images with 4 of them reached 1e-4)."""
    base = forward(images.astype(np.float64), weights)
    worst = 0.0
    for _ in range(trials):
        jitter = lambda a: a * (1 + 2.0**-24 * rng.standard_normal(np.shape(a)))  # noqa: E731
        moved_images = jitter(images.astype(np.float64))  # (this order: the committed fixtures)
        moved = forward(moved_images, {k: jitter(v) for k, v in weights.items()})
        worst = max(worst, float(np.abs(moved - base).max() / np.abs(base).max()))
    return worst


# (name, depth, width, cifar_stem, image side, batch)
ENCODER_CASES = [
    ("resnet18_cifar_w0.125_16px", 18, 0.125, True, 16, 4),
    ("resnet18_imagenet_w0.0625_32px", 18, 0.0625, False, 32, 4),
    ("resnet50_cifar_w0.03125_16px", 50, 0.03125, True, 16, 8),
]


def encoder_fixture(name, depth, width, cifar_stem, side, batch, seed):
    rng = np.random.default_rng(seed)
    out = {"depth": np.int64(depth), "width": np.float64(width), "cifar_stem": np.bool_(cifar_stem)}
    out["images"] = rng.uniform(size=(batch, side, side, 3)).astype(np.float32)
    _store_weights(out, quantized_weights(rng, ref.resnet_shapes(depth, width, cifar_stem)))
    w = {k: v.astype(np.float64) for k, v in decode_weights(out).items()}
    out["train/h"], moved = ref.resnet_forward(out["images"], w, depth, width, cifar_stem, True)
    out["inference/h"], _ = ref.resnet_forward(out["images"], w, depth, width, cifar_stem, False)
    out.update(pack("moved", moved, np.float64))  # from the training-mode pass
    for mode in ("train", "inference"):
        out[f"{mode}/sensitivity"] = np.float64(sensitivity(
            lambda x, v: ref.resnet_forward(x, v, depth, width, cifar_stem, mode == "train")[0],
            out["images"], w, rng))
        # A case whose exact output moves by > 1e-5 of its range when the inputs move at float32
        # rounding level cannot hold any backend to the encoder tolerance: pick another case.
        assert out[f"{mode}/sensitivity"] < 1e-5, (name, mode, out[f"{mode}/sensitivity"])
    return out


# (name, num_layers, output_batch_norm): SimCLR v1 and v2 heads.
HEAD_CASES = [("v1", 2, False), ("v2", 3, True)]
HEAD_IN, HEAD_HIDDEN, HEAD_OUT, HEAD_BATCH = 16, 16, 8, 6


def head_fixture():
    rng = np.random.default_rng(5)
    out = {}
    for name, num_layers, output_bn in HEAD_CASES:
        h = rng.normal(size=(HEAD_BATCH, HEAD_IN)).astype(np.float32)
        shapes = ref.head_shapes(HEAD_IN, HEAD_HIDDEN, HEAD_OUT, num_layers, output_bn)
        case = {"h": h}
        _store_weights(case, quantized_weights(rng, shapes))
        w = {k: v.astype(np.float64) for k, v in decode_weights(case).items()}
        case["train/z"], moved = ref.head_forward(h, w, num_layers, output_bn, True)
        case["inference/z"], _ = ref.head_forward(h, w, num_layers, output_bn, False)
        case.update(pack("moved", moved, np.float64))
        out.update({f"{name}/{k}": v for k, v in case.items()})
    return out


# === LARS and the schedule ====================================================================

# path → shape; which get weight decay / the trust ratio depends on the case's exclusions.
LARS_SHAPES = {
    "dense/kernel": (6, 4),
    "dense/bias": (4,),
    "conv/kernel": (3, 3, 2, 4),
    "bn/gamma": (4,),
    "batch_norm/kernel": (3, 3),  # rank 2 but "batch_norm" in its path
    "zero/kernel": (4, 3),  # starts at 0: ‖w‖ = 0 → trust 1 on the first step
}

# (name, steps, learning rate (float) or schedule (peak, total, warmup), options)
LARS_CASES = [
    ("one_step", 1, 0.5, dict(momentum=0.9, weight_decay=1e-4, trust_coefficient=0.001)),
    ("five_steps_schedule", 5, (2.0, 6, 2),
     dict(momentum=0.9, weight_decay=1e-4, trust_coefficient=0.001)),
    ("four_steps_nesterov", 4, 1.0,
     dict(momentum=0.9, weight_decay=5e-2, trust_coefficient=0.01, nesterov=True)),
    ("three_steps_custom_exclusions", 3, 0.8,
     dict(momentum=0.8, weight_decay=1e-2, trust_coefficient=0.02, exclude_vectors=False,
          exclude_from_weight_decay=["batch_norm", "bias"],
          exclude_from_layer_adaptation=["bias"])),
]


def lars_flags(options):
    """Per variable of LARS_SHAPES: (decayed, adapted), from the documented exclusion rules."""
    vectors = options.get("exclude_vectors", True)
    no_decay = options.get("exclude_from_weight_decay", ["batch_norm", "bias"])
    no_adapt = options.get("exclude_from_layer_adaptation")
    decay, adapt = [], []
    for path, shape in LARS_SHAPES.items():
        vector = vectors and len(shape) <= 1
        d = not (vector or any(p in path for p in no_decay))
        a = d if no_adapt is None else not (vector or any(p in path for p in no_adapt))
        decay.append(d)
        adapt.append(a)
    return decay, adapt


def lars_fixture():
    rng = np.random.default_rng(6)
    out = {}
    for name, steps, lr, options in LARS_CASES:
        weights = [rng.normal(size=s).astype(np.float32) for s in LARS_SHAPES.values()]
        weights[list(LARS_SHAPES).index("zero/kernel")][...] = 0.0
        grads = [[rng.normal(size=s).astype(np.float32) for s in LARS_SHAPES.values()]
                 for _ in range(steps)]
        if steps > 1:  # a zero gradient (‖g‖ = 0 → trust 1) for the conv kernel at step 2
            grads[1][list(LARS_SHAPES).index("conv/kernel")][...] = 0.0
        if isinstance(lr, tuple):
            rates = [ref.warmup_cosine(s, *lr) for s in range(steps)]
            out[f"{name}/schedule"] = np.array(lr, np.float64)
        else:
            rates = [lr] * steps
            out[f"{name}/learning_rate"] = np.float64(lr)
        decay, adapt = lars_flags(options)
        hyper = {k: options[k] for k in ("momentum", "weight_decay", "trust_coefficient")}
        nesterov = options.get("nesterov", False)
        new_w, velocities = ref.lars(weights, grads, rates, decay, adapt, nesterov=nesterov,
                                     **hyper)
        for i, path in enumerate(LARS_SHAPES):
            out[f"{name}/initial/{path}"] = weights[i]
            out[f"{name}/expected/{path}"] = new_w[i]
            out[f"{name}/velocity/{path}"] = velocities[i]
            out[f"{name}/grads/{path}"] = np.stack([g[i] for g in grads])
    return out


SCHEDULE_CASES = [("warmup", 1.2, 20, 5), ("no_warmup", 0.3, 10, 0), ("all_warmup", 4.8, 6, 6),
                  ("long", 2.0, 1000, 100)]


def schedule_fixture():
    out = {}
    for name, peak, total, warmup in SCHEDULE_CASES:
        # ~25 steps across the run, plus the ends of the warm-up and of the decay.
        steps = set(range(0, total + 3, max(1, total // 25)))
        steps |= {warmup, total - 1, total, total + 1}
        steps = np.array(sorted(steps))
        out[f"{name}/config"] = np.array([peak, total, warmup], np.float64)
        out[f"{name}/steps"] = steps.astype(np.int64)
        rates = [ref.warmup_cosine(int(s), peak, total, warmup) for s in steps]
        out[f"{name}/expected"] = np.array(rates)
    return out


# === Self-checks of the reference (cheap, independent derivations) ============================


def self_check():
    """Guard the reference against its own mistakes before it becomes the yardstick."""
    rng = np.random.default_rng(0)
    # NT-Xent gradient = central finite differences; equal similarities → ln(2N − 1).
    z_a, z_b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    _, g_a, g_b = ref.nt_xent(z_a, z_b, 0.3)
    for z, g, which in ((z_a, g_a, 0), (z_b, g_b, 1)):
        fd = np.zeros_like(z)
        for idx in np.ndindex(z.shape):
            plus, minus = z.copy(), z.copy()
            plus[idx] += 1e-6
            minus[idx] -= 1e-6
            args_p = (plus, z_b) if which == 0 else (z_a, plus)
            args_m = (minus, z_b) if which == 0 else (z_a, minus)
            fd[idx] = (ref.nt_xent(*args_p, 0.3)[0] - ref.nt_xent(*args_m, 0.3)[0]) / 2e-6
        np.testing.assert_allclose(g, fd, atol=1e-7)
    ones = np.ones((4, 3))
    assert abs(ref.nt_xent(ones, ones, 0.5)[0] - math.log(7)) < 1e-12
    # Same-size resize is the identity; a constant image stays constant under every op.
    images = rng.uniform(size=(2, 8, 8, 3))
    whole = np.array([[0, 0, 1, 1]] * 2)
    for method in ("bilinear", "bicubic"):
        same = ref.crop_and_resize(images, whole, 8, method)
        np.testing.assert_allclose(same, images, atol=1e-12)
    flat = np.full((1, 8, 8, 3), 0.4)
    for padding in ("reflect", "zeros"):
        blurred = ref.gaussian_blur(flat, [1.0], [True], 5, padding)
        if padding == "reflect":
            np.testing.assert_allclose(blurred, flat, atol=1e-12)
        else:  # zeros darken the border only
            np.testing.assert_allclose(blurred[:, 2:-2, 2:-2], flat[:, 2:-2, 2:-2], atol=1e-12)
            assert blurred[0, 0, 0, 0] < 0.4
    # A hue shift of 1/3 rotates pure red to pure green.
    red = np.array([[[1.0, 0.0, 0.0]]])
    np.testing.assert_allclose(ref.hue(red, 1 / 3), [[[0.0, 1.0, 0.0]]], atol=1e-12)
    # conv2d with a centred delta kernel is the identity; stride 2 keeps every other pixel.
    delta = np.zeros((3, 3, 3, 3))
    delta[1, 1] = np.eye(3)
    np.testing.assert_allclose(ref.conv2d(images, delta, 1), images)
    np.testing.assert_allclose(ref.conv2d(images, delta, 2), images[:, ::2, ::2])


def build_all():
    files = {
        "nt_xent": nt_xent_fixture(),
        "augmentation": augmentation_fixture(),
        "projection_head": head_fixture(),
        "lars": lars_fixture(),
        "schedule": schedule_fixture(),
    }
    for seed, case in enumerate(ENCODER_CASES, start=10):
        files[f"encoder_{case[0]}"] = encoder_fixture(*case, seed=seed)
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files")
    args = parser.parse_args()
    self_check()
    files = build_all()
    if args.check:
        for name, arrays in files.items():
            with np.load(os.path.join(FIXTURES, f"{name}.npz")) as stored:
                assert sorted(stored.files) == sorted(arrays), name
                for key, value in arrays.items():
                    if np.asarray(value).dtype.kind in "USb":
                        np.testing.assert_array_equal(stored[key], value, err_msg=f"{name}:{key}")
                    else:  # 1e-12: room for a different libm, nothing a backend could hide in
                        np.testing.assert_allclose(stored[key], value, rtol=1e-12, atol=1e-15,
                                                   err_msg=f"{name}:{key}")
        print("fixtures match the reference")
        return
    os.makedirs(FIXTURES, exist_ok=True)
    total = 0
    for name, arrays in files.items():
        path = os.path.join(FIXTURES, f"{name}.npz")
        np.savez_compressed(path, **arrays)
        total += os.path.getsize(path)
        print(f"{path}: {os.path.getsize(path) / 1024:.0f} KiB")
    print(f"total {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
