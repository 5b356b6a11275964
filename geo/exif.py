"""Reading where and when a photo was taken from its EXIF metadata.

Everything here is a pure function of the photo's bytes: no database, no settings, no files.

EXIF is a small TIFF structure stored inside the photo (in a JPEG, in the APP1 segment). It
is a tree of "IFDs" (image file directories, i.e. tables of numbered tags): the main IFD holds
the camera make and model, and points to two sub-IFDs we care about, the Exif IFD
(capture time) and the GPS IFD (position). Cameras, phones and editing tools write all of this
with varying care, so every value is treated as untrusted input:

* A value that is missing, malformed or out of range becomes ``None``. It is never clamped or
  guessed, because a wrong position on a map is worse than no position at all.
* A broken part of the metadata (say, a GPS IFD pointing past the end of the file) only loses
  that part: the camera model can still be read when the GPS block is garbage.
* Nothing here raises on bad metadata. A file that is not an image at all gives empty metadata
  (``PhotoMetadata()``): deciding whether an upload is an acceptable image is the job of the
  upload validation, not of this module.
"""

import math
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from functools import partial
from io import BytesIO
from typing import Any, TypeVar

import pillow_heif
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

pillow_heif.register_heif_opener()  # HEIC/HEIF (iPhone photos) keep their EXIF in the file too

T = TypeVar("T")


@dataclass(frozen=True)
class GpsPosition:
    """A position on the WGS-84 globe, as recorded by the camera."""

    latitude: float  # degrees, -90 (south pole) to 90 (north pole)
    longitude: float  # degrees, -180 to 180, negative west of Greenwich
    altitude_m: float | None = None  # metres above sea level, negative below it


@dataclass(frozen=True)
class PhotoMetadata:
    """What the photo's EXIF says about it; every field is None when unknown or unreadable."""

    location: GpsPosition | None = None
    taken_at: datetime | None = None  # aware if the camera recorded its UTC offset, else naive
    camera_make: str | None = None
    camera_model: str | None = None


def read_photo_metadata(data: bytes, opened: Image.Image | None = None) -> PhotoMetadata:
    """The location, capture time and camera stored in a photo's EXIF.

    The pixels are never decoded, so this is cheap even for a large photo. Any format Pillow
    can open works: JPEG (APP1 segment), PNG (eXIf chunk, before or after the pixel data),
    WebP (EXIF chunk), HEIC/HEIF (Exif item), TIFF... Never raises: unreadable parts of the
    metadata are None, and bytes that are not an image at all give ``PhotoMetadata()``.

    `opened`: the same bytes already opened by Pillow (the upload's validation), whose
    EXIF is then read from it instead of opening the bytes again.
    """
    if data.startswith(PNG_SIGNATURE):
        return _png_metadata(data)
    if opened is not None:
        try:
            return _metadata_from_exif(opened.getexif())
        except NotImplementedError:
            raise  # a starter's TODO (_safely says why)
        except Exception:  # noqa: BLE001 - a header Pillow cannot parse: no metadata
            return PhotoMetadata()
    try:
        with Image.open(BytesIO(data)) as image:
            exif = image.getexif()
            # The reads stay inside the `with`: for TIFF files Pillow reads tags lazily from the
            # still-open file.
            return _metadata_from_exif(exif)
    except NotImplementedError:
        raise  # a starter's TODO (_safely says why)
    except Exception:  # noqa: BLE001 - not an image, or a header Pillow cannot parse
        return PhotoMetadata()


# --- PNG -----------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# ImageMagick 6 and tools built on it write EXIF into a PNG as a text chunk under this
# keyword, in hex ("\nexif\n    1234\n4d4d002a..."): the way before eXIf existed.
RAW_EXIF_PROFILE = b"Raw profile type exif"
TEXT_CHUNKS = {b"tEXt", b"zTXt", b"iTXt"}
MAX_PROFILE_BYTES = 1_000_000  # EXIF is at most 64 KB; hex doubles it. No zip bombs.


def _png_metadata(data: bytes) -> PhotoMetadata:
    # Pillow reads a PNG's eXIf chunk only if it comes before the pixel data; for one after it
    # (as some phones write it), getexif() decodes the whole image first. Walking the chunks
    # finds it wherever it is, without decoding a pixel.
    payload = png_exif_chunk(data)
    if payload is None:
        return PhotoMetadata()
    exif = Image.Exif()
    try:
        exif.load(payload)
    except Exception:  # noqa: BLE001 - a malformed EXIF block: no metadata, as for other formats
        return PhotoMetadata()
    return _metadata_from_exif(exif)


