"""simclr-keras3: SimCLR in backend-neutral Keras 3.

Public names are imported on first use, so ``import simclr_keras3`` stays cheap (the CLI imports
it before it has chosen a Keras backend).
"""

import importlib
import os

__version__ = "0.1.0"

_EXPORTS = {
    # augmentation
    "RandomResizedCrop": "simclr_keras3.augmentation.random_resized_crop",
    "RandomHorizontalFlip": "simclr_keras3.augmentation.horizontal_flip",
    "ColorJitter": "simclr_keras3.augmentation.color_jitter",
    "RandomGrayscale": "simclr_keras3.augmentation.random_grayscale",
    "RandomGaussianBlur": "simclr_keras3.augmentation.gaussian_blur",
    "SimCLRAugment": "simclr_keras3.augmentation.simclr_augment",
    # model parts
    "GlobalBatchNormalization": "simclr_keras3.batch_norm",
    "ResNet": "simclr_keras3.resnet",
    "ProjectionHead": "simclr_keras3.projection_head",
    "NTXentLoss": "simclr_keras3.nt_xent",
    "LARS": "simclr_keras3.lars",
    "WarmupCosineDecay": "simclr_keras3.schedules",
    "scale_learning_rate": "simclr_keras3.schedules",
    "SimCLR": "simclr_keras3.model",
}

__all__ = sorted(_EXPORTS)

# Installed, `backends/` and `cli/` live inside this package. In a source checkout (say `python -m
# simclr_keras3.cli.main` from the repository root) they sit beside it: look there too.
_checkout = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if not os.path.isdir(os.path.join(os.path.dirname(__file__), "backends")) and os.path.isfile(
    os.path.join(_checkout, "backends", "__init__.py")
):
    __path__.append(_checkout)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'simclr_keras3' has no attribute {name!r}")
