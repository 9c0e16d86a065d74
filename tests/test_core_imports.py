"""The core stays backend-neutral: no framework imports outside backends/ and the data module."""

import ast
import os
import pathlib
import subprocess
import sys

import simclr_keras3

PACKAGE = pathlib.Path(simclr_keras3.__file__).parent
FRAMEWORKS = {"jax", "jaxlib", "torch", "tensorflow", "tensorflow_datasets", "tf_keras"}


def _imported_modules(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_model_side_modules_do_not_import_frameworks():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ("data", "backends", "cli"):
            continue
        for module in _imported_modules(path):
            if module.split(".")[0] in FRAMEWORKS:
                offenders.append(f"{relative}: {module}")
    assert offenders == []


def test_data_module_imports_tensorflow_only_inside_functions():
    for path in (PACKAGE / "data").rglob("*.py"):
        top_level = ast.parse(path.read_text()).body
        for node in top_level:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                assert not any(n and n.split(".")[0] in FRAMEWORKS for n in names), path


def test_training_on_arrays_with_jax_never_loads_tensorflow_or_torch(tmp_path):
    code = (
        "import sys\n"
        "from simclr_keras3.pretrain import build_model\n"
        "from simclr_keras3.pretrain_config import PretrainConfig\n"
        "from simclr_keras3.data import load_dataset\n"
        "load_dataset('fashion_mnist_subset', limit=8, image_size=16)\n"
        "build_model(PretrainConfig(width=0.125, image_size=16))\n"
        "print(sorted(m for m in ('tensorflow', 'torch') if m in sys.modules))\n"
    )
    env = dict(os.environ, KERAS_BACKEND="jax")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
