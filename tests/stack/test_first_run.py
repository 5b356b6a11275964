"""The first command on a clean clone (issue #12): nothing has made var/ yet.

scripts/first-run-check (run by CI) proves the whole of `scripts/run` end to end; this is
the part that broke, checked quickly: `manage.py migrate` on the embedded default database
when its folder does not exist.
"""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def test_migrate_makes_the_var_folder_of_the_embedded_database(tmp_path):
    var_dir = tmp_path / "clone" / "var"  # as on a fresh clone: not there yet
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "BIRDAI_PRODUCTION", "DJANGO_SETTINGS_MODULE"}
    }
    environment["BIRDAI_VAR_DIR"] = str(var_dir)

    finished = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=Path(settings.BASE_DIR),
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr[-2000:]
    assert (var_dir / "db.sqlite3").is_file()
