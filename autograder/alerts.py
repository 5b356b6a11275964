"""Telling the course staff that the grader failed, as it happens.

Grader errors are in each results.json (extra_data) for whoever looks; a staff member
should not have to look. If AUTOGRADER_ALERT_URL is set (a chat webhook, a small form
endpoint; set it in the Gradescope autograder's environment), the grader POSTs a short
JSON there after any run with grader errors. The alert carries no secret from the slip.
A failed alert is logged and forgotten: it must never stop results.json."""

import json
import os
import socket
import sys
import urllib.request
from urllib.parse import urlsplit

ALERT_URL_VARIABLE = "AUTOGRADER_ALERT_URL"
ALERT_SECONDS = 5


def alert_body(results: dict, deployment: str) -> dict:
    extra = results["extra_data"]
    failed = [check["name"] for check in extra["checks"] if check["outcome"] == "grader_error"]
    return {
        "text": f"bird.ai autograder: {extra['grader_errors']} grader error(s) grading "
        f"{deployment or 'a submission'}: {', '.join(failed) or 'the grader itself'}",
        "grader_errors": extra["grader_errors"],
        "checks": failed,
        "deployment": deployment,
        "stopped_by": extra.get("stopped_by", ""),
        "grader_host": socket.gethostname(),
    }


def alert_staff(results: dict, *, deployment: str) -> bool:
    """POSTs an alert if the run had grader errors and an alert URL is set; True if sent."""
    url = os.environ.get(ALERT_URL_VARIABLE, "")
    if not url or not results["extra_data"]["grader_errors"]:
        return False
    if urlsplit(url).scheme not in {"http", "https"}:
        print(f"{ALERT_URL_VARIABLE} is not an http(s) URL; no alert sent", file=sys.stderr)
        return False
    request = urllib.request.Request(  # noqa: S310 (http or https: checked above)
        url,
        data=json.dumps(alert_body(results, deployment)).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=ALERT_SECONDS) as answer:  # noqa: S310
            answer.read()
    except OSError as error:
        print(f"The staff alert to {ALERT_URL_VARIABLE} failed: {error}", file=sys.stderr)
        return False
    return True
