"""The load test's comment in a JPEG (tooling/loadtest/photos.py): it goes last in the
header, where tooling/photos.py's walk ends, and leaves the image data whole."""

from io import BytesIO

import pytest
from PIL import Image

from tooling.loadtest.photos import with_comment
from tooling.photos import bird_jpeg, jpeg_header_end, jpeg_segments

pytestmark = pytest.mark.database_independent

COMMENT = 0xFE


def test_the_comment_goes_last_in_the_header_and_leaves_the_image_whole():
    photo = bird_jpeg()
    commented = with_comment(photo, b"birdai load test 1234")
    last = jpeg_segments(commented)[-1]
    assert (last.marker, last.body) == (COMMENT, b"birdai load test 1234")
    assert commented[last.end :] == photo[jpeg_header_end(photo) :]  # the image data, whole
    opened = Image.open(BytesIO(commented))
    assert opened.tobytes() == Image.open(BytesIO(photo)).tobytes()