def png_exif_chunk(data: bytes) -> bytes | None:
    """The EXIF of a PNG, wherever it is, or None (none, or damaged): the eXIf chunk's
    body, else that of an ImageMagick "Raw profile type exif" text chunk.

    A PNG is its signature, then chunks: a 4-byte length, a 4-byte type, the body and a CRC
    of type and body. Only the chunk headers are read on the way: the pixel data (IDAT
    chunks) is skipped, never decompressed.
    """
    position = len(PNG_SIGNATURE)
    raw_profile = None
    while position + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        body_start = position + 8
        body_end = body_start + length
        if body_end + 4 > len(data) or kind == b"IEND":
            break
        if kind == b"eXIf" or (kind in TEXT_CHUNKS and raw_profile is None):
            body = data[body_start:body_end]
            (crc,) = struct.unpack_from(">I", data, body_end)
            # A damaged chunk could hold any position: better none than a wrong one.
            if zlib.crc32(kind + body) != crc:
                return None
            if kind == b"eXIf":
                return body
            raw_profile = _safely(partial(raw_exif_profile, kind, body))
        position = body_end + 4
    return raw_profile


def raw_exif_profile(kind: bytes, body: bytes) -> bytes | None:
    """The EXIF in a tEXt, zTXt or iTXt chunk keyed "Raw profile type exif", or None."""
    keyword, _, rest = body.partition(b"\0")
    if keyword != RAW_EXIF_PROFILE:
        return None
    if kind == b"zTXt":  # compression method (0: zlib), then the compressed text
        rest = zlib.decompressobj().decompress(rest[1:], MAX_PROFILE_BYTES)
    elif kind == b"iTXt":  # compressed?, method, language\0, translated keyword\0, text
        compressed, rest = rest[0], rest[2:]
        rest = rest.split(b"\0", 2)[2]
        if compressed:
            rest = zlib.decompressobj().decompress(rest, MAX_PROFILE_BYTES)
    # "\nexif\n    1234\n" and then the hex, in lines of 72 characters.
    lines = rest.decode("ascii").split("\n")
    return bytes.fromhex("".join(lines[3:]))


def _metadata_from_exif(exif: Image.Exif) -> PhotoMetadata:
    # Each part is read separately so that one broken IFD does not take the others with it.
    gps_ifd = _safely(lambda: exif.get_ifd(ExifTags.IFD.GPSInfo)) or {}
    exif_ifd = _safely(lambda: exif.get_ifd(ExifTags.IFD.Exif)) or {}
    return PhotoMetadata(
        # Most photos have no GPS IFD at all: nothing to read.
        location=_safely(lambda: gps_position(gps_ifd)) if gps_ifd else None,
        taken_at=_safely(lambda: capture_time(exif, exif_ifd)),
        camera_make=_safely(lambda: clean_text(exif.get(ExifTags.Base.Make))),
        camera_model=_safely(lambda: clean_text(exif.get(ExifTags.Base.Model))),
    )


def _safely(read: Callable[[], T | None]) -> T | None:
    """read(), or None if it raises.

    This is the one place that swallows every exception, on purpose: Pillow parses the tag
    values lazily, and a malformed IFD can surface as almost anything (struct.error, ValueError,
    TypeError, KeyError, SyntaxError, ...). Metadata is optional, so losing one field is the
    right outcome; crashing the upload is not.

    Except for NotImplementedError: in a course's starter code it
    is a part still to write, and its TODO must reach the student, not read as no metadata.
    """
    try:
        return read()
    except NotImplementedError:
        raise
    except Exception:  # noqa: BLE001 - see the docstring
        return None


# --- GPS -----------------------------------------------------------------------------------

# EXIF stores every coordinate as a positive (degrees, minutes, seconds) triple; the hemisphere
# lives in a separate one-letter "ref" tag, which gives the sign and, through the axis, the
# largest valid value.
HEMISPHERES = {"N": (1, 90), "S": (-1, 90), "E": (1, 180), "W": (-1, 180)}  # sign, max degrees
LATITUDE_REFS = {"N", "S"}
LONGITUDE_REFS = {"E", "W"}


