"""Per-image, in-graph SimCLR augmentations (backend-neutral Keras 3).

Each layer separates sampling (``sample_parameters``) from applying (``apply``); the pure
functions that apply parameters live in ``image_ops``.
"""

from simclr_keras3.augmentation.color_jitter import ColorJitter
from simclr_keras3.augmentation.gaussian_blur import RandomGaussianBlur
from simclr_keras3.augmentation.horizontal_flip import RandomHorizontalFlip
from simclr_keras3.augmentation.random_grayscale import RandomGrayscale
from simclr_keras3.augmentation.random_resized_crop import RandomResizedCrop
from simclr_keras3.augmentation.simclr_augment import SimCLRAugment

__all__ = [
    "ColorJitter",
    "RandomGaussianBlur",
    "RandomGrayscale",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "SimCLRAugment",
]
