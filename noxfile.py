"""Test sessions, one per Keras backend, and the cross-backend parity session: `nox` runs them
all (this is what CI runs).

Each session installs the package from a built wheel (not editable), so the tests exercise the
installed layout in which `backends/` and `cli/` live under the `simclr_keras3` namespace.
"""

import os

import nox

nox.options.sessions = ["tests", "parity"]
nox.options.reuse_existing_virtualenvs = True

# The CPU wheel on disk; an unpinned torch pulls a multi-GB CUDA build.
TORCH_PIN = "torch==2.13.0"


def install(session):
    # Every backend in every session: the checkpoint tests save on one backend and load on the
    # others, in subprocesses.
    session.install(TORCH_PIN)
    session.install(".[all,test]")


@nox.session(name="tests")
@nox.parametrize("backend", ["jax", "torch", "tensorflow"], ids=["jax", "torch", "tensorflow"])
def tests(session, backend):
    """Run the test suite with KERAS_BACKEND=backend, after checking keras really uses it."""
    install(session)
    env = {"KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    session.run(
        "python", "-c",
        "import keras, sys; b = keras.backend.backend(); "
        f"sys.exit(0 if b == {backend!r} else f'keras runs {{b}}, expected {backend}')",
        env=env,
    )
    session.run("pytest", *session.posargs, env=env)


@nox.session(name="parity")
def parity(session):
    """Every backend against the float64 reference, then portable checkpoints; prints a table.

    ``make_fixtures.py --check`` first rebuilds the reference fixtures in memory and compares
    them with the committed files; ``tests/parity/test_parity.py`` runs once per backend
    (KERAS_BACKEND set and checked), each run adding its errors to a JSON report; ``test_portable_checkpoints.py`` runs once (it starts
    its own processes on all three backends); ``print_table.py`` then prints op × backend. A
    failing step does not stop the others (the table shows every backend); the session fails
    at the end if any did.
    """
    install(session)
    report = os.path.join(session.create_tmp(), "parity_report.json")
    if os.path.exists(report):
        os.remove(report)  # a reused tmp dir must not carry rows of an earlier run
    failed = []

    def run(label, *args, env=None):
        try:
            session.run(*args, env=env)
        except nox.command.CommandFailed:
            failed.append(label)

    # The committed fixtures are what reference.py computes (NumPy only, seconds).
    run("fixtures", "python", "tests/parity/make_fixtures.py", "--check")

    for backend in ("jax", "torch", "tensorflow"):
        env = {"KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2", "PARITY_REPORT": report}
        session.run(
            "python", "-c",
            "import keras, sys; b = keras.backend.backend(); "
            f"sys.exit(0 if b == {backend!r} else f'keras runs {{b}}, expected {backend}')",
            env=env,
        )
        run(f"parity on {backend}", "pytest", "tests/parity/test_parity.py", *session.posargs, env=env)
    run("portable checkpoints", "pytest", "tests/parity/test_portable_checkpoints.py", *session.posargs,
        env={"TF_CPP_MIN_LOG_LEVEL": "2", "PARITY_REPORT": report})
    if os.path.exists(report):
        session.run("python", "tests/parity/print_table.py", report)
    if failed:
        session.error(f"failed: {', '.join(failed)}")
