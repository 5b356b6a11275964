"""From uploaded bytes to the model's input, in pure steps:

    validate_photo(bytes) -> the photo opened (its header read, no pixels yet), or
                             ImageRejected with a human message
    decode_photo(opened) -> its pixels, upright, decoded once for every later use
    to_model_input(image) -> float32 array of shape (1, 3, 224, 224)

decode_image(bytes) is the first two together, for the classifier alone.

Only Pillow and numpy: no Django, no torch, so both are quick to test on their own.

Memory is what a small hostile file attacks: a 200 KB PNG can declare 50 million
transparent pixels, 200 MB once decoded. So every decode is priced before it starts
(decoding_bytes: the format's decoder, the mode, the size) and refused with a 413 over
the caller's max_decode_bytes; and no full-size copy is ever made after it: the pixels
are converted and reduced a tile at a time (decode_reduced), to the size the caller
needs (the model: 256 pixels on the short side; a stored copy: at most 2048).
"""

import io
import math
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from shared.errors import ImageRejected

pillow_heif.register_heif_opener()  # teaches Pillow to open HEIC/HEIF (iPhone photos)

# Pillow's format names of what we accept, and how to name them to a person. Pillow is
# only allowed to try these decoders on an upload: every extra file format parser is
# attack surface, and we have no use for the others.
ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "HEIF": "HEIC/HEIF"}
ACCEPTED_NAMES = "JPEG, PNG, WebP or HEIC"
# Pillow calls a JPEG with extra embedded pictures (many phones and cameras) "MPO".
SAME_FORMAT = {"MPO": "JPEG"}

# The model looks at a 224x224 crop of the image resized to 256 on its short side, so
# a JPEG never needs decoding at more than 256 pixels on its short side.
MODEL_INPUT_SIZE = 224
RESIZE_SHORT_SIDE = 256

WHITE = (255, 255, 255, 255)
HIGH_BIT_DEPTH_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I", "F"}
TRANSPARENT_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}

# What decoding holds in memory at its peak, in bytes per pixel, beyond what Pillow
# keeps for the image itself (bytes_per_pixel). Measured with Pillow 13 and
# pillow-heif 1.8 (tests/classifier/test_images.py checks these against a real decode):
# Pillow decodes a WebP through libwebp's animation decoder, which keeps its own
# canvas and hands over a copy of it: 16 bytes a pixel in all, 4 of them Pillow's.
# libheif decodes into YUV planes (up to 2 bytes a pixel), converts them into its own
# buffer (a byte a channel), which Pillow then copies.
WEBP_EXTRA_BYTES_PER_PIXEL = 12
HEIF_PLANE_BYTES_PER_PIXEL = 2
# A progressive JPEG is refined over several passes, so libjpeg keeps every DCT
# coefficient of the full-size image (2 bytes each) until the last one, even when
# decoding at 1/8 scale.
JPEG_COEFFICIENT_BYTES = 2
# Pixels are converted (to RGB, transparency onto white, 16 bits to 8) and reduced in
# tiles of about this many pixels, so no full-size copy of a large image is made. A
# tile's conversion holds up to six copies of it at once (crop, RGBA, white, composite,
# RGB, reduced), at most 4 bytes a pixel each (16-bit grey: float32).
TILE_PIXELS = 512 * 512
TILE_WORKING_BYTES = TILE_PIXELS * 4 * 6

# What Pillow raises on a file that starts like an image and then goes wrong.
DECODING_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)


def decode_image(
    data: bytes, *, filename: str | None, max_pixels: int, max_decode_bytes: int | None = None
) -> Image.Image:
    """The upload as an upright RGB image, reduced by a whole factor (a JPEG by 2, 4 or
    8 inside its decoder) as long as its short side stays at least 256 pixels, or
    ImageRejected. max_decode_bytes bounds the memory decoding may take (None: no bound,
    for scripts on trusted files)."""
    opened = validate_photo(data, filename, max_pixels=max_pixels)
    return decode_photo(opened, max_decode_bytes=max_decode_bytes)


def validate_photo(data: bytes, filename: str | None, *, max_pixels: int) -> Image.Image:
    """The upload opened, its header read and checked (a format we take, under a name
    that does not contradict it, at most max_pixels), no pixels decoded yet; or
    ImageRejected."""
    if not data:
        raise ImageRejected("empty_file", "The file is empty.", 400)
    with refusing_bad_pixels(max_pixels):
        image = open_image(data, filename)
        check_pixel_count(image, max_pixels)
    return image


