"""N devices ≡ 1 device: the first loss, BN moving statistics and weights after 1 and 3 LARS steps.

Each run is a subprocess (devices are fixed when a framework starts): JAX with 4 host devices,
TensorFlow with 4 logical CPU devices under MirroredStrategy, torch with 2 gloo processes.
"""

import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

BACKEND = keras.backend.backend()
WORKER = pathlib.Path(__file__).with_name("distributed_worker.py")
DEVICES = {"jax": 4, "tensorflow": 4, "torch": 2}[BACKEND]
TOLERANCE = 1e-5  # relative, float32


def _train(tmp_path, devices, disable=None):
    out = tmp_path / f"{devices}-{disable}.npz"
    command = [str(WORKER), "--devices", str(devices), "--out", str(out)]
    if disable:
        command += ["--disable", disable]
    if BACKEND == "torch" and devices > 1:
        command = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={devices}", *command]
    env = dict(os.environ, KERAS_BACKEND=BACKEND, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run([sys.executable, *command], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    saved = dict(np.load(out))
    checked_ranks = devices if BACKEND == "torch" and disable is None else 1
    for rank in range(1, checked_ranks):
        other = dict(np.load(f"{out}.rank{rank}.npz"))
        for key, value in saved.items():  # every process holds the same model
            if key != "rank":
                np.testing.assert_allclose(other[key], value, rtol=1e-6, atol=1e-7, err_msg=key)
    return saved


def _relative_errors(actual, expected):
    errors = {}
    for key, want in expected.items():
        if key in ("rank", "devices_used"):
            continue
        got = actual[key]
        errors[key] = float(np.linalg.norm(np.ravel(got - want)) / max(np.linalg.norm(np.ravel(want)), 1e-12))
    return errors


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("one"), 1)


@pytest.fixture(scope="module")
def several(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("many"), DEVICES)


def test_n_devices_equal_one_device(single, several):
    assert int(several["devices_used"]) == DEVICES and int(single["devices_used"]) == 1
    errors = _relative_errors(several, single)
    assert set(errors) >= {"loss"}
    moving = [k for k in errors if "moving_mean" in k or "moving_variance" in k]
    assert moving and any(k.startswith("step3/") for k in errors)
    worst = max(errors, key=errors.get)
    print(f"\n{BACKEND}: {DEVICES} devices vs 1: loss rel err {errors['loss']:.1e}, worst {worst} {errors[worst]:.1e}")
    assert errors[worst] <= TOLERANCE, f"{worst}: relative error {errors[worst]:.2e}"


@pytest.mark.skipif(BACKEND == "jax", reason="JAX runs one jit over the global batch: there is no "
                    "local gather or BN moment to switch off")
@pytest.mark.parametrize("disable", ["gather", "bn_sync"])
def test_equivalence_fails_without_the_collective(single, disable, tmp_path):
    broken = _train(tmp_path, DEVICES, disable=disable)
    errors = _relative_errors(broken, single)
    assert max(errors.values()) > 100 * TOLERANCE
