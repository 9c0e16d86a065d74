"""Keep the parity suite out of the regular per-backend sessions.

A bare ``pytest`` (the ``tests`` nox sessions) skips both files: ``nox -s parity`` runs them, the
parity file once per backend and the checkpoint file (~4 min, all three backends in
subprocesses) once. Naming a file runs it: pytest collects explicit paths despite
``collect_ignore``, e.g. ``KERAS_BACKEND=jax pytest tests/parity/test_parity.py``.
"""

collect_ignore = ["test_parity.py", "test_portable_checkpoints.py"]
