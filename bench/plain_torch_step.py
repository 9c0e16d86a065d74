"""The SimCLR training step in plain PyTorch (no Keras): the speed peer of ``bench/train_step.py``.

One step = augment two views of every image (per-image randomness, on the tensor batch) →
ResNet-18 with the CIFAR stem on all 2N views in one call → 2-layer projection head → NT-Xent
(τ = 0.5) → backward → LARS. It follows DESIGN.md §2 and the simclr_keras3 code path as closely
as plain torch allows, so that the two time the same work:

- ResNet v1 basic blocks 64/128/256/512 × width (channels rounded like ``scaled_channels``),
  3×3 stride-1 stem without max-pool, BN momentum 0.1 (= Keras 0.9) and eps 1e-5, zero gamma in
  the last BN of every block, 1×1 conv + BN shortcut only where the shape changes.
- Head: Linear(F→F, no bias) → BN → ReLU → Linear(F→128), F = 512 × width.
- Augmentation: random resized crop (area 0.08–1, aspect 3/4–4/3, first of 100 attempts that
  fits, else the whole image) and horizontal flip folded into ONE per-image affine grid
  (``F.affine_grid`` + bilinear ``F.grid_sample``); colour jitter at strength 0.5 with p = 0.8 —
  multiplicative brightness, contrast around the per-channel mean, saturation and hue in HSV
  (our own RGB↔HSV) — in a random order per image; grayscale p = 0.2; no blur (CIFAR recipe).
  The random order costs nothing extra: at each of the 4 stages every image goes through
  exactly one op, applied to the subset of images that drew it (index, op, write back).
- LARS: momentum 0.9, η = 0.001, weight decay 1e-4 added to the gradient before the trust
  ratio, trust = η‖w‖/‖g‖ (1 if a norm is 0), parameters of rank ≤ 1 get neither.

Run alone (prints one JSON line with the per-step times)::

    python bench/plain_torch_step.py --batch-size 64 --width 0.5 --steps 3 --warmup 1
    python bench/plain_torch_step.py --channels-last ...
"""

import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

BN_MOMENTUM = 0.1  # torch's momentum weighs the NEW batch: 1 - 0.9 (Keras/official decay 0.9)
BN_EPS = 1e-5
LUMA = (0.2989, 0.5870, 0.1140)  # tf.image.rgb_to_grayscale, as the official code


def scaled_channels(base, width):
    return max(1, int(round(base * width)))


def batch_norm(channels, zero_gamma=False):
    bn = nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)
    if zero_gamma:  # each residual branch starts at 0 (Goyal et al. 2017; official SimCLR)
        nn.init.zeros_(bn.weight)
    return bn


def conv3x3(c_in, c_out, stride=1):
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(c_in, c_out, stride), batch_norm(c_out)
        self.conv2, self.bn2 = conv3x3(c_out, c_out), batch_norm(c_out, zero_gamma=True)
        self.shortcut = None
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), batch_norm(c_out)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class ResNet18Cifar(nn.Module):
    """ResNet-18 with the CIFAR stem (3×3 stride-1 conv, no max-pool) → global average pool."""

    def __init__(self, width=1.0):
        super().__init__()
        c = scaled_channels(64, width)
        self.stem = nn.Sequential(conv3x3(3, c), batch_norm(c), nn.ReLU(inplace=True))
        blocks = []
        for base, stride in zip((64, 128, 256, 512), (1, 2, 2, 2)):
            filters = scaled_channels(base, width)
            blocks += [BasicBlock(c, filters, stride), BasicBlock(filters, filters, 1)]
            c = filters
        self.blocks = nn.Sequential(*blocks)
        self.output_dim = c
        for m in self.modules():
            if isinstance(m, nn.Conv2d):  # he_normal, as the Keras encoder
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")

    def forward(self, x):
        return self.blocks(self.stem(x)).mean(dim=(2, 3))


class SimCLRNet(nn.Module):
    def __init__(self, width=1.0, projection_dim=128):
        super().__init__()
        self.encoder = ResNet18Cifar(width)
        f = self.encoder.output_dim
        self.head = nn.Sequential(
            nn.Linear(f, f, bias=False),
            nn.BatchNorm1d(f, eps=BN_EPS, momentum=BN_MOMENTUM),
            nn.ReLU(inplace=True),
            nn.Linear(f, projection_dim),
        )

    def forward(self, x):
        return self.head(self.encoder(x))


# --- augmentation (NCHW float in [0, 1]) ---------------------------------------------------


