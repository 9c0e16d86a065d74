"""The SimCLR augmentation pipeline: two independent random views of every image."""

import keras
from keras import ops

from simclr_keras3 import backends
from simclr_keras3.augmentation.color_jitter import ColorJitter
from simclr_keras3.augmentation.gaussian_blur import RandomGaussianBlur
from simclr_keras3.augmentation.horizontal_flip import RandomHorizontalFlip
from simclr_keras3.augmentation.random_grayscale import RandomGrayscale
from simclr_keras3.augmentation.random_resized_crop import RandomResizedCrop

# Keys of a view's parameter dict, in the order the stages run.
STAGES = ("crop", "flip", "color_jitter", "grayscale", "blur")


def _seed(seed, offset):
    # Distinct seeds per stage: equal seeds would correlate the stages' first draws.
    return None if seed is None else seed + offset


@keras.saving.register_keras_serializable(package="simclr_keras3")
class SimCLRAugment(keras.layers.Layer):
    """Crop -> flip -> colour jitter -> grayscale -> blur, twice, with independent draws.

    ``call(images)`` returns ``(view_a, view_b)``, each ``(B, image_size, image_size, 3)`` in
    [0, 1]. For data parallelism, ``sample_parameters`` can draw for the global batch and
    ``apply_view`` apply a slice of it per replica. A stage whose probability is 0 (e.g.
    ``blur_probability=0`` for CIFAR) is left out of the parameters and skipped.

    ``sample_parameters(batch_size, h, w)`` returns
    ``{"view_a": {stage: params}, "view_b": {stage: params}}`` with stages
    ``"crop"`` (``RandomResizedCrop``), ``"flip"`` (``RandomHorizontalFlip``),
    ``"color_jitter"`` (``ColorJitter``), ``"grayscale"`` (``RandomGrayscale``) and
    ``"blur"`` (``RandomGaussianBlur``); see each layer for its dict. Stages after the crop see
    ``image_size``-sized images. With ``training=False`` both views are the resized image.

    Args:
        image_size: int, side of the square output views.
        area_range, aspect_ratio_range: of the random resized crop.
        flip_probability: horizontal flip probability.
        jitter_strength: colour distortion strength (1.0 ImageNet, 0.5 CIFAR).
        jitter_probability: colour jitter probability.
        grayscale_probability: grayscale probability.
        blur_probability: Gaussian blur probability (0 turns blur off).
        blur_sigma_range: ``(min, max)`` blur sigma in pixels.
        seed: int or None; stage ``i`` is seeded with ``seed + i``.
        **kwargs: base ``keras.layers.Layer`` arguments.

    Example:
        >>> augment = SimCLRAugment(32, jitter_strength=0.5, blur_probability=0.0, seed=0)
        >>> view_a, view_b = augment(keras.random.uniform((8, 32, 32, 3)))

    Reference:
        Chen et al. 2020, §2.1: "we sequentially apply three simple augmentations: random
        cropping followed by resize back to the original size, random color distortions, and
        random Gaussian blur"; Appendix A: "the random crop (with resize) is always followed by a
        random horizontal/left-to-right flip with 50% probability".
    """

    def __init__(
        self,
        image_size,
        area_range=(0.08, 1.0),
        aspect_ratio_range=(3 / 4, 4 / 3),
        flip_probability=0.5,
        jitter_strength=1.0,
        jitter_probability=0.8,
        grayscale_probability=0.2,
        blur_probability=0.5,
        blur_sigma_range=(0.1, 2.0),
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_size = int(image_size)
        self.area_range = tuple(float(a) for a in area_range)
        self.aspect_ratio_range = tuple(float(r) for r in aspect_ratio_range)
        self.flip_probability = float(flip_probability)
        self.jitter_strength = float(jitter_strength)
        self.jitter_probability = float(jitter_probability)
        self.grayscale_probability = float(grayscale_probability)
        self.blur_probability = float(blur_probability)
        self.blur_sigma_range = tuple(float(s) for s in blur_sigma_range)
        self.seed = seed

        # === Layers ===
        self.crop = RandomResizedCrop(
            image_size, area_range, aspect_ratio_range, seed=_seed(seed, 0), name="crop"
        )
        self.flip = RandomHorizontalFlip(flip_probability, seed=_seed(seed, 1), name="flip")
        self.color_jitter = ColorJitter(
            jitter_strength, jitter_probability, seed=_seed(seed, 2), name="color_jitter"
        )
        self.grayscale = RandomGrayscale(
            grayscale_probability, seed=_seed(seed, 3), name="grayscale"
        )
        self.blur = RandomGaussianBlur(
            blur_probability, blur_sigma_range, seed=_seed(seed, 4), name="blur"
        )
        self.built = True  # the stages are built at init and hold no weights

    def _stages(self):
        """``{stage: (layer, probability)}`` in the order the stages run."""
        layers = (self.crop, self.flip, self.color_jitter, self.grayscale, self.blur)
        probabilities = (
            1.0,
            self.flip_probability,
            self.jitter_probability,
            self.grayscale_probability,
            self.blur_probability,
        )
        return dict(zip(STAGES, zip(layers, probabilities)))

    def sample_view_parameters(self, batch_size, image_height, image_width):
        """Parameters of one view: ``{stage: params}``, stages with probability 0 left out."""
        parameters = {"crop": self.crop.sample_parameters(batch_size, image_height, image_width)}
        for name, (layer, probability) in self._stages().items():
            if name != "crop" and probability > 0:
                parameters[name] = layer.sample_parameters(
                    batch_size, self.image_size, self.image_size
                )
        return parameters

    def sample_parameters(self, batch_size, image_height, image_width):
        """``{"view_a": {stage: params}, "view_b": {stage: params}}`` for a batch of this size."""
        # One draw of 2B i.i.d. rows per stage, first half for view a, second for view b: the
        # views stay independent, with half the random ops to compile.
        both = self.sample_view_parameters(2 * batch_size, image_height, image_width)
        return {
            "view_a": keras.tree.map_structure(lambda t: t[:batch_size], both),
            "view_b": keras.tree.map_structure(lambda t: t[batch_size:], both),
        }

    def apply_view(self, images, view_parameters):
        """Apply one view's parameters; stages missing from the dict are skipped."""
        x = images
        for name, (layer, _) in self._stages().items():
            if name in view_parameters:
                x = layer.apply(x, view_parameters[name])
        return x

    def call(self, images, training=True):
        if not training:
            view = self.crop.apply(images, self.crop.full_image_parameters(ops.shape(images)[0]))
            return view, view
        # Draw for the GLOBAL batch and keep this replica's rows: the same seed gives the same
        # augmentation of every example whatever the device count (one device = N devices).
        local = ops.shape(images)[0]
        replicas = backends.replica_count()
        parameters = self.sample_parameters(local * replicas, images.shape[1], images.shape[2])
        if replicas > 1:
            rows = backends.replica_id() * local + ops.arange(local)
            parameters = keras.tree.map_structure(lambda t: ops.take(t, rows, axis=0), parameters)
        return (
            self.apply_view(images, parameters["view_a"]),
            self.apply_view(images, parameters["view_b"]),
        )

    def compute_output_shape(self, input_shape):
        shape = (input_shape[0], self.image_size, self.image_size, input_shape[3])
        return shape, shape

    def get_config(self):
        config = super().get_config()
        config.update(
            image_size=self.image_size,
            area_range=self.area_range,
            aspect_ratio_range=self.aspect_ratio_range,
            flip_probability=self.flip_probability,
            jitter_strength=self.jitter_strength,
            jitter_probability=self.jitter_probability,
            grayscale_probability=self.grayscale_probability,
            blur_probability=self.blur_probability,
            blur_sigma_range=self.blur_sigma_range,
            seed=self.seed,
        )
        return config
