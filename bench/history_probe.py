"""`python -m bench.history_probe <username> <locations path>`: run by bench/history.py
in a separate Django process pointed at the benchmark's database (DATABASE_URL,
BIRDAI_VAR_DIR).

It does with the app's own code what a user would have done before the benchmark
starts: issue an API token (ApiToken.issue, as the account page does) and log in
(Django's login, which stores a session in the database). Then it requests page 1
of the history page and of the API, in process with Django's test client, and
records every SQL statement each runs, exactly as sent to PostgreSQL. The benchmark
runs the same statements with psycopg alone: the time Django adds is the difference.

The same for the map's API (/api/v1/locations) over one box: the user's own photos,
and everyone's (all=true) as a staff user, made here with a token of its own, sees them.
And the SQL everyone's would take without the counted map cells (geo/map_cells.py):
clustered on request, as a user's own are (history/locations.py with everyone=False),
which is what decides whether the cells are worth keeping.

It prints one JSON object on stdout; Django's log goes to stderr.
"""

import json
import os
import sys
from urllib.parse import parse_qs, urlsplit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "birdai.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402 - needs django.setup()
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import ApiToken  # noqa: E402
from geo.areas import parse_area  # noqa: E402
from history.locations import locations_geojson, submissions_of  # noqa: E402

# A host in the default ALLOWED_HOSTS; the test client's own "testserver" is not.
HOST = "127.0.0.1"
HISTORY_PAGE = "/history/"
LIST_API = "/api/v1/submissions"
STAFF_USER = "bench-staff"


def statements_run_by(client: Client, path: str, **headers: str) -> list[str]:
    """The SQL that GET `path` runs, in order; any answer but a 200 is an error."""
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(path, headers=headers)
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path} answered {answer.status_code}: {answer.content[:300]!r}")
    return [query["sql"] for query in captured.captured_queries]


def statements_without_cells(locations_path: str, staff) -> list[str]:
    """The SQL of everyone's photos in the path's box, clustered on request instead of
    read from the counted cells."""
    bbox = parse_qs(urlsplit(locations_path).query)["bbox"][0]
    everyones = submissions_of(staff, everyone=True)
    with CaptureQueriesContext(connection) as captured:
        locations_geojson(parse_area(bbox, None, None), everyones, everyone=False)
    return [query["sql"] for query in captured.captured_queries]


def main(username: str, locations_path: str) -> None:
    user = get_user_model().objects.get(username=username)
    _, token = ApiToken.issue(user, "bench")
    staff = get_user_model().objects.create_user(STAFF_USER, is_staff=True)  # no password
    _, staff_token = ApiToken.issue(staff, "bench")
    # Two clients, as the benchmark sends two kinds of request: a script's, with the
    # token and no cookie, and a browser's, with the session cookie and no token.
    script = Client(HTTP_HOST=HOST)
    browser = Client(HTTP_HOST=HOST)
    browser.force_login(user)

    # The token's first use records itself (an UPDATE, at most once a minute), which
    # is not what a typical request runs: that one is not recorded.
    statements_run_by(script, LIST_API, authorization=f"Bearer {token}")
    api_sql = statements_run_by(script, LIST_API, authorization=f"Bearer {token}")
    page_sql = statements_run_by(browser, HISTORY_PAGE)
    session_id = browser.cookies["sessionid"].value
    own_locations_sql = statements_run_by(script, locations_path, authorization=f"Bearer {token}")
    everyone = f"{locations_path}&all=true"
    statements_run_by(script, everyone, authorization=f"Bearer {staff_token}")  # first use
    all_locations_sql = statements_run_by(script, everyone, authorization=f"Bearer {staff_token}")
    uncounted_locations_sql = statements_without_cells(locations_path, staff)
    print(
        json.dumps(
            {
                "token": token,
                "session_id": session_id,
                "api_sql": api_sql,
                "page_sql": page_sql,
                "staff_token": staff_token,
                "own_locations_sql": own_locations_sql,
                "all_locations_sql": all_locations_sql,
                "uncounted_locations_sql": uncounted_locations_sql,
                # The session settings Django's connections start with (settings.py).
                "session_options": connection.settings_dict["OPTIONS"].get("options", ""),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