def gps_position(gps: dict[int, Any]) -> GpsPosition | None:
    """The position in a GPS IFD (a dict of GPS tag number to value), or None.

    Both latitude and longitude must be present and valid; altitude is optional, and an invalid
    altitude drops only the altitude.
    """
    # BEGIN SOLUTION 2 a2-exif-gps-position
    latitude_ref = hemisphere(gps.get(ExifTags.GPS.GPSLatitudeRef))
    longitude_ref = hemisphere(gps.get(ExifTags.GPS.GPSLongitudeRef))
    # A latitude with an E/W reference (or the reverse) means the tags are mixed up.
    if latitude_ref not in LATITUDE_REFS or longitude_ref not in LONGITUDE_REFS:
        return None
    latitude = dms_to_degrees(gps.get(ExifTags.GPS.GPSLatitude), latitude_ref)
    longitude = dms_to_degrees(gps.get(ExifTags.GPS.GPSLongitude), longitude_ref)
    if latitude is None or longitude is None:
        return None
    return GpsPosition(
        latitude=latitude,
        longitude=longitude,
        altitude_m=altitude(
            gps.get(ExifTags.GPS.GPSAltitude), gps.get(ExifTags.GPS.GPSAltitudeRef)
        ),
    )
    # END SOLUTION a2-exif-gps-position
    # BEGIN STUB a2-exif-gps-position
    # raise NotImplementedError(
    #     "TODO (assignment 2): the position in a GPS IFD, from its latitude, longitude and "
    #     "altitude tags and their refs (this docstring). Read README.md, 'Where photos were "
    #     "taken', and the GPS section of geo/exif.py."
    # )
    # END STUB a2-exif-gps-position


def dms_to_degrees(dms: Any, ref: Any) -> float | None:
    """Signed decimal degrees from an EXIF (degrees, minutes, seconds) triple and its ref.

    ``dms`` holds three unsigned rationals; Pillow gives them as IFDRational, and (numerator,
    denominator) tuples or plain numbers are accepted too. Minutes and seconds may carry
    fractions (many cameras write whole degrees and minutes with fractional seconds; some write
    fractional minutes and zero seconds).

    ``ref`` is "N", "S", "E" or "W": S and W make the result negative, and N/S or E/W decide
    whether the limit is 90 or 180 degrees.

    None, rather than a guess, when:
    * the ref is missing or unknown. Assuming N or E (as some readers do) would put a photo
      taken in Sydney or Santiago in the wrong hemisphere, thousands of kilometres away;
    * a rational has a zero denominator (cameras write 0/0 when they have no fix);
    * a value is negative, minutes or seconds are 60 or more, or the total exceeds 90 degrees
      of latitude or 180 of longitude. These are corrupt values: clamping them would invent a
      position that was never recorded.
    """
    # BEGIN SOLUTION 2 a2-exif-dms-to-degrees
    ref = hemisphere(ref)
    if ref is None:
        return None
    sign, max_degrees = HEMISPHERES[ref]
    if not isinstance(dms, tuple | list) or len(dms) != 3:
        return None
    degrees, minutes, seconds = (rational_to_float(part) for part in dms)
    if degrees is None or minutes is None or seconds is None:
        return None
    if degrees < 0 or not 0 <= minutes < 60 or not 0 <= seconds < 60:
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if value > max_degrees:
        return None
    return sign * value
    # END SOLUTION a2-exif-dms-to-degrees
    # BEGIN STUB a2-exif-dms-to-degrees
    # raise NotImplementedError(
    #     "TODO (assignment 2): signed decimal degrees from an EXIF (degrees, minutes, "
    #     "seconds) triple and its N/S/E/W ref, None for anything unusable (this docstring). "
    #     "Read README.md, 'Where photos were taken'."
    # )
    # END STUB a2-exif-dms-to-degrees


def altitude(value: Any, ref: Any) -> float | None:
    """Metres above sea level from the GPSAltitude rational and its GPSAltitudeRef byte.

    EXIF stores altitude as an unsigned rational plus a ref: 0 for above sea level, 1 for below
    (the Dead Sea shore is about 430 m below, so that photo has value 430 and ref 1). The EXIF
    standard makes 0 the default, so a missing ref means above sea level; unlike a missing
    hemisphere, this default is part of the standard, not a guess. Any other ref is not
    understood here and gives None, as does a zero denominator.
    """
    # BEGIN SOLUTION 2 a2-exif-altitude
    metres = rational_to_float(value)
    if metres is None or metres < 0:
        return None
    below_sea_level = 0 if ref is None else _single_byte(ref)
    if below_sea_level == 0:
        return metres
    if below_sea_level == 1:
        return -metres
    return None  # unknown or malformed ref
    # END SOLUTION a2-exif-altitude
    # BEGIN STUB a2-exif-altitude
    # raise NotImplementedError(
    #     "TODO (assignment 2): metres above sea level from GPSAltitude and GPSAltitudeRef "
    #     "(this docstring). Read README.md, 'Where photos were taken'."
    # )
    # END STUB a2-exif-altitude


