"""tooling/photos.py's one walk over a JPEG's header segments, and its two users: the
load test's comment (tooling/loadtest/photos.py) goes where the header ends, and the
autograder (autograder/photos.py) finds it there."""

from io import BytesIO

import pytest
from PIL import Image

from autograder.photos import GPS_PHOTO, inspect
from tooling.loadtest.photos import with_comment
from tooling.photos import bird_jpeg, jpeg_header_end, jpeg_segments, read_testdata

pytestmark = pytest.mark.database_independent

APP1, COMMENT, START_OF_SCAN = 0xE1, 0xFE, b"\xff\xda"


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


def test_the_load_tests_comment_goes_last_in_the_header_and_the_grader_finds_it():
    photo = bird_jpeg()
    commented = with_comment(photo, b"birdai load test 1234")
    last = jpeg_segments(commented)[-1]
    assert (last.marker, last.body) == (COMMENT, b"birdai load test 1234")
    assert commented[last.end :] == photo[jpeg_header_end(photo) :]  # the image data, whole
    opened = Image.open(BytesIO(commented))
    assert opened.tobytes() == Image.open(BytesIO(photo)).tobytes()
    assert inspect(photo).metadata == []
    assert inspect(commented).metadata == ["a comment"]
