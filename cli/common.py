"""What every command shares: choosing the Keras backend before keras loads, and one-line errors."""

import functools
import importlib.util
import os
import sys

import click

BACKENDS = ("jax", "torch", "tensorflow")
# The module each backend needs, and the extra that installs it.
_BACKEND_MODULES = {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow"}

backend_option = click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default=lambda: os.environ.get("KERAS_BACKEND", "jax"),
    show_default="$KERAS_BACKEND or jax",
    help="Keras backend to run on.",
)


def select_backend(name):
    """Set KERAS_BACKEND to ``name``; must run before anything imports keras.

    Raises:
        UserInputError-like click exit (status 2) when the backend is not installed or keras was
        already loaded with another backend.
    """
    if importlib.util.find_spec(_BACKEND_MODULES[name]) is None:
        fail(f"backend {name!r} is not installed: pip install 'simclr-keras3[{name}]'")
    if "keras" in sys.modules:
        import keras

        loaded = keras.backend.backend()
        if loaded != name:
            fail(
                f"keras is already loaded with the {loaded!r} backend; "
                f"start a new process to use {name!r}"
            )
        return
    os.environ["KERAS_BACKEND"] = name


def fail(message):
    """Print ``message`` as one error line and exit with status 2."""
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def user_errors(command):
    """Turn UserInputError raised by library code into a one-line error and exit status 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from simclr_keras3.errors import UserInputError

        try:
            return command(*args, **kwargs)
        except UserInputError as error:
            fail(str(error))

    return wrapper
