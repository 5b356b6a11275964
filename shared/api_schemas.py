"""The parts of the API's schema every app's endpoints share: the one error shape and
the multipart body of an image upload."""

from ninja import Schema


class Error(Schema):
    error: str
    message: str


def error_responses(*statuses: int) -> dict[int, type[Error]]:
    """The documented error answers of an operation: {400: Error, 401: Error, ...}."""
    return dict.fromkeys(statuses, Error)


# The multipart body of both upload endpoints, written out for the schema because their
# views read the file themselves (shared/uploads.py): a missing file answers 400
# missing_image and an oversized one 413 too_large, where a typed File parameter would
# turn both into a generic validation error.
IMAGE_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {
                        "image": {
                            "type": "string",
                            "format": "binary",
                            "description": "A JPEG, PNG, WebP or HEIC photo.",
                        }
                    },
                },
                # What a client should label the file; the server goes by its content.
                "encoding": {"image": {"contentType": "image/jpeg, image/png, image/webp"}},
            }
        },
    }
}
