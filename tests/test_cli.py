import os
import subprocess
import sys

import keras
import pytest
from click.testing import CliRunner

from simclr_keras3.cli import common
from simclr_keras3.cli.main import main

BACKEND = keras.backend.backend()


def _run(*args):
    return CliRunner().invoke(main, ["run", "--backend", BACKEND, *args])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--batch-size", "1"], "batch size must be at least 2"),
        (["--dataset", "imagenet-please"], "fashion_mnist_subset"),
        (["--image-size", "4"], "too small"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(args, message, tmp_path):
    result = _run("--out", str(tmp_path), "--epochs", "1", *args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in result.output


def test_uninstalled_backend_names_the_extra(monkeypatch):
    monkeypatch.setattr(common.importlib.util, "find_spec", lambda name: None)
    result = CliRunner().invoke(main, ["run", "--backend", "torch"])
    assert result.exit_code == 2
    assert "pip install 'simclr-keras3[torch]'" in result.output


def test_simclr_run_end_to_end(tmp_path):
    env = dict(os.environ, KERAS_BACKEND="")
    cmd = [sys.executable, "-m", "simclr_keras3.cli.main", "run", "--backend", BACKEND,
           "--width", "0.125", "--image-size", "16", "--batch-size", "32", "--epochs", "1",
           "--steps-per-epoch", "2", "--limit", "64", "--out", str(tmp_path / "run")]
    out = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "linear probe top-1" in out.stdout and "random init" in out.stdout
    assert f"checkpoint:      {tmp_path / 'run' / 'model.keras'}" in out.stdout
    assert os.path.isfile(tmp_path / "run" / "model.keras")
