"""The independent float64 NumPy reference of the parity suite.

Everything here is written from the formulas (the SimCLR paper, He et al., the documented
conventions of the library's docstrings), in float64, with plain loops and NumPy. Nothing imports
keras or the library: the fixtures built from this module are the ONE reference every backend is
compared with (``make_fixtures.py`` writes them, ``test_parity.py`` checks each backend).

Conventions (all images channels-last ``(B, H, W, C)``, values in [0, 1]):
- resampling: half-pixel centres, output pixel ``o`` of an axis resized from ``n`` to ``m``
  samples input coordinate ``(o + 0.5) * n / m - 0.5``; bilinear clamps to the edge pixel,
  bicubic is Keys' kernel (a = -0.5) whose taps outside the input get weight 0, the rest
  renormalised (tf.image's half-pixel bicubic). Crop boxes are whole pixels (what the sampler
  draws), so a crop is "slice, then resize";
- HSV: Python's ``colorsys`` (hue 0 for grays, hue in [0, 1));
- blur: separable Gaussian, ``exp(-x^2 / 2 sigma^2)`` normalised, radius ``kernel_size // 2``,
  ``reflect`` padding = NumPy's ``reflect`` (``dcb|abcd|cba``) or zeros;
- convs: NHWC / HWIO kernels, symmetric ``k // 2`` zero padding, no bias;
- batch norm: training mode normalises with the batch moments (biased variance) and moves the
  moving statistics by ``m · old + (1 − m) · batch``; inference mode uses the moving statistics.
"""

import colorsys
import math

import numpy as np

# === NT-Xent (Chen et al. 2020, eq. 1) ==========================================================


def nt_xent(z_a, z_b, temperature, convention="mean"):
    """Loss and analytic gradients ``(loss, dL/dz_a, dL/dz_b)`` in float64.

    With u = z/‖z‖ stacked as [u_a; u_b] (2N rows), s_ik = u_i·u_k / τ and p(i) = i ± N:
    ℓ_i = −s_{i,p(i)} + log Σ_{k≠i} exp(s_ik); L = mean_i ℓ_i ("mean"), or 2L
    ("sum_of_directions").
    Gradient: dL/ds_ik = (P_ik − 1[k = p(i)]) / 2N with P the softmax over k ≠ i;
    dL/du = (G + Gᵀ) u / τ; dL/dz = (dL/du − u (u · dL/du)) / ‖z‖.
    """
    z = np.concatenate([z_a, z_b]).astype(np.float64)
    two_n = len(z)
    n = two_n // 2
    norms = np.sqrt((z * z).sum(axis=1, keepdims=True))
    u = z / norms
    s = np.zeros((two_n, two_n))
    for i in range(two_n):
        for k in range(two_n):
            s[i, k] = float(np.dot(u[i], u[k])) / temperature

    losses = np.zeros(two_n)
    g = np.zeros((two_n, two_n))
    for i in range(two_n):
        positive = (i + n) % two_n
        others = [k for k in range(two_n) if k != i]
        top = max(s[i, k] for k in others)  # log-sum-exp, shifted for float64 safety
        denominator = sum(math.exp(s[i, k] - top) for k in others)
        losses[i] = top + math.log(denominator) - s[i, positive]
        for k in others:
            g[i, k] = math.exp(s[i, k] - top) / denominator
        g[i, positive] -= 1.0
    scale = 1.0 if convention == "mean" else 2.0
    loss = scale * losses.mean()
    g *= scale / two_n
    grad_u = (g + g.T) @ u / temperature
    grad_z = (grad_u - u * (u * grad_u).sum(axis=1, keepdims=True)) / norms
    return loss, grad_z[:n], grad_z[n:]


# === Resampling ================================================================================


def _keys(x, a=-0.5):
    x = abs(x)
    if x <= 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    if x < 2.0:
        return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    return 0.0


