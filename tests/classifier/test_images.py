"""classifier/images.py: from uploaded bytes to an upright RGB image, and to model input."""

import csv
import io
import json
import re
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from classifier.images import decode_image, to_model_input, to_rgb
from shared.errors import ImageRejected
from tooling import photos
from tooling.photos import (
    bird_jpeg,
    decompression_bomb_png,
    enlarged_jpeg,
    reencode,
    skimage_photo,
)

pytestmark = pytest.mark.database_independent  # images and arrays only: no database.

MAX_PIXELS = 50_000_000


def decode(
    data: bytes,
    filename: str | None = None,
    max_pixels: int = MAX_PIXELS,
    max_decode_bytes: int | None = None,
) -> Image.Image:
    return decode_image(
        data, filename=filename, max_pixels=max_pixels, max_decode_bytes=max_decode_bytes
    )


def rejection(data: bytes, filename: str | None, max_pixels: int = MAX_PIXELS) -> ImageRejected:
    with pytest.raises(ImageRejected) as raised:
        decode(data, filename, max_pixels)
    assert len(raised.value.message) > 10  # a sentence a person can act on
    return raised.value


def encoded(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def pixel_list(image: Image.Image) -> list[tuple[int, int, int]]:
    return [tuple(pixel) for pixel in np.asarray(image).reshape(-1, 3).tolist()]


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32)).mean())


@pytest.fixture(scope="module")
def cat() -> Image.Image:
    return Image.open(io.BytesIO(skimage_photo("chelsea.png"))).convert("RGB")


@pytest.fixture(scope="module")
def twelve_megapixel_jpeg() -> bytes:
    return enlarged_jpeg(skimage_photo("chelsea.png"), size=(4000, 3000))


# --- Accepted formats ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("format", "filename"),
    [("JPEG", "cat.jpg"), ("PNG", "cat.png"), ("WEBP", "cat.webp"), ("HEIF", "cat.heic")],
)
def test_it_decodes_each_accepted_format_to_the_same_picture(cat, format, filename):
    image = decode(reencode(skimage_photo("chelsea.png"), format), filename)
    assert (image.mode, image.size) == ("RGB", cat.size)
    assert mean_difference(image, cat) < 5  # JPEG, WebP and HEIC are lossy


def test_it_reads_a_jpeg_with_extra_embedded_pictures(cat):
    # Many cameras and phones write MPO: a JPEG followed by more pictures.
    mpo = encoded(cat, "MPO", save_all=True, append_images=[cat.rotate(90)])
    assert Image.open(io.BytesIO(mpo)).format == "MPO"
    assert decode(mpo, "IMG_0001.JPG").size == cat.size


@pytest.mark.parametrize("filename", [None, "", "upload", "photo.bin", "scan.JPEG"])
def test_it_lets_the_content_decide_when_the_name_names_no_other_format(cat, filename):
    assert decode(encoded(cat, "JPEG"), filename).size == cat.size


# --- Rejected uploads ------------------------------------------------------------------


def test_it_rejects_an_empty_file():
    error = rejection(b"", "empty.jpg")
    assert (error.code, error.status) == ("empty_file", 400)


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"%PDF-1.7\n" + b"0" * 2000, "report.pdf"),
        (b"just some text\n" * 50, "notes.txt"),
        (b"just some text\n" * 50, "bird.jpg"),  # the content is not an image at all
        (b"just some text\n" * 50, None),
    ],
)
def test_it_rejects_what_is_not_an_image(data, filename):
    error = rejection(data, filename)
    assert (error.code, error.status) == ("unsupported_type", 415)
    assert "JPEG, PNG, WebP or HEIC" in error.message


@pytest.mark.parametrize(
    ("format", "filename"), [("GIF", "a.gif"), ("BMP", "a.bmp"), ("TIFF", "a.tif")]
)
def test_it_rejects_image_formats_it_does_not_take(cat, format, filename):
    error = rejection(encoded(cat, format), filename)
    assert (error.code, error.status) == ("unsupported_type", 415)
    assert f"{format} images are not supported" in error.message


@pytest.mark.parametrize(
    ("format", "filename", "in_message"),
    [
        ("JPEG", "cat.png", "named .png, but it is a JPEG"),
        ("PNG", "cat.jpg", "named .jpg, but it is a PNG"),
        ("JPEG", "cat.gif", "named .gif, but it is a JPEG"),
    ],
)
def test_it_rejects_a_name_that_contradicts_the_content(cat, format, filename, in_message):
    error = rejection(encoded(cat, format), filename)
    assert (error.code, error.status) == ("extension_mismatch", 415)
    assert in_message in error.message


