"""Tests of geo/: EXIF reading, places, IP positions, the map page."""