def resize_matrix(in_size, out_size, interpolation):
    """``(out_size, in_size)`` weights of a half-pixel-centre resize along one axis."""
    weights = np.zeros((out_size, in_size))
    for o in range(out_size):
        x = (o + 0.5) * in_size / out_size - 0.5
        base = math.floor(x)
        t = x - base
        if interpolation == "bilinear":
            for tap, w in ((base, 1.0 - t), (base + 1, t)):
                weights[o, min(max(tap, 0), in_size - 1)] += w  # clamp to the edge pixel
        elif interpolation == "bicubic":
            taps = [(base + d, _keys(t - d)) for d in (-1, 0, 1, 2)]
            inside = [(tap, w) for tap, w in taps if 0 <= tap < in_size]
            total = sum(w for _, w in inside)
            for tap, w in inside:
                weights[o, tap] += w / total
        else:
            raise ValueError(interpolation)
    return weights


def crop_and_resize(images, boxes, size, interpolation="bilinear"):
    """Slice each whole-pixel box ``(y, x, h, w)`` (fractions of the image), resize, clip."""
    images = np.asarray(images, np.float64)
    _, height, width, _ = images.shape
    out = np.zeros((len(images), size, size, images.shape[3]))
    for b, (y, x, h, w) in enumerate(np.asarray(boxes, np.float64)):
        pixels = [y * height, x * width, h * height, w * width]
        y0, x0, ch, cw = (int(round(p)) for p in pixels)
        assert np.allclose(pixels, [y0, x0, ch, cw], atol=1e-4), "boxes must be whole pixels"
        crop = images[b, y0 : y0 + ch, x0 : x0 + cw]
        rows = resize_matrix(ch, size, interpolation)
        cols = resize_matrix(cw, size, interpolation)
        out[b] = np.einsum("oi,ijc,pj->opc", rows, crop, cols)
    return np.clip(out, 0.0, 1.0)


# === Flip, grayscale, colour ===================================================================

LUMA = (0.2989, 0.5870, 0.1140)  # ITU-R 601, as tf.image.rgb_to_grayscale


def flip(images, flags):
    images = np.asarray(images, np.float64)
    return np.stack([im[:, ::-1] if f else im for im, f in zip(images, flags)])


def grayscale(images, flags):
    images = np.asarray(images, np.float64)
    out = images.copy()
    for b, f in enumerate(flags):
        if f:
            r, g, b_ = images[b, ..., 0], images[b, ..., 1], images[b, ..., 2]
            out[b] = (LUMA[0] * r + LUMA[1] * g + LUMA[2] * b_)[..., None]
    return out


def brightness(image, factor):
    return np.clip(image * factor, 0.0, 1.0)


def contrast(image, factor):
    mean = image.mean(axis=(0, 1), keepdims=True)  # per channel, over the image
    return np.clip((image - mean) * factor + mean, 0.0, 1.0)


def _per_pixel_hsv(image, edit):
    out = np.empty_like(image)
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            h, s, v = colorsys.rgb_to_hsv(*image[i, j])
            out[i, j] = colorsys.hsv_to_rgb(*edit(h, s, v))
    return np.clip(out, 0.0, 1.0)


def saturation(image, factor):
    return _per_pixel_hsv(image, lambda h, s, v: (h, min(max(s * factor, 0.0), 1.0), v))


def hue(image, delta):
    return _per_pixel_hsv(image, lambda h, s, v: ((h + delta) % 1.0, s, v))


COLOR_OPS = (brightness, contrast, saturation, hue)  # index = the library's op code 0..3


def color_jitter(images, factors, order, apply):
    """``factors``: ``(B, 4)`` brightness, contrast, saturation, hue; ``order[b]`` op codes."""
    images = np.asarray(images, np.float64)
    out = images.copy()
    for b in range(len(images)):
        if not apply[b]:
            continue
        x = images[b]
        for op in order[b]:
            x = COLOR_OPS[op](x, factors[b][op])
        out[b] = x
    return out


# === Gaussian blur =============================================================================