def test_it_rejects_a_truncated_jpeg():
    data = bird_jpeg()
    error = rejection(data[: len(data) // 2], "flamingo.jpg")
    assert (error.code, error.status) == ("corrupt_image", 400)


def test_it_rejects_a_truncated_png():
    error = rejection(skimage_photo("chelsea.png")[:5000], "cat.png")
    assert (error.code, error.status) == ("corrupt_image", 400)


@pytest.fixture
def pixels_must_not_be_decoded(monkeypatch):
    def load(self):
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def test_it_rejects_a_decompression_bomb_without_allocating_it(pixels_must_not_be_decoded):
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    error = rejection(decompression_bomb_png(30_000, 30_000), "bomb.png")
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert (error.code, error.status) == ("too_many_pixels", 413)
    assert "50 million pixels" in error.message
    assert peak_after - peak_before < 100_000  # the canvas alone would be 900 MB


def test_it_checks_its_own_pixel_limit_from_the_header(pixels_must_not_be_decoded):
    # 2 MP: far below Pillow's own bomb limit, above the configured one.
    error = rejection(decompression_bomb_png(2_000, 1_000), "wide.png", max_pixels=1_000_000)
    assert (error.code, error.status) == ("too_many_pixels", 413)


def test_it_turns_pillows_bomb_error_into_413():
    # A limit set above Pillow's: Pillow's own guard (at 2 x 89 MP) fires first.
    error = rejection(decompression_bomb_png(30_000, 30_000), "bomb.png", max_pixels=10**12)
    assert (error.code, error.status) == ("too_many_pixels", 413)


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_it_turns_pillows_bomb_warning_into_413_when_warnings_are_errors():
    error = rejection(decompression_bomb_png(10_000, 10_000), "bomb.png", max_pixels=10**12)
    assert (error.code, error.status) == ("too_many_pixels", 413)


# --- Large JPEGs are decoded at reduced scale ------------------------------------------


def test_it_decodes_a_12_megapixel_jpeg_at_an_eighth_of_its_size(twelve_megapixel_jpeg):
    assert decode(twelve_megapixel_jpeg, "IMG_0001.JPG").size == (500, 375)


@pytest.mark.parametrize(
    ("size", "decoded"), [((2000, 1500), (500, 375)), ((600, 450), (600, 450))]
)
def test_it_never_reduces_a_jpeg_below_256_pixels_on_its_short_side(cat, size, decoded):
    image = decode(encoded(cat.resize(size), "JPEG"), "photo.jpg")
    assert image.size == decoded
    assert min(image.size) >= 256


# --- Orientation and colour modes ------------------------------------------------------


@pytest.mark.parametrize("shape", ["landscape", "portrait"])
def test_it_turns_every_exif_orientation_upright(shape):
    directory = photos.TESTDATA_DIR / "exif" / "orientation"
    upright = decode((directory / f"{shape}_1.jpg").read_bytes(), f"{shape}_1.jpg")
    for orientation in range(2, 9):
        path = directory / f"{shape}_{orientation}.jpg"
        image = decode(path.read_bytes(), path.name)
        assert image.size == upright.size, path.name
        # Turned right, they differ from _1 by ~15 grey levels (re-encoding); turned
        # wrong, or left as stored, by 40 or more.
        assert mean_difference(image, upright) < 25, path.name


def test_it_decodes_every_shared_camera_photo():
    # Real cameras, and deliberately broken EXIF: a bad EXIF block must not cost the photo.
    directory = photos.TESTDATA_DIR / "exif"
    with open(directory / "MANIFEST.csv", newline="") as manifest:
        rows = list(csv.DictReader(manifest))
    assert len(rows) > 70
    for row in rows:
        image = decode((directory / row["file"]).read_bytes(), row["file"])
        assert image.mode == "RGB", row["file"]
        assert min(image.size) >= min(256, int(row["width"]), int(row["height"])), row["file"]


def test_it_puts_transparent_areas_on_white():
    image = Image.new("RGBA", (4, 1), (255, 0, 0, 255))
    image.putpixel((1, 0), (0, 0, 0, 0))  # transparent pixels often hold black
    image.putpixel((2, 0), (0, 0, 255, 128))  # half transparent blue
    pixels = pixel_list(decode(encoded(image, "PNG"), "a.png"))
    assert pixels[0] == (255, 0, 0)
    assert pixels[1] == (255, 255, 255)
    assert pixels[2] in {(127, 127, 255), (128, 128, 255)}


def test_it_reads_a_palette_image_with_a_transparent_colour():
    image = Image.new("P", (2, 1))
    image.putpalette([255, 0, 0, 0, 0, 0])
    image.putpixel((1, 0), 1)
    data = encoded(image, "PNG", transparency=1)
    assert pixel_list(decode(data, "a.png")) == [(255, 0, 0), (255, 255, 255)]


def test_it_reads_a_cmyk_jpeg():
    image = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # no cyan, full magenta+yellow: red
    red, green, blue = decode(encoded(image, "JPEG"), "print.jpg").getpixel((8, 8))
    assert red > 240
    assert max(green, blue) < 15


def test_it_scales_16_bit_grey_down_to_8_bits():
    samples = np.array([[0, 32896, 65535]], dtype=np.uint16)
    data = encoded(Image.fromarray(samples), "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    assert pixel_list(decode(data, "scan.png")) == [(0, 0, 0), (128, 128, 128), (255,) * 3]


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (Image.new("L", (1, 1), 77), (77, 77, 77)),
        (Image.new("LA", (1, 1), (0, 0)), (255, 255, 255)),
        (Image.new("I", (1, 1), 65535), (255, 255, 255)),
        (Image.new("F", (1, 1), 0.5), (128, 128, 128)),
        (Image.new("1", (1, 1), 1), (255, 255, 255)),
    ],
)
def test_it_turns_every_colour_mode_into_rgb(image, expected):
    rgb = to_rgb(image)
    assert (rgb.mode, rgb.getpixel((0, 0))) == ("RGB", expected)


# --- Model input -----------------------------------------------------------------------


def test_it_makes_a_normalised_224_pixel_batch_of_one(cat):
    batch = to_model_input(cat)
    assert (batch.shape, batch.dtype) == ((1, 3, 224, 224), np.float32)
    assert batch.flags["C_CONTIGUOUS"]
    assert to_model_input(Image.new("RGB", (300, 300), "white")).min() == 1.0
    assert to_model_input(Image.new("RGB", (300, 300), "black")).max() == -1.0


def test_it_keeps_the_central_crop_only():
    # 512x256: red outer quarters, green middle. Resized to 256 high, the central
    # 224x224 lies inside the green band; squashing the whole image would not.
    image = Image.new("RGB", (512, 256), "red")
    image.paste((0, 255, 0), (128, 0, 384, 256))
    red, green, blue = to_model_input(image)[0]
    assert (red.max(), green.min(), blue.max()) == (-1.0, 1.0, -1.0)


def test_it_handles_a_sliver_without_building_a_huge_intermediate():
    batch = to_model_input(Image.new("RGB", (1, 100_000), "white"))
    assert batch.shape == (1, 3, 224, 224)


# --- Memory: priced before decoding, reduced without full-size copies -------------------

# In a fresh process, whose peak (VmHWM) is its own: ru_maxrss would start from the
# test runner's, which a child inherits across fork and exec.
MEASURE_DECODE = """
import json, os, sys
from classifier.images import open_image, plan_decode, reduce_converted
from tooling.servers.process import peak_rss_bytes

data = open(sys.argv[1], "rb").read()
image = open_image(data, None)
plan = plan_decode(image, (256, 256), "RGB")
before = peak_rss_bytes(os.getpid())
image.load()
reduce_converted(image, plan.factor, "RGB")
used = peak_rss_bytes(os.getpid()) - before
print(json.dumps({"planned": plan.memory_bytes, "used": used}))
"""
MB = 1_000_000


def measured_decode(path) -> dict:
    """Decodes the file in a fresh Python and reads how far its peak memory rose."""
    finished = subprocess.run(
        [sys.executable, "-c", MEASURE_DECODE, str(path)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(finished.stdout)


SIDE = 3000  # 9 MP: large enough that the decoder's buffers dwarf everything else
MEMORY_CASES = {
    "transparent PNG": lambda: encoded(Image.new("RGBA", (SIDE, SIDE)), "PNG"),
    "16-bit grey PNG": lambda: encoded(Image.fromarray(np.zeros((SIDE, SIDE), np.uint16)), "PNG"),
    "WebP": lambda: encoded(Image.new("RGBA", (SIDE, SIDE)), "WEBP", lossless=True),
    "HEIC": lambda: encoded(Image.new("RGB", (SIDE, SIDE), "green"), "HEIF"),
    "progressive JPEG, 4:2:0": lambda: encoded(
        Image.new("RGB", (SIDE, SIDE)), "JPEG", progressive=True
    ),
    "progressive JPEG, 4:4:4": lambda: encoded(
        Image.new("RGB", (SIDE, SIDE)), "JPEG", progressive=True, subsampling=0
    ),
}


@pytest.mark.parametrize("case", MEMORY_CASES)
def test_the_memory_a_decode_is_priced_at_covers_a_real_decode(case, tmp_path):
    path = tmp_path / "image"
    path.write_bytes(MEMORY_CASES[case]())
    figures = measured_decode(path)
    planned, used = figures["planned"], figures["used"]
    assert used <= planned * 1.05 + 4 * MB, (
        f"{case}: used {used / MB:.0f} MB, priced at {planned / MB:.0f} MB"
    )
    # And not so cautious that good photos are refused for nothing.
    assert planned <= 2 * used + 8 * MB, (
        f"{case}: priced at {planned / MB:.0f} MB, used {used / MB:.0f} MB"
    )


def test_it_refuses_what_would_take_too_much_memory_before_decoding(pixels_must_not_be_decoded):
    webp = encoded(Image.new("RGBA", (4000, 4000)), "WEBP", lossless=True)  # 16 B a pixel
    with pytest.raises(ImageRejected) as raised:
        decode_image(webp, filename="a.webp", max_pixels=MAX_PIXELS, max_decode_bytes=200 * MB)
    error = raised.value
    assert (error.code, error.status) == ("too_large_to_decode", 413)
    assert re.search(r"this 4000 x 4000 WebP image would take 26\d MB of memory", error.message)
    assert "limit of 200 MB" in error.message


def test_a_progressive_jpeg_is_priced_at_its_full_size_coefficients(pixels_must_not_be_decoded):
    jpeg = encoded(Image.new("RGB", (4000, 4000)), "JPEG", progressive=True, subsampling=0)
    with pytest.raises(ImageRejected) as raised:  # 4000 x 4000 x 3 x 2 bytes = 96 MB
        decode_image(jpeg, filename="a.jpg", max_pixels=MAX_PIXELS, max_decode_bytes=90 * MB)
    assert raised.value.code == "too_large_to_decode"
    assert "this 4000 x 4000 JPEG image would take 10" in raised.value.message


def test_a_baseline_jpeg_is_priced_at_its_reduced_size():
    baseline = encoded(Image.new("RGB", (4000, 4000)), "JPEG")
    # 500 x 500 x 4 bytes, decoded and converted, and a tile's working copies
    image = decode(baseline, "a.jpg", max_decode_bytes=10 * MB)
    assert image.size == (500, 500)


def test_it_reduces_a_transparent_png_a_tile_at_a_time_onto_white():
    image = Image.new("RGBA", (3000, 2000), (255, 0, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, 1500, 2000))  # the left half transparent black
    decoded = decode(encoded(image, "PNG"), "a.png")
    assert decoded.size == (429, 286)  # reduced 7 times: still 256+ on the short side
    assert decoded.getpixel((100, 143)) == (255, 255, 255)
    assert decoded.getpixel((330, 143)) == (255, 0, 0)


def test_tiles_leave_no_seams(cat):
    # A real photo, 4800 x 3200: reduced 12 times in tiles of 1020 pixels, it must match
    # the whole image reduced at once.
    large = cat.resize((4800, 3200), Image.Resampling.BICUBIC)
    decoded = decode(encoded(large, "PNG"), "cat.png")
    assert decoded.size == (400, 267)
    assert mean_difference(decoded, large.reduce(12)) == 0


def test_it_reduces_16_bit_grey_without_a_full_size_float_copy():
    samples = np.full((2000, 3000), 32896, dtype=np.uint16)
    decoded = decode(encoded(Image.fromarray(samples), "PNG"), "scan.png")
    assert decoded.size == (429, 286)
    assert set(pixel_list(decoded)) == {(128, 128, 128)}
