"""Tests of classifier/: the model, its backends, decoding, the classify page and API."""