def gaussian_kernel(sigma, kernel_size):
    radius = kernel_size // 2
    k = np.array([math.exp(-(x * x) / (2.0 * sigma * sigma)) for x in range(-radius, radius + 1)])
    return k / k.sum()


def gaussian_blur(images, sigmas, apply, kernel_size, padding="reflect"):
    """A 2-D convolution with the outer product of the 1-D kernel, on the padded image."""
    images = np.asarray(images, np.float64)
    radius = kernel_size // 2
    mode = {"reflect": "reflect", "zeros": "constant"}[padding]
    out = images.copy()
    height, width = images.shape[1:3]
    for b in range(len(images)):
        if not apply[b]:
            continue
        k = gaussian_kernel(sigmas[b], kernel_size)
        padded = np.pad(images[b], ((radius, radius), (radius, radius), (0, 0)), mode=mode)
        acc = np.zeros_like(images[b])
        for i in range(kernel_size):
            for j in range(kernel_size):
                acc += k[i] * k[j] * padded[i : i + height, j : j + width]
        out[b] = np.clip(acc, 0.0, 1.0)
    return out


def blur_kernel_size(image_height):
    """10 % of the side, made odd as the official code (RandomGaussianBlur's documented rule)."""
    size = image_height // 10
    return 2 * (size // 2) + 1


def simclr_view(images, params, size, blur_padding="reflect"):
    """Crop → flip → colour jitter → grayscale → blur, with given per-image parameters."""
    x = crop_and_resize(images, params["crop/boxes"], size)
    x = flip(x, params["flip/flip"])
    names = ("brightness", "contrast", "saturation", "hue")
    factors = np.stack([params[f"color_jitter/{k}"] for k in names], 1)
    x = color_jitter(x, factors, params["color_jitter/order"], params["color_jitter/apply"])
    x = grayscale(x, params["grayscale/apply"])
    kernel_size = blur_kernel_size(size)
    if kernel_size > 1:
        x = gaussian_blur(x, params["blur/sigma"], params["blur/apply"], kernel_size, blur_padding)
    return x


# === Network layers ============================================================================


def conv2d(x, kernel, stride):
    """NHWC conv, HWIO kernel, symmetric k // 2 zero padding (odd kernels), no bias."""
    kh, kw = kernel.shape[:2]
    p = kh // 2
    x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    out_h = (x.shape[1] - kh) // stride + 1
    out_w = (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], out_h, out_w, kernel.shape[3]))
    for i in range(kh):
        for j in range(kw):
            rows = slice(i, i + stride * (out_h - 1) + 1, stride)
            cols = slice(j, j + stride * (out_w - 1) + 1, stride)
            out += x[:, rows, cols] @ kernel[i, j]
    return out


def batch_norm(x, w, prefix, training, momentum, epsilon, updates):
    """BN over every axis but the last; in training mode records the moved statistics."""
    axes = tuple(range(x.ndim - 1))
    gamma = w[f"{prefix}/gamma"]
    beta = w.get(f"{prefix}/beta", 0.0)  # center=False: no beta
    if training:
        mean = x.mean(axis=axes)
        variance = ((x - mean) ** 2).mean(axis=axes)  # biased
        for name, batch in (("moving_mean", mean), ("moving_variance", variance)):
            updates[f"{prefix}/{name}"] = momentum * w[f"{prefix}/{name}"] + (1 - momentum) * batch
    else:
        mean, variance = w[f"{prefix}/moving_mean"], w[f"{prefix}/moving_variance"]
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def relu(x):
    return np.maximum(x, 0.0)


def max_pool_3x3_stride_2(x):
    """3x3 window, stride 2, one pixel of -inf padding on every side."""
    x = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=-np.inf)
    out_h, out_w = (x.shape[1] - 3) // 2 + 1, (x.shape[2] - 3) // 2 + 1
    out = np.full((x.shape[0], out_h, out_w, x.shape[3]), -np.inf)
    for i in range(3):
        for j in range(3):
            rows, cols = slice(i, i + 2 * (out_h - 1) + 1, 2), slice(j, j + 2 * (out_w - 1) + 1, 2)
            out = np.maximum(out, x[:, rows, cols])
    return out


