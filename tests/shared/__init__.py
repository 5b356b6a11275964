"""Tests of shared/: reading an upload, file storage."""