def crop_flip_grids(n, height, width, size, generator, device, max_attempts=100):
    """Sampling grids for a per-image random resized crop + horizontal flip, (n, size, size, 2)."""
    area = torch.empty(n, max_attempts, device=device).uniform_(0.08, 1.0, generator=generator)
    area = area * (height * width)
    aspect = torch.empty(n, max_attempts, device=device).uniform_(3 / 4, 4 / 3, generator=generator)
    crop_h = torch.sqrt(area / aspect).round()
    crop_w = torch.sqrt(area * aspect).round()
    fits = (crop_h >= 1) & (crop_h <= height) & (crop_w >= 1) & (crop_w <= width)
    attempt = torch.arange(max_attempts, device=device).expand(n, -1)
    first = torch.where(fits, attempt, max_attempts).min(dim=1).values
    found = first < max_attempts
    pick = first.clamp(max=max_attempts - 1)[:, None]
    crop_h = torch.where(found, crop_h.gather(1, pick)[:, 0], float(height))
    crop_w = torch.where(found, crop_w.gather(1, pick)[:, 0], float(width))
    offset = torch.rand(n, 2, generator=generator, device=device)
    y0 = torch.minimum((offset[:, 0] * (height - crop_h + 1)).floor(), height - crop_h)
    x0 = torch.minimum((offset[:, 1] * (width - crop_w + 1)).floor(), width - crop_w)
    flip = torch.rand(n, generator=generator, device=device) < 0.5
    # Normalised coordinates (align_corners=False): output [-1, 1] maps onto the box.
    theta = torch.zeros(n, 2, 3, device=device)
    theta[:, 0, 0] = (crop_w / width) * torch.where(flip, -1.0, 1.0)  # a flip mirrors the box
    theta[:, 0, 2] = (2 * x0 + crop_w) / width - 1
    theta[:, 1, 1] = crop_h / height
    theta[:, 1, 2] = (2 * y0 + crop_h) / height - 1
    return F.affine_grid(theta, (n, 3, size, size), align_corners=False)


def rgb_to_hsv(x):
    """(n, 3, H, W) RGB in [0, 1] → HSV with hue in [0, 1)."""
    r, g, b = x.unbind(1)
    maxc, _ = x.max(dim=1)
    minc, _ = x.min(dim=1)
    delta = maxc - minc
    s = torch.where(maxc > 0, delta / maxc.clamp_min(1e-12), torch.zeros_like(maxc))
    d = delta.clamp_min(1e-12)
    h = torch.where(
        maxc == r, (g - b) / d, torch.where(maxc == g, 2.0 + (b - r) / d, 4.0 + (r - g) / d)
    )
    h = torch.where(delta > 0, h / 6.0, torch.zeros_like(h))
    h = h - h.floor()
    return torch.stack((h, s, maxc), dim=1)


def hsv_to_rgb(x):
    """Inverse of ``rgb_to_hsv``: the standard sector formula, vectorised."""
    h, s, v = x.unbind(1)
    h6 = h * 6.0
    # f(n) = v - v·s·max(0, min(k, 4-k, 1)), k = (n + 6h) mod 6, for n = 5, 3, 1 → R, G, B
    out = []
    for n in (5.0, 3.0, 1.0):
        k = torch.remainder(n + h6, 6.0)
        out.append(v - v * s * torch.clamp(torch.minimum(k, 4.0 - k), 0.0, 1.0))
    return torch.stack(out, dim=1)


def _per_image(values):
    return values[:, None, None, None]


def _brightness(x, factor):
    return (x * _per_image(factor)).clamp_(0.0, 1.0)


def _contrast(x, factor):
    mean = x.mean(dim=(2, 3), keepdim=True)
    return ((x - mean) * _per_image(factor) + mean).clamp_(0.0, 1.0)


def _saturation(x, factor):
    hsv = rgb_to_hsv(x)
    hsv[:, 1] = (hsv[:, 1] * factor[:, None, None]).clamp_(0.0, 1.0)
    return hsv_to_rgb(hsv).clamp_(0.0, 1.0)


def _hue(x, delta):
    hsv = rgb_to_hsv(x)
    h = hsv[:, 0] + delta[:, None, None]
    hsv[:, 0] = h - h.floor()
    return hsv_to_rgb(hsv).clamp_(0.0, 1.0)


JITTER_OPS = (_brightness, _contrast, _saturation, _hue)


def color_jitter(x, generator, strength=0.5, probability=0.8):
    """Brightness, contrast, saturation (0.8s) and hue (0.2s) in a random order per image, p=0.8."""
    n, device = x.shape[0], x.device
    m = 0.8 * strength

    def uniform(low, high):
        return torch.empty(n, device=device).uniform_(low, high, generator=generator)

    params = (uniform(max(0.0, 1 - m), 1 + m), uniform(max(0.0, 1 - m), 1 + m),
              uniform(max(0.0, 1 - m), 1 + m), uniform(-0.2 * strength, 0.2 * strength))
    apply = torch.rand(n, generator=generator, device=device) < probability
    order = torch.rand(n, 4, generator=generator, device=device).argsort(dim=1)
    x = x.clone()
    for stage in range(4):
        for op_index, op in enumerate(JITTER_OPS):
            # Only the images that drew this op at this stage (and are jittered at all) pay
            # for it: the random order costs the same arithmetic as a fixed order.
            idx = torch.nonzero(apply & (order[:, stage] == op_index)).squeeze(1)
            if idx.numel():
                x[idx] = op(x[idx], params[op_index][idx])
    return x