def global_average_pool(x):
    return x.mean(axis=(1, 2))


def dense(x, kernel, bias=None):
    return x @ kernel + (0.0 if bias is None else bias)


# === ResNet v1 (He et al. 2015, Table 1) =======================================================

RESNET_STAGES = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
}


def channels(base, width):
    return max(1, int(round(base * width)))


def resnet_blocks(depth, width, cifar_stem):
    """``(stem_width, [(name, kind, in_ch, filters, out_ch, stride, projection)])``.

    A block projects its shortcut (1x1 conv + BN) where stride or channels change (torchvision).
    """
    kind, counts = RESNET_STAGES[depth]
    expansion = 4 if kind == "bottleneck" else 1
    stem = channels(64, width)
    blocks, ch = [], stem
    stages = zip((64, 128, 256, 512), (1, 2, 2, 2), counts)
    for stage, (base, stride, count) in enumerate(stages, 1):
        filters = channels(base, width)
        for index in range(count):
            s = stride if index == 0 else 1
            out = filters * expansion
            projection = s != 1 or ch != out
            blocks.append((f"stage{stage}_block{index + 1}", kind, ch, filters, out, s, projection))
            ch = out
    return stem, blocks


def resnet_shapes(depth, width, cifar_stem, prefix="encoder", in_channels=3):
    """``{variable path: shape}`` of the encoder, Keras naming."""
    stem, blocks = resnet_blocks(depth, width, cifar_stem)
    k = 3 if cifar_stem else 7
    shapes = {f"{prefix}/stem_conv/kernel": (k, k, in_channels, stem)}
    shapes.update(_bn_shapes(f"{prefix}/stem_batch_norm", stem))
    for name, kind, cin, filters, out, _, projection in blocks:
        p = f"{prefix}/{name}"
        if projection:
            shapes[f"{p}/shortcut_conv/kernel"] = (1, 1, cin, out)
            shapes.update(_bn_shapes(f"{p}/shortcut_batch_norm", out))
        if kind == "basic":
            convs = [(3, cin, filters), (3, filters, filters)]
        else:
            convs = [(1, cin, filters), (3, filters, filters), (1, filters, out)]
        for j, (ks, a, b) in enumerate(convs, 1):
            shapes[f"{p}/conv{j}/kernel"] = (ks, ks, a, b)
            shapes.update(_bn_shapes(f"{p}/batch_norm{j}", b))
    return shapes


def _bn_shapes(prefix, features, center=True):
    names = ("gamma", "beta", "moving_mean", "moving_variance") if center else (
        "gamma", "moving_mean", "moving_variance")
    return {f"{prefix}/{n}": (features,) for n in names}


def resnet_forward(images, w, depth, width, cifar_stem, training, prefix="encoder",
                   momentum=0.9, epsilon=1e-5):
    """``(h, moving-statistics updates)`` of the ResNet v1 encoder with weights ``w`` (by path)."""
    updates = {}

    def bn(x, name):
        return batch_norm(x, w, f"{prefix}/{name}", training, momentum, epsilon, updates)

    def conv(x, name, stride):
        return conv2d(x, w[f"{prefix}/{name}/kernel"], stride)

    x = np.asarray(images, np.float64)
    x = relu(bn(conv(x, "stem_conv", 1 if cifar_stem else 2), "stem_batch_norm"))
    if not cifar_stem:
        x = max_pool_3x3_stride_2(x)
    _, blocks = resnet_blocks(depth, width, cifar_stem)
    for name, kind, _, _, _, stride, projection in blocks:
        if projection:
            shortcut = bn(conv(x, f"{name}/shortcut_conv", stride), f"{name}/shortcut_batch_norm")
        else:
            shortcut = x
        if kind == "basic":
            y = relu(bn(conv(x, f"{name}/conv1", stride), f"{name}/batch_norm1"))
            y = bn(conv(y, f"{name}/conv2", 1), f"{name}/batch_norm2")
        else:  # stride in the 3x3 conv (v1.5)
            y = relu(bn(conv(x, f"{name}/conv1", 1), f"{name}/batch_norm1"))
            y = relu(bn(conv(y, f"{name}/conv2", stride), f"{name}/batch_norm2"))
            y = bn(conv(y, f"{name}/conv3", 1), f"{name}/batch_norm3")
        x = relu(y + shortcut)
    return global_average_pool(x), updates