def decode_photo(
    opened: Image.Image,
    *,
    longest_side: int | None = None,
    mode: str = "RGB",
    max_decode_bytes: int | None,
) -> Image.Image:
    """A validated photo's pixels, upright, in `mode` (RGB, or RGBA to keep
    transparency), decoded once and large enough for every later use: the model (at
    least 256 pixels on the short side) and, with longest_side, a copy whose longest side
    is that. A 12 MP JPEG decodes about four times faster at 1/8 scale than in full."""
    width, height = RESIZE_SHORT_SIDE, RESIZE_SHORT_SIDE
    if longest_side is not None:
        fitting = fitting_size(opened.size, longest_side)
        width, height = max(width, fitting[0]), max(height, fitting[1])
    return decode_reduced(
        opened, at_least=(width, height), mode=mode, max_decode_bytes=max_decode_bytes
    )


def fitting_size(size: tuple[int, int], longest_side: int) -> tuple[int, int]:
    """`size` scaled to fit a longest_side square (never enlarged): an image stored
    sideways is turned after it is reduced, so its sides may swap but still fit."""
    scale = min(1.0, longest_side / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


@contextmanager
def refusing_bad_pixels(max_pixels: int | None) -> Iterator[None]:
    """Turns what Pillow raises on a bomb or a damaged file into ImageRejected."""
    try:
        yield
    except Image.DecompressionBombError:
        # Pillow's own guard, for a max_pixels set above Pillow's limit.
        raise too_many_pixels(max_pixels or Image.MAX_IMAGE_PIXELS) from None
    except Image.DecompressionBombWarning:
        # Only raised when warnings are errors (python -W error, some test settings).
        raise too_many_pixels(max_pixels or Image.MAX_IMAGE_PIXELS) from None
    except DECODING_ERRORS:
        raise ImageRejected(
            "corrupt_image", "The image is damaged or incomplete and cannot be read.", 400
        ) from None


def decode_reduced(
    image: Image.Image,
    *,
    at_least: tuple[int, int],
    mode: str,
    max_decode_bytes: int | None,
) -> Image.Image:
    """An opened image's pixels, upright, in `mode` (RGB, or RGBA to keep transparency),
    reduced by the largest whole factor that keeps both sides at least `at_least`; or
    ImageRejected: 413 when decoding would take more than max_decode_bytes, 400 when the
    file is damaged."""
    declared_size = image.size  # a JPEG's shrinks once plan_decode has set it to draft
    with refusing_bad_pixels(Image.MAX_IMAGE_PIXELS):
        plan = plan_decode(image, at_least, mode)
        if max_decode_bytes is not None and plan.memory_bytes > max_decode_bytes:
            raise too_much_memory(image, declared_size, plan.memory_bytes, max_decode_bytes)
        image.load()
        reduced = reduce_converted(image, plan.factor, mode)
    # The EXIF orientation is read from the file's metadata, which the reduced copy
    # carries along; the turn itself then only moves the reduced pixels.
    reduced.info = {key: value for key, value in image.info.items() if key != "transparency"}
    return apply_exif_orientation(reduced)


@dataclass(frozen=True)
class DecodePlan:
    factor: int  # the pixels are reduced this many times once decoded (1: not at all)
    memory_bytes: int  # the most memory decoding and reducing will hold at once


def plan_decode(image: Image.Image, at_least: tuple[int, int], mode: str) -> DecodePlan:
    """How decode_reduced will decode an opened image, and what that costs, from its
    header alone (a JPEG is also told to decode at reduced scale)."""
    full_size = image.size
    if content_format(image) == "JPEG":
        # DCT scaling: libjpeg decodes at 1/2, 1/4 or 1/8 scale, the smallest that keeps
        # both sides at least `at_least`, and never holds the full-size pixels.
        image.draft("RGB", at_least)
    factor = reduction_factor(image.size, at_least)
    reduced_pixels = math.ceil(image.width / factor) * math.ceil(image.height / factor)
    memory = (
        decoding_bytes(image, full_size)
        + reduced_pixels * bytes_per_pixel(mode)
        + TILE_WORKING_BYTES
    )
    return DecodePlan(factor, memory)


def reduction_factor(size: tuple[int, int], at_least: tuple[int, int]) -> int:
    """The largest whole factor that keeps both sides at least `at_least` (1: none)."""
    return max(1, min(size[0] // at_least[0], size[1] // at_least[1]))


def bytes_per_pixel(mode: str) -> int:
    """What Pillow keeps in memory for one pixel of this mode: a byte for 1, L and P,
    two for 16-bit grey, four for every other mode (RGB too: one byte is padding)."""
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def decoding_bytes(image: Image.Image, full_size: tuple[int, int]) -> int:
    """The memory decoding this opened image takes at its peak, at its current size
    (after draft()); full_size is the size its header declares."""
    pixels = image.width * image.height
    held = pixels * bytes_per_pixel(image.mode)
    if image.format == "WEBP":
        return held + pixels * WEBP_EXTRA_BYTES_PER_PIXEL
    if image.format == "HEIF":
        return held + pixels * (len(image.getbands()) + HEIF_PLANE_BYTES_PER_PIXEL)
    if content_format(image) == "JPEG" and image.info.get("progressive"):
        return held + progressive_jpeg_coefficient_bytes(image, full_size)
    return held


def progressive_jpeg_coefficient_bytes(image: Image.Image, full_size: tuple[int, int]) -> int:
    # Each layer is (id, horizontal sampling, vertical sampling, table): a colour
    # component at 2x2 sampling (4:2:0) has a quarter as many coefficients as the grey.
    samplings = [horizontal * vertical for _, horizontal, vertical, _ in image.layer]
    share_of_full_size = sum(samplings) / max(samplings)
    return int(math.prod(full_size) * share_of_full_size * JPEG_COEFFICIENT_BYTES)


def too_much_memory(
    image: Image.Image, size: tuple[int, int], needed: int, max_decode_bytes: int
) -> ImageRejected:
    name = ACCEPTED_FORMATS[content_format(image)]
    return ImageRejected(
        "too_large_to_decode",
        f"Decoding this {size[0]} x {size[1]} {name} image would take "
        f"{needed / 1_000_000:.0f} MB of memory, more than the server's limit of "
        f"{max_decode_bytes / 1_000_000:.0f} MB. Send a smaller image.",
        413,
    )


def reduce_converted(image: Image.Image, factor: int, mode: str) -> Image.Image:
    """The image converted to `mode` (RGB or RGBA) and reduced `factor` times (box
    average), a tile at a time: each step only ever copies one tile's pixels."""
    width, height = image.size
    reduced = Image.new(mode, (math.ceil(width / factor), math.ceil(height / factor)))
    # Tiles whose sides are a multiple of the factor, so their reduced pixels line up.
    side = max(factor, math.isqrt(TILE_PIXELS) // factor * factor)
    for top in range(0, height, side):
        for left in range(0, width, side):
            tile = image.crop((left, top, min(left + side, width), min(top + side, height)))
            converted = to_rgb(tile) if mode == "RGB" else to_rgba(tile)
            reduced.paste(converted.reduce(factor), (left // factor, top // factor))
    return reduced


def open_image(data: bytes, filename: str | None) -> Image.Image:
    """Reads the header only (no pixels yet) and checks the format against the name."""
    try:
        image = Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
    except UnidentifiedImageError:
        image = None
    named = format_named_by(filename)
    if image is None:
        if named and named not in ACCEPTED_FORMATS:
            message = f"{named} images are not supported: send a {ACCEPTED_NAMES} photo."
        else:
            message = f"This file is not a {ACCEPTED_NAMES} image."
        raise ImageRejected("unsupported_type", message, 415)
    # A good image under a misleading name is refused too: what handles the file later
    # (storage, browsers) goes by its name, and a mislabelled file is a classic way to
    # slip something past such checks.
    found = content_format(image)
    if named and named != found:
        raise ImageRejected(
            "extension_mismatch",
            f"The file is named {PurePath(filename).suffix}, but it is a "
            f"{ACCEPTED_FORMATS[found]} image. Rename it to match, or export it again.",
            415,
        )
    return image


def content_format(image: Image.Image) -> str:
    return SAME_FORMAT.get(image.format, image.format)


def format_named_by(filename: str | None) -> str | None:
    """The image format the file's extension claims ('.jpg' -> 'JPEG'), if any.

    Only extensions that name an image format count: no extension, or one like '.bin',
    leaves the decision to the content."""
    if not filename:
        return None
    named = Image.registered_extensions().get(PurePath(filename).suffix.lower())
    return SAME_FORMAT.get(named, named)


def check_pixel_count(image: Image.Image, max_pixels: int) -> None:
    # Width and height come from the header. A "decompression bomb" is a small file
    # declaring an enormous canvas; refusing it here means its pixels are never allocated.
    if image.width * image.height > max_pixels:
        raise too_many_pixels(max_pixels)


def too_many_pixels(max_pixels: int) -> ImageRejected:
    return ImageRejected(
        "too_many_pixels",
        f"The image has more than {max_pixels / 1_000_000:g} million pixels.",
        413,
    )


def apply_exif_orientation(image: Image.Image) -> Image.Image:
    """Turns the pixels the way the camera's EXIF Orientation tag says to show them."""
    try:
        return ImageOps.exif_transpose(image)
    except DECODING_ERRORS:
        return image  # unreadable EXIF: the photo is still good, just maybe sideways


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB. Transparent areas become white, 16-bit samples 8-bit."""
    if image.mode == "RGB":
        return image
    if image.mode in HIGH_BIT_DEPTH_MODES:
        return to_8_bit_grey(image).convert("RGB")
    if has_transparency(image):
        # Fully transparent pixels keep whatever colour they had (often black);
        # showing them on white is what the uploader saw in their browser.
        background = Image.new("RGBA", image.size, WHITE)
        background.alpha_composite(image.convert("RGBA"))
        return background.convert("RGB")
    return image.convert("RGB")  # L, P, CMYK, YCbCr, 1, ...


def to_rgba(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGBA, keeping transparency; 16-bit samples become 8-bit."""
    if image.mode in HIGH_BIT_DEPTH_MODES:
        image = to_8_bit_grey(image)
    return image.convert("RGBA")


def has_transparency(image: Image.Image) -> bool:
    return image.mode in TRANSPARENT_MODES or "transparency" in image.info


def to_8_bit_grey(image: Image.Image) -> Image.Image:
    # Pillow's own convert("L") clips these modes at 255 instead of scaling them, which
    # turns a 16-bit photo almost white. Integer modes hold 16-bit samples (PNG), F 0..1.
    full_scale = 1.0 if image.mode == "F" else 65535.0
    samples = np.asarray(image, dtype=np.float32) / full_scale
    return Image.fromarray(np.clip(samples * 255 + 0.5, 0, 255).astype(np.uint8))


def to_model_input(image: Image.Image, size: int = MODEL_INPUT_SIZE) -> np.ndarray:
    """RGB image -> float32 array (1, 3, size, size) in [-1, 1]: EfficientNet's
    evaluation crop (resize the short side to 256, keep the central 224x224)."""
    # BEGIN SOLUTION 1 a1-model-input
    short_side = min(image.size)
    crop = short_side * size / RESIZE_SHORT_SIDE  # that central square, in this image
    left = (image.width - crop) / 2
    top = (image.height - crop) / 2
    # Crop and resize in one step: resizing the whole image first would, for a 1-pixel
    # wide sliver of a photo, build a 256 x millions pixel intermediate.
    square = image.resize(
        (size, size), Image.Resampling.BICUBIC, box=(left, top, left + crop, top + crop)
    )
    pixels = np.asarray(square, dtype=np.float32) / 255.0
    pixels = (pixels - 0.5) / 0.5  # the [-1, 1] range the weights were trained on
    return np.ascontiguousarray(pixels.transpose(2, 0, 1)[np.newaxis])  # HWC -> NCHW
    # END SOLUTION a1-model-input
    # BEGIN STUB a1-model-input
    # raise NotImplementedError(
    #     "TODO (assignment 1): turn the RGB image into the model's input, a float32 array "
    #     "of shape (1, 3, size, size) with values in [-1, 1]: EfficientNet's evaluation crop "
    #     "(the short side resized to 256, the central 224x224 kept). "
    #     "Read docs/classifier.md, 'From upload to model input'."
    # )
    # END STUB a1-model-input
