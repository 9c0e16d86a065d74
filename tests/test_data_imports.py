"""Array-only workflows must never import TensorFlow."""

import subprocess
import sys

SCRIPT = """
import sys
import simclr_keras3.data as data
data.load_dataset("fashion_mnist_subset", split="test", limit=8)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "tensorflow_datasets"))
assert not loaded, loaded
"""


def test_loading_the_embedded_set_does_not_import_tensorflow():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
