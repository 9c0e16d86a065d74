"""Portable checkpoints: a model saved on any backend loads on the other two and carries on.

For each of the six ordered pairs (source → target) of jax, torch and tensorflow, a tiny SimCLR
model trained for 3 steps on the source and saved as ``.keras`` is loaded on the target
(``checkpoint_worker.py``, one subprocess per backend and phase, KERAS_BACKEND fixed per
process, working directory outside the repository so the installed package is imported), and:

- every weight, batch-norm statistic and optimizer variable (LARS momentum, iteration count) is
  restored bit for bit;
- the embeddings h and z of the same images agree within 1e-5;
- training resumes: one LARS step on fixed gradients gives the same update as on the source
  (the optimizer and its restored state alone), and one full train step on a fixed batch gives
  the same weights (forward, NT-Xent, backprop and LARS on the target's kernels);
- ``simclr embed --backend T --checkpoint S.keras`` (a real CLI process) gives the source's
  embeddings, for jax → torch, torch → tensorflow and tensorflow → jax;
- a loaded model keeps its variable paths (LARS picks weight decay and adaptation by path) and
  compiles its train step as the target backend would (``jit_compile``).

Augmentation random streams differ by backend (JAX, TF and torch PRNGs behind
``keras.random``), so the resumed train step uses a deterministic augmentation (whole-image crop,
every random stage off): see ``checkpoint_worker.py``. The augmentation's RNG state itself is
not in a ``.keras`` file (Keras saves layer variables, not SeedGenerator states): a loaded model
restarts its augmentation streams, on any backend; these variables are left out below.

Slow (~4 min on 2 shared CPU cores): ``nox -s parity`` runs it, a bare ``pytest`` does not
(``conftest.py``). Run it alone with ``pytest tests/parity/test_portable_checkpoints.py`` (any
KERAS_BACKEND: the work happens in the subprocesses); ``PARITY_CHECKPOINTS_REUSE=DIR`` re-checks
the files a previous run left in DIR without running the subprocesses again.
"""

import itertools
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import parity_report as report
import pytest

BACKENDS = ("jax", "torch", "tensorflow")
PAIRS = list(itertools.permutations(BACKENDS, 2))
CLI_PAIRS = [("jax", "torch"), ("torch", "tensorflow"), ("tensorflow", "jax")]
WORKER = pathlib.Path(__file__).with_name("checkpoint_worker.py")
TIMEOUT = 600  # seconds per process; the whole test takes ~4 min on 2 shared cores
ROWS = []

# h and z of the same images, normwise: |Δ| ≤ 1e-5·|e| + 1e-5·max|e|. Measured ~3e-7 of max|h|.
EMBEDDING_RTOL = 1e-5
# One LARS step on fixed gradients: the same float32 math on the same inputs, only norms summed
# in a different order: ‖Δv‖ ≤ 1e-5·‖v‖ per variable (measured ≤ 3e-7).
FIXED_GRADIENT_RTOL = 1e-5
# One train step: the gradients now come from each backend's own conv / BN / NT-Xent backward
# kernels, whose float32 rounding differs (the forward alone is ~1e-5 from the reference for
# these nets in training mode, see test_parity.py). The step taken (the new LARS velocity, as
# the update is non-Nesterov) must agree to 1e-4 of its norm per variable (measured ≤ 3e-5),
# the weights after it to 1e-4·‖step‖ + 1e-6 relative (float32 resolution of the weights).
TRAIN_STEP_RTOL = 1e-4


def _env(backend, directory):
    # JAX's persistent compilation cache lets the load phase reuse what the save phase compiled
    # (the random initializers of every kernel shape, the train step): ~20 s less.
    cache = dict(JAX_COMPILATION_CACHE_DIR=str(directory / "jax_cache"),
                 JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
                 JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")
    return dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2", **cache)


def _run(jobs, cwd, parallel=2):
    """Run ``(label, command, env)`` jobs, ``parallel`` at a time (mostly single-threaded
    imports and compiles; more processes than the 2 CPU cores only add contention), output to
    files. Returns ``{label: CompletedProcess}``."""
    logs = pathlib.Path(cwd) / "logs"
    logs.mkdir(exist_ok=True)
    pending, running, results = list(jobs), {}, {}
    while pending or running:
        while pending and len(running) < parallel:
            label, command, env = pending.pop(0)
            out = open(logs / f"{label.replace(' ', '_')}.log", "w+")
            process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out,
                                       stderr=subprocess.STDOUT, text=True)
            running[label] = (process, out, time.monotonic())
        for label, (process, out, started) in list(running.items()):
            if process.poll() is None and time.monotonic() - started < TIMEOUT:
                continue
            timed_out = process.poll() is None
            if timed_out:
                process.kill()
                process.wait()
            out.seek(0)
            output = out.read() + (f"\n[killed after {TIMEOUT} s]" if timed_out else "")
            out.close()
            results[label] = subprocess.CompletedProcess(process.args, process.returncode,
                                                         output, output)
            del running[label]
        time.sleep(0.2)
    return results


