"""Export embeddings of a dataset to .npy, .npz or .parquet, written atomically."""

import dataclasses
import os

import numpy as np

from simclr_keras3.errors import UserInputError
from simclr_keras3.atomic_write import write_atomically
from simclr_keras3.evaluation.features import LAYERS, embed_model_outputs

FORMATS = (".npy", ".npz", ".parquet")


@dataclasses.dataclass(frozen=True)
class EmbedResult:
    """What ``embed`` wrote.

    Args:
        path: the embeddings file.
        count: embedded images (rows).
        dim: embedding size.
        skipped: inputs the loader skipped (listed in ``skipped_path``).
        skipped_path: the ``<out>.skipped.txt`` sidecar, or None when nothing was skipped.
    """

    path: str
    count: int
    dim: int
    skipped: int
    skipped_path: str | None


def check_out_path(out_path):
    """The format extension of ``out_path`` (".npy", ".npz" or ".parquet"), else UserInputError."""
    out_path = os.fspath(out_path)
    extension = os.path.splitext(out_path)[1].lower()
    if extension not in FORMATS:
        raise UserInputError(
            f"unknown embedding format {extension or '(none)'!r} for {out_path}: "
            f"end the file name in one of {', '.join(FORMATS)}"
        )
    if extension == ".parquet":
        _import_pyarrow()  # fail before the (long) forward pass
    return extension


def load_source(source, image_size, split="train", data_dir=None, limit=None, skip_bad=False):
    """The images to embed: a folder of images (all of it), or anything ``load_dataset`` accepts.

    Example:
        >>> load_source("photos/", image_size=32, skip_bad=True).skipped
    """
    from simclr_keras3.data import load_dataset, load_image_folder

    if os.path.isdir(os.path.expanduser(os.fspath(source))):
        # Every image under the folder, whatever its layout (load_dataset would pick a split).
        return load_image_folder(os.path.expanduser(os.fspath(source)), image_size, skip_bad, limit)
    return load_dataset(source, split, image_size, data_dir, limit, skip_bad=skip_bad)


def embed_checkpoint(
    checkpoint, source, out_path, *, layer="h", batch_size=256, image_size=None, split="train",
    data_dir=None, limit=None, skip_bad=False, progress=True,
):
    """Load a SimCLR checkpoint and a source of images, and ``embed`` them into ``out_path``.

    Args:
        checkpoint: a ``.keras`` file from ``simclr run``.
        source: a dataset name, an ``.npz`` file or a folder of images.
        out_path: ``.npy``, ``.npz`` or ``.parquet``.
        layer, batch_size, progress: as for ``embed``.
        image_size: default: the size the checkpoint was trained at.
        split, data_dir, limit: which images of a named dataset or ``.npz``.
        skip_bad: skip undecodable image files (listed in ``<out>.skipped.txt``).

    Example:
        >>> embed_checkpoint("runs/simclr/model.keras", "photos/", "photos.parquet").count
    """
    from simclr_keras3.checkpoint import load_checkpoint
    from simclr_keras3.evaluation.runs import training_image_size

    check_out_path(out_path)
    if layer not in LAYERS:
        raise UserInputError(f"layer must be one of {LAYERS}, got {layer!r}")
    model = load_checkpoint(checkpoint, compile=False)
    image_size = int(image_size) if image_size else training_image_size(model)
    dataset = load_source(source, image_size, split, data_dir, limit, skip_bad)
    return embed(model, dataset, out_path, layer, batch_size, progress)


