"""The names the load test counts its requests under (in Locust's reports, in
summary.json, and in --max-p95-ms): "METHOD name", the name a path with its id or query
left out. Kept apart from workload.py so that code without Locust can use them."""

CLASSIFY = "/api/v1/classify"
SUBMISSIONS = "/api/v1/submissions"
SUBMISSION = "/api/v1/submissions/{id}"
LOCATIONS = "/api/v1/locations"
HOME_PAGE = "/"
HISTORY_PAGE = "/history/"
STATIC = "/static/*"
LOGIN_PAGE = "/account/login/"

CLASSIFY_ENDPOINTS = {f"POST {CLASSIFY}"}
# A user reading their history: the list, one submission, the page.
HISTORY_READ_ENDPOINTS = {f"GET {SUBMISSIONS}", f"GET {SUBMISSION}", f"GET {HISTORY_PAGE}"}
SIGN_IN_ENDPOINTS = {f"GET {LOGIN_PAGE}", f"POST {LOGIN_PAGE}"}