# === Projection head ===========================================================================


def head_shapes(in_dim, hidden_dim, output_dim, num_layers, output_batch_norm,
                prefix="projection_head"):
    """``{path: shape}``: hidden Dense (no bias) + BN; last Dense + BN(no beta) or Dense + bias."""
    shapes, features = {}, in_dim
    for j in range(num_layers - 1):
        shapes[f"{prefix}/dense_{j}/kernel"] = (features, hidden_dim)
        shapes.update(_bn_shapes(f"{prefix}/batch_norm_{j}", hidden_dim))
        features = hidden_dim
    j = num_layers - 1
    shapes[f"{prefix}/dense_{j}/kernel"] = (features, output_dim)
    if output_batch_norm:
        shapes.update(_bn_shapes(f"{prefix}/batch_norm_{j}", output_dim, center=False))
    else:
        shapes[f"{prefix}/dense_{j}/bias"] = (output_dim,)
    return shapes


def head_forward(h, w, num_layers, output_batch_norm, training, prefix="projection_head",
                 momentum=0.9, epsilon=1e-5):
    """``(z, moving-statistics updates)``: z = g(h) for the SimCLR v1 / v2 heads."""
    updates = {}
    x = np.asarray(h, np.float64)
    for j in range(num_layers):
        last = j == num_layers - 1
        x = dense(x, w[f"{prefix}/dense_{j}/kernel"], w.get(f"{prefix}/dense_{j}/bias"))
        if not last or output_batch_norm:
            x = batch_norm(x, w, f"{prefix}/batch_norm_{j}", training, momentum, epsilon, updates)
        if not last:
            x = relu(x)
    return x, updates


# === LARS (You et al. 2017, as in the official SimCLR code) and the schedule ====================


def lars(weights, grads_per_step, learning_rates, decay, adapt, momentum=0.9, weight_decay=1e-6,
         trust_coefficient=0.001, nesterov=False):
    """``(weights, velocities)`` after one LARS step per entry of ``grads_per_step``.

    g ← g + wd·w (if decayed); trust = η‖w‖/‖g‖ (1 if a norm is 0 or not adapted);
    v ← m·v + lr·trust·g; w ← w − (m·v + lr·trust·g if nesterov else v).
    """
    weights = [np.array(w, np.float64) for w in weights]
    velocities = [np.zeros_like(w) for w in weights]
    for grads, lr in zip(grads_per_step, learning_rates):
        for i, (w, v) in enumerate(zip(weights, velocities)):
            g = np.array(grads[i], np.float64)
            if decay[i]:
                g = g + weight_decay * w
            w_norm = math.sqrt(float((w * w).sum()))
            g_norm = math.sqrt(float((g * g).sum()))
            trust = 1.0
            if adapt[i] and w_norm > 0 and g_norm > 0:
                trust = trust_coefficient * w_norm / g_norm
            step = lr * trust * g
            v[...] = momentum * v + step
            w -= momentum * v + step if nesterov else v
    return weights, velocities


def warmup_cosine(step, peak, total_steps, warmup_steps):
    """Linear warm-up 0 → peak over ``warmup_steps``, then cosine to 0 at ``total_steps``."""
    if step < warmup_steps:
        return peak * step / warmup_steps
    if step >= total_steps:
        return 0.0
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return 0.5 * peak * (1.0 + math.cos(math.pi * progress))
