"""Tests of history/: the upload pipeline, a user's submissions on local files and on
S3, what the stored copies keep, the locations API and the map cells counted as photos
come and go, the storage commands."""
