"""The embedded default's counters: Django's file cache, made safe for counting.

Every gunicorn worker of a machine sees the same files, so the counts are shared by
all of them. Django's FileBasedCache alone is not enough for counting: its add() and
incr() read, then write, so two workers counting at the same moment can both write
the same number and lose one count; and incr() saves the counter again with the
default timeout, so a counter's window could outlive, or not reach, its end. Here
add() and incr() hold one lock file while they work, and incr() keeps the expiry the
counter was made with. Redis (REDIS_URL) does both natively: INCR is atomic.
"""

import os
import pickle
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.files import locks

LOCK_FILE_NAME = "counters.lock"  # not *.djcache: clear() and culling leave it alone


class CountingFileCache(FileBasedCache):
    @contextmanager
    def _counting(self) -> Iterator[None]:
        self._createdir()
        with open(os.path.join(self._dir, LOCK_FILE_NAME), "ab") as lock_file:
            locks.lock(lock_file, locks.LOCK_EX)  # released when the file closes
            yield

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        with self._counting():
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        with self._counting():
            expiry, value = self._read(key, version)
            if value is None:
                raise ValueError(f"Key '{key}' not found")
            timeout = None if expiry is None else max(expiry - time.time(), 0.001)
            self.set(key, value + delta, timeout, version)
            return value + delta

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        # django-axes touches a counter right after counting; never between our steps.
        with self._counting():
            return super().touch(key, timeout, version)

    def _read(self, key, version) -> tuple[float | None, object]:
        """(expiry, value) as FileBasedCache wrote them; (None, None) when gone or expired."""
        with suppress(FileNotFoundError), open(self._key_to_file(key, version), "rb") as file:
            expiry = pickle.load(file)  # noqa: S301 - our own file, written by set()
            if expiry is None or expiry > time.time():
                return expiry, pickle.loads(zlib.decompress(file.read()))  # noqa: S301
        return None, None

    def _cull(self) -> None:
        # Over MAX_ENTRIES, Django deletes entries at random, live counters too; most
        # entries are counters of windows that have ended, so those go first.
        if len(self._list_cache_files()) < self._max_entries:
            return
        for name in self._list_cache_files():
            with suppress(FileNotFoundError), open(name, "rb") as file:
                self._is_expired(file)  # deletes the file when it has expired
        super()._cull()
