"""Test sessions, one per Keras backend: `nox` runs them all (this is what CI runs).

Each session installs the package from a built wheel (not editable), so the tests exercise the
installed layout in which `backends/` and `cli/` live under the `simclr_keras3` namespace.
"""

import nox

nox.options.sessions = ["tests"]
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
