"""Defects planted in a real bird.ai stack, for the autograder's tests only.

The stack's app servers load `tests.autograder.planted.settings` (DJANGO_SETTINGS_MODULE,
which `scripts/stack up` passes on to them): the real settings, plus this app and its
middleware. Which defect is on is the name written in the file PLANTED_DEFECT_FILE (in
the stack's var/ folder, which all its app servers share); no file, no defect: the
stack is then the reference. Nothing here is in the app's own code: production has no
switch that turns a defect on.
"""

from pathlib import Path

from django.conf import settings

WRONG_LABEL = "wrong-label"
ERROR_500_ON_BAD_INPUT = "500-on-bad-input"
GPS_KEPT = "gps-kept"
SERVED_FROM_APP = "served-from-app"
ISOLATION_BROKEN = "isolation-broken"
NO_PROXY_CACHE = "no-proxy-cache"
DEFECTS = {WRONG_LABEL, ERROR_500_ON_BAD_INPUT, GPS_KEPT, SERVED_FROM_APP, ISOLATION_BROKEN,
           NO_PROXY_CACHE}  # fmt: skip


def defect_file(var_dir: Path) -> Path:
    return var_dir / "planted-defect"


def planted() -> str:
    """The defect that is on now, or ""."""
    try:
        return defect_file(settings.VAR_DIR).read_text().strip()
    except FileNotFoundError:
        return ""
