"""Tests of shared/: reading an upload, S3 storage behind a CDN."""
