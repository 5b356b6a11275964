"""Receiving an uploaded image: in memory only, with a hard size limit.

Django's default handlers spill uploads over 2.5 MB into temporary files. bird.ai keeps
every upload in memory (nothing is left on the server's disk, even if a worker is
killed mid-request), and a file over settings.MAX_UPLOAD_BYTES is read to the end and
thrown away: the body must still be consumed so the client receives our 413 instead of
a reset connection.

Only the IMAGE_FIELD file is kept. Any other file in the same request is read and
thrown away as it arrives: ten extra 19 MB files beside the photo would otherwise sit
in the worker's memory (190 MB) until the request ends.
"""

from io import BytesIO

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest

from shared.errors import ImageRejected  # SOLUTION a1-read-upload

IMAGE_FIELD = "image"  # the one file field any bird.ai form or API endpoint reads


class LimitedMemoryUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        # None: drain this file, keep nothing (over the limit, or not the image).
        self.buffer: BytesIO | None = BytesIO() if self.field_name == IMAGE_FIELD else None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if self.buffer is None:
            return None  # already over the limit: keep draining, keep nothing
        if start + len(raw_data) > settings.MAX_UPLOAD_BYTES:
            self.buffer = None
            oversized = getattr(self.request, "oversized_uploads", [])
            self.request.oversized_uploads = [*oversized, self.field_name]
            return None
        self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile | None:
        if self.buffer is None:
            return None
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


def upload_form_context() -> dict:
    """What the upload form (classifier/upload_form.html) tells the user before sending."""
    return {"max_upload_bytes": settings.MAX_UPLOAD_BYTES}


def read_image_upload(request: HttpRequest, field_name: str = IMAGE_FIELD) -> tuple[bytes, str]:
    """The bytes and the client's file name of the uploaded image, or ImageRejected."""
    # BEGIN SOLUTION 1 a1-read-upload
    upload = request.FILES.get(field_name)  # parses the body, noting oversized files
    if field_name in getattr(request, "oversized_uploads", []):
        limit_mb = settings.MAX_UPLOAD_BYTES / (1024 * 1024)
        raise ImageRejected("too_large", f"The file is larger than the {limit_mb:g} MB limit.", 413)
    if upload is None:
        raise ImageRejected(
            "missing_image",
            f"No image was sent. Send it as multipart/form-data in the field '{field_name}'.",
            400,
        )
    return upload.read(), upload.name or ""
    # END SOLUTION a1-read-upload
    # BEGIN STUB a1-read-upload
    # raise NotImplementedError(
    #     "TODO (assignment 1): return the uploaded image's bytes and file name from "
    #     "request.FILES[field_name]; refuse a missing image (400 missing_image) and a file "
    #     "the upload handler found over MAX_UPLOAD_BYTES (413 too_large) with ImageRejected. "
    #     "Read README.md, 'The API' (the error table), and the top of this file."
    # )
    # END STUB a1-read-upload
