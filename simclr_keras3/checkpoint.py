"""Checkpoints: a ``.keras`` file plus a JSON of run state, each written atomically."""

import json
import os
import zipfile

import keras

from simclr_keras3.atomic_write import write_atomically, write_path_atomically
from simclr_keras3.errors import UserInputError


def save_checkpoint(model, path, state=None):
    """Save ``model`` (weights, config, optimizer state) to ``path`` atomically.

    Args:
        model: a compiled or uncompiled ``SimCLR`` model.
        path: destination ending in ``.keras``.
        state: optional JSON-serializable run state (epoch, step, seed, config); written next to
            the checkpoint as ``<path>.json``, also atomically.

    Example:
        >>> save_checkpoint(model, "runs/a/model.keras", {"epoch": 3})   # doctest: +SKIP
    """
    if not str(path).endswith(".keras"):
        raise UserInputError(f"checkpoint path must end in .keras, got {path}")
    write_path_atomically(path, lambda tmp: model.save(tmp))
    if state is not None:
        text = json.dumps(state, indent=2, sort_keys=True)
        write_atomically(f"{path}.json", lambda handle: handle.write(text.encode("utf-8")))


def load_checkpoint(path, compile=True):
    """Load a SimCLR checkpoint written by any backend.

    Args:
        path: a ``.keras`` file written by ``save_checkpoint`` (or ``model.save``).
        compile: restore the optimizer (and its state) as well.

    Returns:
        The ``SimCLR`` model.

    Raises:
        UserInputError: the file is missing, not a ``.keras`` archive, or not a SimCLR model.
    """
    # Import every module whose classes a checkpoint may name, so they are registered.
    from simclr_keras3 import lars, projection_head, resnet, schedules  # noqa: F401
    from simclr_keras3.augmentation import simclr_augment  # noqa: F401
    from simclr_keras3.model import SimCLR

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise UserInputError(f"checkpoint {path} does not exist: pass a .keras file from `simclr run`")
    if not zipfile.is_zipfile(path):
        raise UserInputError(f"{path} is not a .keras checkpoint (not a zip archive)")
    with zipfile.ZipFile(path) as archive:
        try:
            config = json.loads(archive.read("config.json"))
        except (KeyError, ValueError):
            raise UserInputError(f"{path} is not a .keras checkpoint (no config.json inside)") from None
    if config.get("class_name") != "SimCLR":
        raise UserInputError(
            f"{path} holds a {config.get('class_name')!r} model, not a SimCLR checkpoint"
        )
    model = keras.saving.load_model(path, compile=compile)
    if not isinstance(model, SimCLR):
        raise UserInputError(f"{path} did not load as a SimCLR model")
    return model


def load_run_state(path):
    """Return the run state saved next to checkpoint ``path``, or None when there is none."""
    state_path = f"{os.fspath(path)}.json"
    if not os.path.isfile(state_path):
        return None
    with open(state_path) as handle:
        return json.load(handle)
