"""tooling/photos.py's one walk over a JPEG's header segments, and where the header ends:
the load test puts its comment there, and the course's autograder reads a photo's
metadata from those segments."""

import pytest

from tooling.photos import GPS_PHOTO, jpeg_header_end, jpeg_segments, read_testdata

pytestmark = pytest.mark.database_independent

APP1, START_OF_SCAN = 0xE1, b"\xff\xda"


def test_it_reads_the_header_segments_up_to_the_image_data():
    photo = read_testdata(GPS_PHOTO)
    segments = jpeg_segments(photo)
    exif = [s for s in segments if s.marker == APP1 and s.body.startswith(b"Exif\x00\x00")]
    assert len(exif) == 1
    assert segments[-1].end == jpeg_header_end(photo)
    assert photo[jpeg_header_end(photo) :].startswith(START_OF_SCAN)


def test_it_refuses_what_is_not_a_jpeg():
    with pytest.raises(ValueError, match="not a JPEG"):
        jpeg_segments(b"\x89PNG\r\n\x1a\n")
