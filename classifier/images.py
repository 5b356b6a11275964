"""From uploaded bytes to the model's input, in two pure steps:

    decode_image(bytes) -> upright RGB PIL image, or ImageRejected with a human message
    to_model_input(image) -> float32 array of shape (1, 3, 224, 224)

Only Pillow and numpy: no Django, no torch, so both are quick to test on their own.
"""

import io
import struct
from pathlib import PurePath

import numpy as np
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

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

# What Pillow raises on a file that starts like an image and then goes wrong.
DECODING_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)


class ImageRejected(Exception):
    """An upload we will not classify; the web layer answers with status and message."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def decode_image(data: bytes, *, filename: str | None, max_pixels: int) -> Image.Image:
    """The upload as an upright RGB image (a large JPEG comes back scaled down by 2, 4
    or 8 with its short side still at least 256 pixels), or ImageRejected."""
    if not data:
        raise ImageRejected("empty_file", "The file is empty.", 400)
    try:
        image = open_image(data, filename)
        check_pixel_count(image, max_pixels)
        if content_format(image) == "JPEG":
            # Decode at 1/2, 1/4 or 1/8 scale inside the JPEG decoder (DCT scaling), the
            # smallest that keeps both sides at least 256: a 12 MP photo decodes about
            # four times faster than in full.
            image.draft("RGB", (RESIZE_SHORT_SIDE, RESIZE_SHORT_SIDE))
        image.load()
    except Image.DecompressionBombError:
        # Pillow's own guard, for a max_pixels set above Pillow's limit.
        raise too_many_pixels(max_pixels) from None
    except Image.DecompressionBombWarning:
        # Only raised when warnings are errors (python -W error, some test settings).
        raise too_many_pixels(max_pixels) from None
    except DECODING_ERRORS:
        raise ImageRejected(
            "corrupt_image", "The image is damaged or incomplete and cannot be read.", 400
        ) from None
    return to_rgb(apply_exif_orientation(image))


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
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        # Fully transparent pixels keep whatever colour they had (often black);
        # showing them on white is what the uploader saw in their browser.
        background = Image.new("RGBA", image.size, WHITE)
        background.alpha_composite(image.convert("RGBA"))
        return background.convert("RGB")
    return image.convert("RGB")  # L, P, CMYK, YCbCr, 1, ...


def to_8_bit_grey(image: Image.Image) -> Image.Image:
    # Pillow's own convert("L") clips these modes at 255 instead of scaling them, which
    # turns a 16-bit photo almost white. Integer modes hold 16-bit samples (PNG), F 0..1.
    full_scale = 1.0 if image.mode == "F" else 65535.0
    samples = np.asarray(image, dtype=np.float32) / full_scale
    return Image.fromarray(np.clip(samples * 255 + 0.5, 0, 255).astype(np.uint8))


def to_model_input(image: Image.Image, size: int = MODEL_INPUT_SIZE) -> np.ndarray:
    """RGB image -> float32 array (1, 3, size, size) in [-1, 1]: EfficientNet's
    evaluation crop (resize the short side to 256, keep the central 224x224)."""
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
