"""Prepares bird.ai's database on RDS; run by the release job (release_job.tf) as the
master user, inside the app image (`manage.py shell`), before every `migrate`.

PostGIS, then the app's own role: docs/aws/app-role.sql, whose first statement creates
the role and whose other statements grant it rows and nothing else. That file creates
the role with a placeholder password and fails when the role exists; here the role is
created only if missing and then given the password from Secrets Manager, and the grants
(all safe to repeat) run every time. Not yet run against a database by the tests:
deploy/terraform/README.md, "What the tests here cannot prove".
"""

import os
from pathlib import Path

from django.db import connection

APP_ROLE_SQL = Path(os.environ.get("APP_ROLE_SQL", "/run/secrets/app-role.sql")).read_text()
APP_ROLE = "birdai_app"

create_role, grants = APP_ROLE_SQL.split(";", 1)
assert f"CREATE ROLE {APP_ROLE} " in create_role, "app-role.sql must begin by creating the role"

with connection.cursor() as cursor:
    cursor.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE])
    if cursor.fetchone() is None:
        cursor.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
    # The server quotes the password (format's %L), so no character in it can end the
    # string; Django's cursor needs the % doubled.
    cursor.execute(
        f"SELECT format('ALTER ROLE {APP_ROLE} LOGIN PASSWORD %%L', %s::text)",
        [os.environ["DATABASE_APP_PASSWORD"]],
    )
    cursor.execute(cursor.fetchone()[0])
    cursor.execute(grants)
print(f"bootstrap_database: PostGIS and the role {APP_ROLE} are ready")
