"""Error rows of the parity suite and the ``PARITY_REPORT`` JSON file they go to.

A row is ``{op, backend, max_abs, max_rel, rtol, atol}``. ``max_rel`` is
``max |a − e| / (|e| + atol / rtol)``: the elementwise relative error, softened where ``|e|`` is
below ``atol / rtol``, so that a comparison passes exactly when ``max_rel ≤ rtol``
(NumPy's ``|a − e| ≤ atol + rtol·|e|``).
"""

import json
import os

import numpy as np


def compare(rows, op, backend, actual, expected, tolerance, err_msg=""):
    """Append the errors of ``actual`` against ``expected`` to ``rows``, then assert."""
    rtol, atol = tolerance
    actual = np.asarray(actual, np.float64)
    expected = np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, (op, err_msg, actual.shape, expected.shape)
    error = np.abs(actual - expected)
    max_abs = float(error.max()) if error.size else 0.0
    max_rel = float((error / (np.abs(expected) + atol / rtol)).max()) if error.size else 0.0
    rows.append(dict(op=op, backend=backend, max_abs=max_abs, max_rel=max_rel, rtol=rtol, atol=atol))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=f"{op} {err_msg}")


def write(rows):
    """Merge ``rows`` into the file named by ``PARITY_REPORT`` (if set): a rerun replaces the
    rows of the backends (or source→target pairs) it reports on."""
    path = os.environ.get("PARITY_REPORT")
    if not path or not rows:
        return
    previous = []
    if os.path.exists(path):
        with open(path) as handle:
            previous = json.load(handle)
    replaced = {row["backend"] for row in rows}
    merged = [row for row in previous if row["backend"] not in replaced] + rows
    with open(path, "w") as handle:
        json.dump(merged, handle, indent=1)