def random_grayscale(x, generator, probability=0.2):
    gray = (x * torch.tensor(LUMA, device=x.device)[None, :, None, None]).sum(1, keepdim=True)
    apply = torch.rand(x.shape[0], generator=generator, device=x.device) < probability
    return torch.where(_per_image(apply), gray.expand_as(x), x)


def augment(images, generator, size, strength=0.5):
    """Two independent views of every image, returned stacked: (2N, 3, size, size)."""
    both = torch.cat((images, images), dim=0)  # view a = rows [0, N), view b = rows [N, 2N)
    grids = crop_flip_grids(both.shape[0], both.shape[2], both.shape[3], size, generator, both.device)
    views = F.grid_sample(both, grids, mode="bilinear", padding_mode="border", align_corners=False)
    views = color_jitter(views.clamp_(0.0, 1.0), generator, strength)
    return random_grayscale(views, generator)


# --- loss and optimizer --------------------------------------------------------------------


def nt_xent(z, temperature=0.5):
    """NT-Xent over z = [z_a; z_b] (2N, D): mean over the 2N anchors, 2N−1 candidates each."""
    z = F.normalize(z.float(), dim=1)
    n2 = z.shape[0]
    logits = z @ z.T / temperature
    logits = logits.masked_fill(torch.eye(n2, dtype=torch.bool, device=z.device), float("-inf"))
    targets = torch.arange(n2, device=z.device).roll(n2 // 2)  # i ↔ i ± N
    return F.cross_entropy(logits, targets)


class LARS(torch.optim.Optimizer):
    """LARS as in the official SimCLR code; rank ≤ 1 parameters: no decay, no trust ratio."""

    def __init__(self, params, lr, momentum=0.9, weight_decay=1e-4, trust_coefficient=0.001):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                                      eta=trust_coefficient))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                scaled_lr = group["lr"]
                if p.ndim > 1:
                    g = g.add(p, alpha=group["weight_decay"])
                    w_norm, g_norm = torch.linalg.vector_norm(p), torch.linalg.vector_norm(g)
                    trust = torch.where(
                        (w_norm > 0) & (g_norm > 0),
                        group["eta"] * w_norm / g_norm.clamp_min(1e-30),
                        torch.ones_like(w_norm),
                    )
                    scaled_lr = trust * group["lr"]
                state = self.state[p]
                if "v" not in state:
                    state["v"] = torch.zeros_like(p)
                v = state["v"]
                v.mul_(group["momentum"]).add_(g * scaled_lr)
                p.sub_(v)


# --- the step and its timing ---------------------------------------------------------------


def make_step(batch_size, image_size, width, channels_last=False, seed=0):
    """Model, optimizer and a ``step(images_nchw) -> loss`` closure."""
    torch.manual_seed(seed)
    model = SimCLRNet(width)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.train()
    # Same base rate as the Keras run (1.0 × B/256); a constant rate: the schedule costs nothing.
    optimizer = LARS(model.parameters(), lr=1.0 * batch_size / 256)
    generator = torch.Generator().manual_seed(seed)

    def step(images):
        views = augment(images, generator, image_size)
        if channels_last:
            views = views.contiguous(memory_format=torch.channels_last)
        loss = nt_xent(model(views))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return model, optimizer, step


def time_steps(images_nhwc, image_size, width, steps, warmup, channels_last=False, seed=0):
    """Times (s) of ``steps`` timed steps, the losses, and the times of the ``warmup`` steps."""
    images = torch.from_numpy(np.ascontiguousarray(images_nhwc.transpose(0, 3, 1, 2)))
    _, _, step = make_step(images.shape[0], image_size, width, channels_last, seed)
    times, losses, warmup_times = [], [], []
    for i in range(warmup + steps):
        start = time.perf_counter()
        loss = float(step(images))  # float() is a sync point (a no-op on CPU, needed on GPU)
        (warmup_times if i < warmup else times).append(time.perf_counter() - start)
        losses.append(loss)
    return times, losses, warmup_times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--images", help=".npy of (B, H, W, 3) float32 in [0, 1]; else random")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.images:
        images = np.load(args.images)
    else:
        rng = np.random.default_rng(args.seed)
        images = rng.random((args.batch_size, args.image_size, args.image_size, 3), np.float32)
    times, losses, warmup_times = time_steps(images, args.image_size, args.width, args.steps, args.warmup,
                               args.channels_last, args.seed)
    print(json.dumps({
        "implementation": "plain torch " + ("channels_last" if args.channels_last else "eager"),
        "batch_size": int(images.shape[0]), "image_size": args.image_size, "width": args.width,
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "warmup_times": warmup_times, "step_times": times, "losses": losses,
        "loss_is_finite": all(math.isfinite(x) for x in losses),
    }))


if __name__ == "__main__":
    main()
