"""Training-step benchmark: simclr-keras3 on each Keras backend vs a plain-PyTorch SimCLR step.

Every implementation runs in its own subprocess (one Keras backend per process; the plain-torch
peer eager and channels-last), one after the other so they do not compete for the cores, on the
same batch size, image size, width and the same random input images (written once to a .npy).
A step is the whole SimCLR step: two augmented views per image, ResNet-18 (CIFAR stem) on the
2N views, projection head, NT-Xent, backward, LARS update. Warm-up steps (JAX/TF tracing and
compilation, torch allocator warm-up) are not timed; the table reports the MEDIAN of the timed
steps. Targets (the issue): Keras+JAX ≥ 1.2× and Keras+torch ≥ 0.8× plain-PyTorch eager
throughput.

Command (default = the issue's size, batch 256 at width 1: slow on CPU — with ``--steps 3
--warmup 1`` the five runs took ~40 min on 2 cores shared with other jobs)::

    python bench/train_step.py
    python bench/train_step.py --batch-size 64 --width 0.5 --steps 3 --warmup 1   # quick check

Example output (measured: 2 CPU cores shared with other jobs, load average 5-7, default
threads; simclr_keras3 at the working tree of the time)::

    SimCLR train step: ResNet-18 (CIFAR stem) width 0.25, batch 32, 32x32 images, 3 timed steps after 1 warm-up
    implementation             median step (s)   images/s  vs plain torch eager  mode
    -------------------------  ---------------  ---------  --------------------  ----------------
    plain torch eager                    5.395        5.9                 1.00×  eager
    plain torch channels_last            3.373        9.5                 1.60×  eager
    keras jax                            1.212       26.4                 4.45×  jit
    keras torch                          9.143        3.5                 0.59×  eager
    keras tensorflow                     1.173       27.3                 4.60×  tf.function
    targets: keras jax ≥ 1.2× plain torch eager: met (4.45×); keras torch ≥ 0.8× plain torch eager: NOT met (0.59×)
    images/s counts input images; each is augmented into 2 views, so the encoder sees 64 images per step.

Data parallelism (``--devices N``): every Keras backend runs at 1 device and at N simulated CPU
devices with the SAME global batch (JAX host devices via XLA_FLAGS, TF logical CPU devices under
MirroredStrategy, N torch processes over gloo via ``torch.distributed.run``; see
``bench/keras_step.py``), side by side with the N/1 throughput ratio. On TF and torch it also
reruns the N-device step with the all-gather of z, then the BN-moment all-reduce, replaced by an
identity: the time saved is that collective's share of the step. On JAX the adapter's collectives
are identities (XLA places its own all-gathers / all-reduces inside the one jit), so there is
nothing to switch off. The table ends with the bytes those collectives move per step, counted from
the model. The plain-torch peer is single-device and is skipped in this mode. Simulated devices
share the machine's cores (torchrun gives each process 1 OpenMP thread), so N devices cannot be
faster than 1 here beyond what the single-device run left idle: the ratio measures the cost of
splitting the step and of the collectives, not the scaling of N real accelerators. Quick default
sizes in this mode: batch 64 (global), width 0.25, 32 px, 3 timed steps after 1 warm-up::

    python bench/train_step.py --devices 2                   # all three backends, ~6-8 min
    python bench/train_step.py --devices 2 --backends torch --no-ablation

Example output (``--devices 2 --steps 5``; 2 CPU cores shared with other jobs, load average
2-3; the collective rows of the communication block are exact, the times are not)::

    backend           devices  collectives           median step (s)   images/s  vs 1 device  share of step
    ----------------  -------  --------------------  ---------------  ---------  -----------  -------------
    keras jax               1  none (1 device)                 1.136       56.3        1.00×
    keras jax               2  XLA's, inside the jit            2.176       29.4        0.52×
    keras torch             1  none (1 device)                 3.993       16.0        1.00×
    keras torch             2  all                             1.136       56.3        3.51×
    keras torch             2  no z gather                     1.026       62.4        3.89×           +10%
    keras torch             2  no BN sync                      0.996       64.2        4.01×           +12%
    keras tensorflow        1  none (1 device)                 0.622      102.9        1.00×
    keras tensorflow        2  all                             2.159       29.6        0.29×
    keras tensorflow        2  no z gather                     2.587       24.7        0.24×           -20%
    keras tensorflow        2  no BN sync                      2.044       31.3        0.30×            +5%
    communication per step at 2 devices (float32; counted from the model):
      z all-gather: 2·B·D·4 = 65,536 bytes gathered (B 64, D 128), in 2 calls; [...]
      BN moments all-reduce: 2 floats × 1328 channels × 4 = 10,624 bytes over 21 BN layers, in 42 calls; [...]
      for scale, the gradient all-reduce: 733,328 parameters × 4 = 2,933,312 bytes in 65 tensors

The same command (3 timed steps) minutes earlier gave jax 1.30 → 0.62 s (2.11×), torch
0.47 → 1.21 s (0.39×; gather +11 %, BN sync +19 %), TF 0.98 → 2.00 s (0.49×; +2 %, +7 %), and
jax alone right after 0.87 → 1.15 s (0.75×): on shared cores the 1-device eager torch step
swings 8× (its 2 OpenMP threads spin against other jobs; each torchrun process has 1), and the
jax ratio swings from 0.5× to 2×. What held in all runs: two TF logical devices on one CPU
cost 2-3× the single-device step (MirroredStrategy's per-replica graph and cross-device copies,
not the collectives: switching either off saves ≤ 7 %), and on torch the BN all-reduces
(42 small gloo calls forward, 42 backward) cost more than the 2 gathers (+12-19 % vs +10-11 %).

Read such numbers with care. On an oversubscribed machine a 2-thread eager torch process
(OpenMP pools that spin at every one of its many small ops) loses far more than XLA or TF
graphs do; the same run with ``--threads 1`` (each run pinned to one core) gave plain torch
1.20 s, channels-last 0.67 s, Keras JAX 1.64 s (0.74×), torch 1.30 s (0.92×), TF 1.73 s (0.69×).
On a quiet machine, or one you own, compare both settings before you conclude anything.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BACKENDS = ("jax", "torch", "tensorflow")
BASELINE = "plain torch eager"
TARGETS = (("keras jax", 1.2), ("keras torch", 0.8))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="jax,torch,tensorflow",
                        help="comma-separated Keras backends to time (empty: plain torch only)")
    # Defaults None: the size (256, width 1, 5 + 2 steps) on one device, a quick size
    # (64, width 0.25, 3 + 1 steps) with --devices N, where each run is repeated 2-4 times.
    parser.add_argument("--batch-size", type=int, default=None, help="GLOBAL batch")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--width", type=float, default=None, help="ResNet-18 width multiplier")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per implementation")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (jit etc.)")
    parser.add_argument("--threads", type=int, default=None,
                        help="pin each run to N cores (CPU affinity + thread-pool env vars)")
    parser.add_argument("--devices", type=int, default=1,
                        help="N > 1: each backend at 1 and N simulated devices, global batch fixed")
    parser.add_argument("--no-ablation", action="store_true",
                        help="with --devices N: skip the runs without z gather / BN sync")
    parser.add_argument("--jit-compile", default="auto", choices=("auto", "true", "false"),
                        help="model.compile(jit_compile=...) of the Keras runs")
    parser.add_argument("--no-plain-torch", action="store_true", help="skip the plain-torch peer")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per subprocess")
    parser.add_argument("--json", help="also write all per-step results to this file")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    quick = args.devices > 1
    for name, single, multi in (("batch_size", 256, 64), ("width", 1.0, 0.25), ("steps", 5, 3),
                                ("warmup", 2, 1)):
        if getattr(args, name) is None:
            setattr(args, name, multi if quick else single)
    if args.devices < 1 or args.batch_size % args.devices:
        parser.error(f"--batch-size {args.batch_size} must split evenly over "
                     f"--devices {args.devices}")
    unknown = set(args.backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backend(s) {sorted(unknown)}; choose from {', '.join(BACKENDS)}")
    return args


def child_env(args, backend=None):
    env = dict(os.environ)
    env.pop("SIMCLR_BENCH_DEVICES", None)  # the device count goes on the command line
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's start-up chatter out of the log
    if backend:
        env["KERAS_BACKEND"] = backend
    if args.threads:
        n = str(args.threads)
        # Each library sizes its own pool: OpenMP/MKL (torch), TF's intra-op pool. JAX/XLA has
        # no such knob; the CPU affinity set in run_child bounds it (and everyone else).
        env.update(OMP_NUM_THREADS=n, MKL_NUM_THREADS=n, TF_NUM_INTRAOP_THREADS=n,
                   TF_NUM_INTEROP_THREADS="1")
    return env


def run_child(label, command, env, args):
    """Run one implementation; return its JSON result, or a dict with an "error"."""
    print(f"… {label}", file=sys.stderr, flush=True)
    preexec = None
    if args.threads:
        cpus = sorted(os.sched_getaffinity(0))[: args.threads]
        preexec = lambda: os.sched_setaffinity(0, cpus)  # noqa: E731 - runs in the child
    start = time.perf_counter()
    try:
        proc = subprocess.run(command, env=env, capture_output=True, text=True,
                              timeout=args.timeout, preexec_fn=preexec)
    except subprocess.TimeoutExpired:
        return {"implementation": label, "error": f"timed out after {args.timeout:.0f} s"}
    wall = time.perf_counter() - start
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"implementation": label, "error": f"exit {proc.returncode}: {tail}"}
    result = json.loads(lines[-1])
    result["implementation"] = label
    result["process_wall_s"] = wall
    print(f"  done in {wall:.0f} s: steps {[round(t, 3) for t in result['step_times']]}",
          file=sys.stderr, flush=True)
    return result


def common_flags(args, images_path):
    return ["--batch-size", str(args.batch_size), "--image-size", str(args.image_size),
            "--width", str(args.width), "--steps", str(args.steps), "--warmup", str(args.warmup),
            "--images", images_path, "--seed", str(args.seed)] + (
        ["--threads", str(args.threads)] if args.threads else [])


def mode_of(result):
    name = result["implementation"]
    if name.startswith("plain torch"):
        return "eager"
    backend = name.split()[-1]
    if backend == "jax":
        return "jit" if result.get("jit_compile") else "eager (no jit)"
    if backend == "tensorflow":
        return "tf.function+XLA" if result.get("jit_compile") else "tf.function"
    return "torch.compile" if result.get("jit_compile") else "eager"


def format_table(results, args):
    lines = [
        f"SimCLR train step: ResNet-18 (CIFAR stem) width {args.width:g}, batch {args.batch_size}, "
        f"{args.image_size}x{args.image_size} images, {args.steps} timed steps after "
        f"{args.warmup} warm-up"
    ]
    baseline = next((r for r in results if r["implementation"] == BASELINE and "error" not in r),
                    None)
    base_median = statistics.median(baseline["step_times"]) if baseline else None
    header = ("implementation", "median step (s)", "images/s", "vs plain torch eager", "mode")
    widths = (25, 15, 9, 20, 16)
    lines.append("  ".join(h.ljust(w) if i in (0, 4) else h.rjust(w)
                           for i, (h, w) in enumerate(zip(header, widths))))
    lines.append("  ".join("-" * w for w in widths))
    ratios = {}
    for r in results:
        name = r["implementation"]
        if "error" in r:
            lines.append(f"{name.ljust(widths[0])}  failed: {r['error']}")
            continue
        median = statistics.median(r["step_times"])
        rate = args.batch_size / median
        ratio = base_median / median if base_median else None
        ratios[name] = ratio
        note = "" if r.get("loss_is_finite", True) else "  (loss not finite!)"
        lines.append("  ".join((
            name.ljust(widths[0]), f"{median:.3f}".rjust(widths[1]), f"{rate:.1f}".rjust(widths[2]),
            (f"{ratio:.2f}×" if ratio else "n/a").rjust(widths[3]), mode_of(r).ljust(widths[4]),
        )) + note)
    verdicts = []
    for name, target in TARGETS:
        ratio = ratios.get(name)
        if ratio is None:
            verdicts.append(f"{name} ≥ {target}× plain torch eager: not measured")
        else:
            verdict = "met" if ratio >= target else "NOT met"
            verdicts.append(f"{name} ≥ {target}× plain torch eager: {verdict} ({ratio:.2f}×)")
    lines.append("targets: " + "; ".join(verdicts))
    lines.append("images/s counts input images; each is augmented into 2 views, so the encoder "
                 f"sees {2 * args.batch_size} images per step.")
    lines.append("Medians of few steps on a shared machine: other processes on the same cores "
                 "make these noisy (see the per-step times above / in --json).")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    # The same random images for every implementation (content barely matters for speed, but
    # it keeps the crops, losses and any data-dependent paths identical in distribution).
    images = rng.random((args.batch_size, args.image_size, args.image_size, 3), np.float32)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        images_path = os.path.join(tmp, "images.npy")
        np.save(images_path, images)
        flags = common_flags(args, images_path)
        if not args.no_plain_torch and args.devices == 1:  # the plain peer is single-device
            script = os.path.join(HERE, "plain_torch_step.py")
            for suffix, extra in (("eager", []), ("channels_last", ["--channels-last"])):
                results.append(run_child(f"plain torch {suffix}",
                                         [sys.executable, script, *flags, *extra],
                                         child_env(args), args))
        if args.devices == 1:
            for backend in args.backends:
                results.append(run_child(f"keras {backend}",
                                         keras_command(args, flags, backend, 1),
                                         child_env(args, backend), args))
        else:
            results += run_data_parallel(args, flags)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=1)
    print(format_table(results, args) if args.devices == 1 else format_scaling_table(results, args))
    return results


def keras_command(args, flags, backend, devices, disable=None):
    script = os.path.join(HERE, "keras_step.py")
    step_flags = [*flags, "--jit-compile", args.jit_compile, "--devices", str(devices)]
    if disable:
        step_flags += ["--disable", disable]
    if backend == "torch" and devices > 1:
        # One process per device, as `simclr run` launches them. torchrun gives each process
        # OMP_NUM_THREADS=1 unless the environment sets it: N processes share the cores.
        return [sys.executable, "-m", "torch.distributed.run", "--standalone",
                f"--nproc_per_node={devices}", script, *step_flags]
    return [sys.executable, script, *step_flags]


# (label, --disable value) of the N-device runs; jax's collectives cannot be switched off.
VARIANTS = (("all", None), ("no z gather", "gather"), ("no BN sync", "bn_sync"))


def run_data_parallel(args, flags):
    """Each backend at 1 device, at N devices, and (TF, torch) at N without each collective."""
    results = []
    for backend in args.backends:
        runs = [(1, "all", None), (args.devices, "all", None)]
        if backend != "jax" and not args.no_ablation:
            runs += [(args.devices, label, off) for label, off in VARIANTS[1:]]
        for devices, label, off in runs:
            name = f"keras {backend}"
            result = run_child(f"{name} × {devices}" + (f" ({label})" if off else ""),
                               keras_command(args, flags, backend, devices, off),
                               child_env(args, backend), args)
            result.update(implementation=name, devices=devices, variant=label)
            results.append(result)
    return results


def format_scaling_table(results, args):
    lines = [
        f"SimCLR train step, data parallel on simulated CPU devices: ResNet-18 (CIFAR stem) width "
        f"{args.width:g}, GLOBAL batch {args.batch_size} ({args.batch_size // args.devices} per "
        f"device at {args.devices}), {args.image_size}x{args.image_size} images, {args.steps} "
        f"timed steps after {args.warmup} warm-up",
    ]
    header = ("backend", "devices", "collectives", "median step (s)", "images/s", "vs 1 device",
              "share of step")
    widths = (16, 7, 20, 15, 9, 11, 13)
    left = (0, 2)
    lines.append("  ".join(h.ljust(w) if i in left else h.rjust(w)
                           for i, (h, w) in enumerate(zip(header, widths))))
    lines.append("  ".join("-" * w for w in widths))
    medians = {}
    for r in results:
        if "error" not in r:
            medians[(r["implementation"], r["devices"], r["variant"])] = statistics.median(
                r["step_times"])
    for r in results:
        name, devices, variant = r["implementation"], r["devices"], r["variant"]
        backend = name.split()[-1]
        if devices == 1:
            collectives = "none (1 device)"
        elif backend == "jax":
            collectives = "XLA's, inside the jit"
        else:
            collectives = variant
        cells = [name, str(devices), collectives]
        if "error" in r:
            lines.append("  ".join(c.ljust(w) if i in left else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths)))
                         + f"  failed: {r['error']}")
            continue
        median = medians[(name, devices, variant)]
        one = medians.get((name, 1, "all"))
        full = medians.get((name, devices, "all"))
        ratio = f"{one / median:.2f}×" if one else "n/a"
        # What switching the collective off saved, as a share of the full N-device step.
        share = f"{(full - median) / full:+.0%}" if variant != "all" and full else ""
        note = ""
        if r.get("devices_used") not in (None, devices):
            note += f"  (ran on {r['devices_used']} device(s)!)"
        if not r.get("loss_is_finite", True):
            note += "  (loss not finite!)"
        cells += [f"{median:.3f}", f"{args.batch_size / median:.1f}", ratio, share]
        lines.append("  ".join(c.ljust(w) if i in left else c.rjust(w)
                               for i, (c, w) in enumerate(zip(cells, widths))) + note)
    comm = next((r["communication"] for r in results if "communication" in r), None)
    if comm:
        n, b = args.devices, args.batch_size
        d = comm["z_gather_bytes"] // (8 * b)
        lines += [
            f"communication per step at {n} devices (float32; counted from the model):",
            f"  z all-gather: 2·B·D·4 = {comm['z_gather_bytes']:,} bytes gathered (B {b}, D {d}), "
            f"in {comm['z_gather_calls_forward']} calls; each replica receives {(n - 1) / n:.0%} "
            "of it; the backward moves as much again",
            f"  BN moments all-reduce: 2 floats × {comm['bn_channels']} channels × 4 = "
            f"{comm['bn_allreduce_bytes']:,} bytes over {comm['bn_layers']} BN layers, in "
            f"{comm['bn_allreduce_calls_forward']} calls; the backward as much again",
            f"  for scale, the gradient all-reduce: {comm['trainable_parameters']:,} parameters "
            f"× 4 = {comm['gradient_allreduce_bytes']:,} bytes in {comm['gradient_tensors']} "
            "tensors",
        ]
    lines += [
        "share of step: (full step − step with that collective replaced by an identity) / full "
        "step; without the gather the loss also shrinks to local negatives (a little less "
        "compute); within noise when small or negative.",
        "jax: the adapter's gather / BN sync are identities inside ONE jit over the global batch; "
        "XLA inserts the collectives itself, so they cannot be timed this way.",
        "Simulated devices share the same CPU cores: the N-device ratio prices the split and the "
        "collectives, it is not the speed-up of N real accelerators.",
        "Medians of few steps on a shared machine: noisy (per-step times in --json).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