def embed(model, dataset, out_path, layer="h", batch_size=256, progress=True):
    """Embed every image of ``dataset`` with a SimCLR model and write the result to ``out_path``.

    The format follows the extension:
        - ``.npy``: the float32 (N, D) embeddings only;
        - ``.npz``: ``embeddings``, ``ids`` and, when the dataset has them, ``labels`` and
          ``class_names``;
        - ``.parquet``: one row per image with ``id``, ``label`` (when known) and ``embedding``
          (a fixed-size list column of float32); needs pyarrow.
    Files are written to a temporary name and renamed, so a reader never sees half a file. When the
    loader skipped inputs, they are listed (``id<TAB>reason``) in ``<out_path>.skipped.txt``.

    Args:
        model: a SimCLR model (anything with ``.encoder``, and ``.projection_head`` for "z").
        dataset: an ``ImageDataset`` (``images``, ``labels``, ``ids``, ``class_names``, ``skipped``).
        out_path: destination; the extension picks the format.
        layer: "h" (encoder output, the representation) or "z" (projection head output).
        batch_size: images per forward pass.
        progress: show a progress bar.

    Returns:
        an ``EmbedResult``.

    Example:
        >>> from simclr_keras3.checkpoint import load_checkpoint
        >>> from simclr_keras3.data import load_dataset
        >>> result = embed(load_checkpoint("runs/simclr/model.keras"),
        ...                load_dataset("fashion_mnist_subset", "test"), "test.parquet")

    Reference:
        Chen et al. 2020, §4.2: "the hidden layer before the projection head is a better
        representation than the layer after" — hence ``layer="h"`` by default.
    """
    out_path = os.fspath(out_path)
    extension = check_out_path(out_path)
    if layer not in LAYERS:
        raise UserInputError(f"layer must be one of {LAYERS}, got {layer!r}")
    if len(dataset.images) == 0:
        raise UserInputError(f"dataset {dataset.name!r} has no images to embed")

    embeddings = embed_model_outputs(model, dataset.images, layer, batch_size, progress)
    if extension == ".npy":
        write_atomically(out_path, lambda handle: np.save(handle, embeddings))
    elif extension == ".npz":
        write_atomically(out_path, lambda handle: np.savez(handle, **_npz_arrays(embeddings, dataset)))
    else:
        pyarrow = _import_pyarrow()
        table = _parquet_table(pyarrow, embeddings, dataset, layer)
        write_atomically(out_path, lambda handle: _write_parquet(pyarrow, table, handle))
    skipped_path = _write_skipped(out_path, dataset.skipped)
    return EmbedResult(
        path=out_path,
        count=len(embeddings),
        dim=int(embeddings.shape[1]),
        skipped=len(dataset.skipped or []),
        skipped_path=skipped_path,
    )


def _npz_arrays(embeddings, dataset):
    arrays = {"embeddings": embeddings, "ids": np.asarray(dataset.ids, dtype=str)}
    if dataset.labels is not None:
        arrays["labels"] = np.asarray(dataset.labels, dtype="int64")
    if dataset.class_names is not None:
        arrays["class_names"] = np.asarray(dataset.class_names, dtype=str)
    return arrays


def _parquet_table(pyarrow, embeddings, dataset, layer):
    columns = {"id": pyarrow.array([str(i) for i in dataset.ids], type=pyarrow.string())}
    if dataset.labels is not None:
        columns["label"] = pyarrow.array(np.asarray(dataset.labels, dtype="int64"))
    dim = embeddings.shape[1]
    values = pyarrow.array(embeddings.reshape(-1), type=pyarrow.float32())
    # Fixed-size list: every row has dim floats, and no 32-bit offsets to overflow on big sets.
    columns["embedding"] = pyarrow.FixedSizeListArray.from_arrays(values, dim)
    metadata = {"layer": layer, "dim": str(dim), "dataset": str(dataset.name)}
    if dataset.class_names is not None:
        metadata["class_names"] = "\n".join(dataset.class_names)
    return pyarrow.table(columns).replace_schema_metadata(metadata)


def _write_parquet(pyarrow, table, handle):
    import pyarrow.parquet as parquet

    parquet.write_table(table, handle)


def _import_pyarrow():
    try:
        import pyarrow
    except ImportError:
        raise UserInputError(
            "writing .parquet needs pyarrow: pip install 'simclr-keras3[parquet]' "
            "(or write .npz instead)"
        ) from None
    return pyarrow


def _write_skipped(out_path, skipped):
    sidecar = f"{out_path}.skipped.txt"
    if not skipped:
        if os.path.exists(sidecar):
            os.remove(sidecar)  # a stale list from an earlier run would mislead
        return None
    lines = "".join(_skipped_line(item) + "\n" for item in skipped)
    write_atomically(sidecar, lambda handle: handle.write(lines.encode("utf-8")))
    return sidecar


def _skipped_line(item):
    if isinstance(item, (tuple, list)):
        return "\t".join(str(part) for part in item)
    return str(item)
