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
    denominator = np.abs(expected) + atol / rtol
    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 (exact comparisons) counts as 0
        relative = np.where(error == 0, 0.0, error / denominator)
    max_rel = float(relative.max()) if error.size else 0.0
    rows.append(dict(op=op, backend=backend, max_abs=max_abs, max_rel=max_rel, rtol=rtol,
                     atol=atol))
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


def compare_normwise(rows, op, backend, actual, expected, rtol, err_msg=""):
    """Append and assert ``‖a − e‖ ≤ rtol·‖e‖`` (recorded as ``max_rel``; ``atol`` 0).

    For updates computed by two backends: an element where two terms nearly cancel (momentum
    against a new step) has a large relative error of its own, while the step as a whole is
    what training follows.
    """
    actual = np.asarray(actual, np.float64)
    expected = np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, (op, err_msg, actual.shape, expected.shape)
    difference = float(np.linalg.norm(actual - expected))
    scale = float(np.linalg.norm(expected))
    max_abs = float(np.abs(actual - expected).max()) if actual.size else 0.0
    max_rel = difference / scale if scale > 0 else (0.0 if difference == 0 else float("inf"))
    rows.append(dict(op=op, backend=backend, max_abs=max_abs, max_rel=max_rel, rtol=rtol,
                     atol=0.0))
    assert difference <= rtol * scale, f"{op} {err_msg}: ‖Δ‖/‖e‖ = {max_rel:.3g} > {rtol}"
