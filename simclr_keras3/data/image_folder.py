"""A folder of image files (jpg, jpeg, png, webp, bmp), searched recursively.

With two or more first-level subfolders holding images, each subfolder is a class
(``root/cat/1.jpg`` has label "cat"), as in ``tfds.ImageFolder`` and torchvision's
``ImageFolder``; otherwise the images are unlabelled. Hidden files and folders are ignored.
"""

import os

import numpy as np
from PIL import Image, ImageOps

from simclr_keras3.data.image_dataset import ImageDataset
from simclr_keras3.data.preprocess import check_image_size, eval_preprocess, pil_to_array
from simclr_keras3.errors import UserInputError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def list_images(root):
    """Relative POSIX paths of the image files under ``root``, sorted (deterministic order)."""
    found = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        rel_dir = os.path.relpath(directory, root)
        for name in files:
            if not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS):
                found.append(name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/"))
    return sorted(found)


def read_image(path):
    """Decode one image file to float32 (H, W, 3) in [0, 1], upright per its EXIF orientation.

    Raises UserInputError naming the file when it cannot be decoded.

    Example:
        >>> read_image("photos/cat/1.jpg").shape
        (480, 640, 3)
    """
    try:
        with Image.open(path) as image:
            return pil_to_array(ImageOps.exif_transpose(image))
    except Exception as err:  # any decoder failure means the file is unusable
        raise UserInputError(
            f"cannot read image {path}: {err}; fix or remove the file (or pass skip_bad)"
        ) from err


def _class_of(rel_paths):
    """First-level folder of every path (None for files directly in the root)."""
    return [p.split("/", 1)[0] if "/" in p else None for p in rel_paths]


def load_image_folder(root, image_size=32, skip_bad=False, limit=None, name=None):
    """Load every image under ``root`` with the official evaluation preprocessing.

    Each image is decoded with PIL (grayscale and palette images become RGB; transparency is
    composited on white), centre-cropped and resized to ``image_size`` (``eval_preprocess``).

    Args:
        root: the folder.
        image_size: side of the square output images.
        skip_bad: skip undecodable files, listing them in ``dataset.skipped``, instead of raising.
        limit: read only the first ``limit`` files in sorted order.
        name: dataset name; default ``root``.

    Example:
        >>> ds = load_image_folder("photos", image_size=64)  # photos/cat/*.jpg, photos/dog/*.png
        >>> ds.class_names, ds.ids[0]
        (['cat', 'dog'], 'cat/1.jpg')
    """
    image_size = check_image_size(image_size)
    name = str(root) if name is None else name
    if not os.path.isdir(root):
        raise UserInputError(f"image folder {root} does not exist")
    rel_paths = list_images(root)
    if not rel_paths:
        raise UserInputError(
            f"no images in {root}: put {', '.join(IMAGE_EXTENSIONS)} files in it or its subfolders"
        )
    # Classes are decided on the whole folder so that `limit` never changes the label space.
    folders = _class_of(rel_paths)
    class_names = sorted({f for f in folders if f is not None})
    labelled = len(class_names) >= 2
    if labelled and None in folders:
        stray = rel_paths[folders.index(None)]
        raise UserInputError(
            f"{root} has class subfolders {class_names} but also {stray} at its top level: "
            "move top-level images into a class folder"
        )
    rel_paths = rel_paths[:limit]

    images = np.empty((len(rel_paths), image_size, image_size, 3), np.float32)
    kept, skipped = [], []
    for rel in rel_paths:
        try:
            decoded = read_image(os.path.join(root, rel))
        except UserInputError as err:
            if not skip_bad:
                raise
            skipped.append((rel, str(err.__cause__)))
            continue
        images[len(kept)] = eval_preprocess(decoded, image_size)
        kept.append(rel)
    if not kept:
        raise UserInputError(f"none of the {len(rel_paths)} images in {root} could be read")
    index = {c: i for i, c in enumerate(class_names)}
    labels = np.array([index[c] for c in _class_of(kept)]) if labelled else None
    return ImageDataset(
        images=images[: len(kept)],
        labels=labels,
        ids=np.array(kept),
        name=name,
        class_names=class_names if labelled else None,
        skipped=skipped,
    )