def _check(results):
    for label, result in results.items():
        assert result.returncode == 0, f"{label} failed:\n{result.stderr[-4000:]}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Save on every backend, then load every checkpoint on the two other backends (and run the
    CLI embeds alongside). Returns the working directory."""
    reuse = os.environ.get("PARITY_CHECKPOINTS_REUSE")  # development: a previous run's directory
    if reuse:
        yield pathlib.Path(reuse)
        report.write(ROWS)
        return
    directory = tmp_path_factory.mktemp("portable")
    images = np.random.default_rng(5).uniform(size=(6, 16, 16, 3)).astype("float32")
    np.savez(directory / "images.npz", images=images)
    python = sys.executable
    worker = [python, str(WORKER)]
    saves = [(f"save on {b}", [*worker, "save", str(directory)], _env(b, directory))
             for b in BACKENDS]
    _check(_run(saves, cwd=directory))
    others = {t: [s for s in BACKENDS if s != t] for t in BACKENDS}
    jobs = [(f"load on {t}", [*worker, "load", str(directory), *others[t]], _env(t, directory))
            for t in BACKENDS]
    for source, target in CLI_PAIRS:
        command = [python, "-m", "simclr_keras3.cli.main", "embed", "--backend", target,
                   "--checkpoint", str(directory / f"{source}.keras"),
                   "--input", str(directory / "images.npz"),
                   "--out", str(directory / f"{source}.cli.{target}.npy")]
        # KERAS_BACKEND empty: the --backend option alone must pick the backend.
        env = dict(_env(target, directory), KERAS_BACKEND="")
        jobs.append((f"cli {source}→{target}", command, env))
    results = _run(jobs, cwd=directory)
    _check({k: v for k, v in results.items() if k.startswith("load")})
    (directory / "cli_results").mkdir()
    for label, result in results.items():
        if label.startswith("cli"):
            pair = label.split(" ")[1]
            text = f"{result.returncode}\n{result.stdout[-4000:]}"
            (directory / "cli_results" / pair).write_text(text)
    yield directory
    report.write(ROWS)


def _load(directory, source, target=None):
    name = f"{source}.source.npz" if target is None else f"{source}.on.{target}.npz"
    with np.load(directory / name) as f:
        return dict(f)


def _entries(data, prefix, kind):
    """``[(path, array)]`` of a recorded state, in order; SeedGenerator states left out."""
    paths = data[f"{prefix}/{kind}_paths"]
    return [(str(p), data[f"{prefix}/{kind}/{i:04d}"]) for i, p in enumerate(paths)
            if "seed_generator" not in str(p)]


def _pair_id(pair):
    return f"{pair[0]}→{pair[1]}"


def _flat(entries):
    return np.concatenate([np.ravel(value).astype(np.float64) for _, value in entries])


@pytest.mark.parametrize("pair", PAIRS, ids=_pair_id)
def test_weights_statistics_and_optimizer_state_are_restored_exactly(runs, pair):
    source, target = pair
    saved, loaded = _load(runs, source), _load(runs, source, target)
    for kind, op in (("model", "checkpoint: weights + BN statistics"),
                     ("optimizer", "checkpoint: LARS momentum + iteration")):
        expected, actual = _entries(saved, "saved", kind), _entries(loaded, "saved", kind)
        assert len(actual) == len(expected), kind
        report.compare(ROWS, op, _pair_id(pair), _flat(actual), _flat(expected), (1e-30, 0.0))
        for (path, want), (_, got) in zip(expected, actual):
            assert np.array_equal(got, want), f"{path} differs after loading"
            # Floats keep their dtype; the iteration counter is int32 on JAX (no x64), int64 on
            # the others, and converts on loading.
            assert got.dtype == want.dtype or got.dtype.kind == want.dtype.kind == "i", path


@pytest.mark.parametrize("pair", PAIRS, ids=_pair_id)
def test_embeddings_h_and_z_agree(runs, pair):
    source, target = pair
    saved, loaded = _load(runs, source), _load(runs, source, target)
    for layer in ("h", "z"):
        scale = float(np.abs(saved[layer]).max())
        tolerance = (EMBEDDING_RTOL, EMBEDDING_RTOL * scale)
        report.compare(ROWS, f"embedding {layer} (inference)", _pair_id(pair), loaded[layer],
                       saved[layer], tolerance)


def _compare_step(directory, pair, step, rtol, label):
    """The state after one more step on the target against the same step on the source.

    Every comparison is recorded before any assertion fails, so the report shows them all.
    """
    source, target = pair
    saved, loaded = _load(directory, source), _load(directory, source, target)
    failures = []

    def check(compare, *args):
        try:
            compare(ROWS, *args)
        except AssertionError as error:
            lines = str(error).strip().splitlines()  # the line naming the op and variable
            failures.append(lines[0 if compare is report.compare_normwise else 2])

    # The step taken: the new LARS velocity of every trainable variable (the update itself, as
    # the update is non-Nesterov), normwise per variable.
    step_norms = []
    optimizer = zip(_entries(saved, step, "optimizer"), _entries(loaded, step, "optimizer"))
    for (path, want), (_, got) in optimizer:
        if path.endswith("_momentum"):
            check(report.compare_normwise, f"{label}: LARS step (velocity)", _pair_id(pair),
                  got, want, rtol, path)
            step_norms.append(float(np.linalg.norm(want)))
        else:  # the iteration count and the learning rate
            check(report.compare, f"{label}: iteration, lr", _pair_id(pair), got, want,
                  (1e-6, 0.0), path)
    # The weights after the step: off by at most what the step may be off by (rtol·‖step‖ per
    # variable), plus float32 resolution. Trainable variables come in the order of the velocities.
    trainable = [bool(t) for p, t in zip(saved["saved/model_paths"], saved["trainable"])
                 if "seed_generator" not in str(p)]
    steps = iter(step_norms)
    model = zip(trainable, _entries(saved, step, "model"), _entries(loaded, step, "model"))
    for is_trainable, (path, want), (_, got) in model:
        if is_trainable:
            tolerance = (1e-6, rtol * next(steps))
            check(report.compare, f"{label}: weights after", _pair_id(pair), got, want,
                  tolerance, path)
        else:  # BN moving statistics, moved by 0.1·(batch moment − old): forward-pass rounding
            tolerance = (1e-5, 1e-5 * float(np.abs(want).max()))
            check(report.compare, f"{label}: BN statistics after", _pair_id(pair), got, want,
                  tolerance, path)
    assert not failures, f"{len(failures)} mismatches: " + "; ".join(failures[:4])


@pytest.mark.parametrize("pair", PAIRS, ids=_pair_id)
def test_lars_step_on_fixed_gradients_resumes_identically(runs, pair):
    _compare_step(runs, pair, "fixed_gradient_step", FIXED_GRADIENT_RTOL, "resume, fixed gradients")


@pytest.mark.parametrize("pair", PAIRS, ids=_pair_id)
def test_train_step_resumes_on_the_target(runs, pair):
    _compare_step(runs, pair, "train_step", TRAIN_STEP_RTOL, "resume, train step")


def test_variable_paths_are_the_same_after_loading(runs):
    """LARS decides weight decay and adaptation by variable path; a loaded model must see the
    paths the saved one had, on every backend."""
    mismatches = []
    for source, target in PAIRS:
        saved, loaded = _load(runs, source), _load(runs, source, target)
        entries = zip(_entries(saved, "saved", "model"), _entries(loaded, "saved", "model"))
        for (want, _), (got, _) in entries:
            if want != got:
                mismatches.append(f"{source}→{target}: {want} saved, {got} loaded")
    assert not mismatches, f"{len(mismatches)} paths change on loading, e.g. {mismatches[:2]}"


@pytest.mark.parametrize("pair", PAIRS, ids=_pair_id)
def test_a_loaded_model_compiles_as_the_target_backend_would(runs, pair):
    """``jit_compile="auto"`` resolves per backend: True on JAX (XLA), False on torch (True there
    means torch.compile: minutes per step of this tiny model on CPU), per model on TensorFlow.
    Stored resolved, a checkpoint imposes the source's choice: a JAX checkpoint turns on
    torch.compile on torch, a torch one turns jit off on JAX (an eager JAX train step)."""
    source, target = pair
    loaded = str(_load(runs, source, target)["jit_compile"])
    native = str(_load(runs, target)["jit_compile"])  # the target's own model, compiled there
    assert loaded == native, (
        f"a {source} checkpoint loads on {target} with jit_compile={loaded}; "
        f"compile() there gives {native}")


@pytest.mark.parametrize("pair", CLI_PAIRS, ids=_pair_id)
def test_simclr_embed_cli_loads_a_checkpoint_from_another_backend(runs, pair):
    source, target = pair
    returncode, output = (runs / "cli_results" / _pair_id(pair)).read_text().split("\n", 1)
    assert returncode == "0", (
        f"simclr embed --backend {target} on a {source} checkpoint failed:\n{output}")
    expected = np.load(runs / f"{source}.embed.npy")  # the same function, in-process, on the source
    actual = np.load(runs / f"{source}.cli.{target}.npy")
    scale = float(np.abs(expected).max())
    report.compare(ROWS, "simclr embed CLI (h)", _pair_id(pair), actual, expected,
                   (EMBEDDING_RTOL, EMBEDDING_RTOL * scale))

