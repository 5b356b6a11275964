"""Tests of accounts/: sign-up, log-in, password change, API tokens."""
