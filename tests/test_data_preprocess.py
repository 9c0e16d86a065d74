"""Conversion to float [0, 1] RGB, resizing and the evaluation crop, against values by hand."""

import numpy as np
import pytest
from PIL import Image

from simclr_keras3.data import eval_preprocess, preprocess_images
from simclr_keras3.data.preprocess import pil_to_array, resize
from simclr_keras3.errors import UserInputError


def test_gray_uint8_becomes_three_identical_channels():
    gray = np.array([[[0, 255], [51, 102]]], np.uint8)  # (1, 2, 2)
    out = preprocess_images(gray, 2)
    assert out.shape == (1, 2, 2, 3) and out.dtype == np.float32
    for c in range(3):
        np.testing.assert_allclose(out[0, :, :, c], [[0.0, 1.0], [0.2, 0.4]], atol=1e-7)
    assert out.max() == 1.0  # uint8 255 is exactly 1.0
    np.testing.assert_array_equal(preprocess_images(gray[..., None], 2), out)  # (N, H, W, 1)


def test_float_rgb_passes_through():
    rgb = np.random.default_rng(0).random((3, 5, 5, 3))
    np.testing.assert_allclose(preprocess_images(rgb, 5), rgb.astype(np.float32))


def test_rgba_is_composited_on_white():
    rgba = np.array([[[[1.0, 0.0, 0.0, 0.5], [0.2, 0.4, 0.6, 1.0]]]])  # (1, 1, 2, 4)
    out = preprocess_images(np.broadcast_to(rgba, (1, 2, 2, 4)), 2)
    np.testing.assert_allclose(out[0, 0, 0], [1.0, 0.5, 0.5])
    np.testing.assert_allclose(out[0, 0, 1], [0.2, 0.4, 0.6], atol=1e-7)
    transparent = np.zeros((1, 2, 2, 4), np.uint8)
    np.testing.assert_array_equal(preprocess_images(transparent, 2), 1.0)


def test_bilinear_upsampling_by_hand():
    # Half-pixel centres: output pixels of a 2 → 4 resize sample the input at
    # -0.25, 0.25, 0.75, 1.25, i.e. 0, 1/4, 3/4, 1 of the way from the first to the second pixel.
    ramp = np.array([[[0.0, 1.0], [0.0, 1.0]]])
    out = preprocess_images(ramp, 4)
    np.testing.assert_allclose(out[0, 2, :, 0], [0.0, 0.25, 0.75, 1.0])


def test_downsampling_is_antialiased_by_hand():
    # 4 → 2: the triangle filter is stretched to radius 2. Output 0 sits at input position 0.5,
    # so inputs 0, 1, 2 get weights 0.75, 0.75, 0.25; output 1 (at 2.5) weighs 1, 2, 3 by
    # 0.25, 0.75, 0.75; both normalised by 1.75.
    row = np.array([0.0, 1.0, 2.0, 3.0])
    out = preprocess_images(np.tile(row / 3.0, (1, 4, 1)), 2)
    expected = [
        (0.75 * 0 + 0.75 * 1 + 0.25 * 2) / 1.75 / 3,
        (0.25 * 1 + 0.75 * 2 + 0.75 * 3) / 1.75 / 3,
    ]
    np.testing.assert_allclose(out[0, 0, :, 0], expected, atol=1e-6)


@pytest.mark.parametrize("method", ["bilinear", "bicubic"])
@pytest.mark.parametrize("size", [37, 11])
def test_resize_matches_pil(size, method):
    image = np.random.default_rng(1).random((23, 23), dtype=np.float32)
    pil_method = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}[method]
    expected = np.asarray(Image.fromarray(image, mode="F").resize((size, size), pil_method))
    actual = resize(image[None, :, :, None], size, method)[0, :, :, 0]
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_resize_shape_and_range():
    out = preprocess_images(np.random.default_rng(2).integers(0, 256, (4, 28, 28), np.uint8), 32)
    assert out.shape == (4, 32, 32, 3)
    assert 0.0 <= out.min() and out.max() <= 1.0


@pytest.mark.parametrize(
    "images, message",
    [
        (np.full((1, 4, 4), 2.0), r"\[0, 1\]"),
        (np.full((1, 4, 4), np.nan), r"\[0, 1\]"),
        (np.full((1, 4, 4), 300, np.int32), "0..255"),
        (np.zeros((1, 4, 4, 2)), "shape"),
        (np.zeros((4, 4)), "shape"),
        (np.zeros((1, 4, 4), bool), "dtype"),
    ],
    ids=["float>1", "nan", "int>255", "2-channels", "2-d", "bool"],
)
def test_bad_arrays(images, message):
    with pytest.raises(UserInputError, match=message):
        preprocess_images(images, 8)


@pytest.mark.parametrize("size", [0, -3, 2.5, "32", True])
def test_bad_image_size(size):
    with pytest.raises(UserInputError, match="image_size"):
        preprocess_images(np.zeros((1, 4, 4)), size)


def test_pil_palette_and_gray_conversion():
    palette = Image.new("P", (3, 2), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * (256 * 3 - 6))
    red = np.broadcast_to(np.array([1.0, 0.0, 0.0], np.float32), (2, 3, 3))
    np.testing.assert_array_equal(pil_to_array(palette), red)
    palette.info["transparency"] = 1  # palette index 1 is transparent → white
    np.testing.assert_array_equal(pil_to_array(palette), 1.0)
    gray = pil_to_array(Image.new("L", (3, 2), 51))
    assert gray.shape == (2, 3, 3)
    np.testing.assert_allclose(gray, 0.2)
    sixteen_bit = pil_to_array(Image.fromarray(np.full((2, 2), 65535, np.uint16)))
    np.testing.assert_allclose(sixteen_bit, 1.0)
    rgba = pil_to_array(Image.new("RGBA", (1, 1), (0, 0, 255, 0)))
    np.testing.assert_array_equal(rgba, 1.0)


def position_image(height, width):
    """Float image whose every pixel value is unique (encodes its position)."""
    return (np.arange(height * width, dtype=np.float32) / (height * width)).reshape(height, width)


def test_eval_crop_matches_the_official_geometry():
    # 100 × 60: side = rint(0.875 * 60) = 52 (52.5 rounds to even), top = (100 - 52 + 1) // 2 = 24,
    # left = (60 - 52 + 1) // 2 = 4; with image_size 52 the resize is the identity.
    image = position_image(100, 60)
    out = eval_preprocess(image, 52)
    assert out.shape == (52, 52, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[..., 0], image[24:76, 4:56])
    np.testing.assert_array_equal(out[..., 2], out[..., 0])


def test_eval_small_images_keep_their_central_square_uncropped():
    image = position_image(30, 20)  # shorter side ≤ 32: no 0.875 crop, just the central square
    np.testing.assert_array_equal(eval_preprocess(image, 20)[..., 0], image[5:25])
    square = position_image(28, 28)
    np.testing.assert_array_equal(eval_preprocess(square, 28)[..., 1], square)


def test_eval_pil_and_array_agree_and_clip():
    rgb = np.random.default_rng(3).integers(0, 256, (90, 120, 3), np.uint8)
    from_array = eval_preprocess(rgb, 40)
    np.testing.assert_array_equal(eval_preprocess(Image.fromarray(rgb), 40), from_array)
    assert from_array.shape == (40, 40, 3)
    assert 0.0 <= from_array.min() and from_array.max() <= 1.0  # bicubic overshoot is clipped
