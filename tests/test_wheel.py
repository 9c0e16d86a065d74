"""The built wheel installs backends/ and cli/ under the simclr_keras3 namespace only."""

import pathlib
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    if not (ROOT / "pyproject.toml").exists():
        pytest.skip("not running from a source checkout")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True, capture_output=True,
    )
    (path,) = out.glob("simclr_keras3-*.whl")
    return zipfile.ZipFile(path)


def test_only_the_simclr_keras3_namespace_is_installed(wheel):
    top_level = {name.split("/")[0] for name in wheel.namelist()}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"simclr_keras3"}
    names = set(wheel.namelist())
    for expected in (
        "simclr_keras3/backends/__init__.py",
        "simclr_keras3/backends/jax.py",
        "simclr_keras3/backends/torch.py",
        "simclr_keras3/backends/tensorflow.py",
        "simclr_keras3/cli/main.py",
        "simclr_keras3/data/fashion_mnist_subset.npz",
        "simclr_keras3/data/NOTICE.fashion-mnist",
    ):
        assert expected in names


def test_console_script_points_at_the_cli(wheel):
    (entry_points,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "simclr = simclr_keras3.cli.main:main" in text
