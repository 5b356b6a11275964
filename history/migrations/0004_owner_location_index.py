"""An index for "this user's photos in this box" on PostGIS: one GiST index over
(owner_id, location). The map of a user's photos then reads exactly their rows in the
box, instead of combining every photo in the box with every photo of the user (measured
on 1,000,000 rows: 14 ms instead of 70 ms for 7,172 of a user's photos in a 10° box).

GiST indexes geometry, not integers; the btree_gist extension (part of PostgreSQL,
available on RDS, trusted: the database owner may create it) teaches it. SpatiaLite has
only its one-column R*Tree spatial index; the embedded database is small anyway.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "CREATE INDEX IF NOT EXISTS submission_owner_location "
    "ON history_submission USING gist (owner_id, location)",
]
DROP = ["DROP INDEX IF EXISTS submission_owner_location"]


def on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("history", "0003_place"),
    ]

    operations = [
        migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP)),
    ]