def rational_to_float(value: Any) -> float | None:
    """A finite float from an EXIF rational, or None.

    Accepts Pillow's IFDRational (or a Fraction), a (numerator, denominator) tuple, or a plain
    number. Pillow's IFDRational turns a zero denominator into NaN instead of raising, so the
    denominator is checked before dividing.
    """
    if isinstance(value, tuple) and len(value) == 2:
        numerator, denominator = value
    elif isinstance(value, IFDRational | Fraction):
        numerator, denominator = value.numerator, value.denominator
    else:
        numerator, denominator = value, 1
    if not _is_number(numerator) or not _is_number(denominator) or denominator == 0:
        return None
    try:
        number = numerator / denominator
    except OverflowError:  # only for absurd hand-made integers; EXIF ones are 32-bit
        return None
    return number if math.isfinite(number) else None


def _is_number(value: Any) -> bool:
    # bool is an int in Python, but True is never a sensible EXIF rational.
    return isinstance(value, int | float) and not isinstance(value, bool)


def hemisphere(ref: Any) -> str | None:
    """A GPS ref tag as one upper-case letter ("N", "S", "E", "W"), or None.

    Refs are ASCII tags, so Pillow usually gives a str; a badly typed tag may come back as
    bytes, and some writers pad it with NULs or spaces or use lower case.
    """
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", errors="replace")
    if not isinstance(ref, str):
        return None
    ref = ref.strip("\x00 ").upper()
    return ref if ref in HEMISPHERES else None


def _single_byte(value: Any) -> int | None:
    """A BYTE tag as an int: Pillow gives b'\\x01' for BYTE tags, or 1 if mistyped as SHORT."""
    if isinstance(value, bytes) and len(value) == 1:
        return value[0]
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


# --- Time, camera --------------------------------------------------------------------------

EXIF_DATETIME_FORMAT = "%Y:%m:%d %H:%M:%S"  # colons in the date too: "2008:10:22 16:28:39"
UTC_OFFSET = re.compile(r"([+-])(\d\d):(\d\d)")  # "+02:00", as written by EXIF 2.31 and later


def capture_time(main_ifd: Any, exif_ifd: Any) -> datetime | None:
    """When the photo was taken, from the main IFD and the Exif sub-IFD.

    DateTimeOriginal (when the shutter fired) is preferred; DateTime (when the file was last
    changed, often by editing software) is the fallback. EXIF times are local wall-clock times
    with no zone; since EXIF 2.31 each one may have a matching offset tag (OffsetTimeOriginal,
    OffsetTime), which makes the result timezone-aware. Without it the result is naive: the
    camera's clock zone is unknown, and pretending it was UTC would shift the time.
    """
    original = parse_exif_datetime(
        exif_ifd.get(ExifTags.Base.DateTimeOriginal),
        exif_ifd.get(ExifTags.Base.OffsetTimeOriginal),
    )
    if original is not None:
        return original
    return parse_exif_datetime(
        main_ifd.get(ExifTags.Base.DateTime), exif_ifd.get(ExifTags.Base.OffsetTime)
    )


def parse_exif_datetime(value: Any, offset: Any = None) -> datetime | None:
    """A datetime from an EXIF "YYYY:MM:DD HH:MM:SS" string, aware if the offset is valid.

    None for the placeholders cameras write when their clock was never set
    ("0000:00:00 00:00:00", or all spaces) and for anything else that is not a real date.
    """
    text = clean_text(value)
    if text is None:
        return None
    try:
        taken = datetime.strptime(text, EXIF_DATETIME_FORMAT)
    except ValueError:
        return None
    zone = parse_utc_offset(offset)
    return taken.replace(tzinfo=zone) if zone is not None else taken


def parse_utc_offset(value: Any) -> timezone | None:
    """A timezone from an EXIF offset tag such as "+02:00" or "-03:30", or None."""
    text = clean_text(value)
    if text is None or not (match := UTC_OFFSET.fullmatch(text)):
        return None
    sign, hours, minutes = match.groups()
    if int(minutes) >= 60:
        return None
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta > timedelta(hours=14):  # no time zone is further than 14 hours from UTC
        return None
    return timezone(-delta if sign == "-" else delta)


def clean_text(value: Any) -> str | None:
    """An EXIF text tag without its padding, or None when empty or not text.

    EXIF strings are C strings: they end at the first NUL byte, and some cameras leave junk
    after it ("ION230\\x00F") or pad the field with spaces to a fixed width ("Caplio ").
    """
    if isinstance(value, bytes):  # a text tag stored with the wrong type (UNDEFINED)
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    text = value.split("\x00", 1)[0].strip()
    return text or None
