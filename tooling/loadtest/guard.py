"""The load test only ever targets this machine, and stops by itself: a guard on the
URL it is given, and bounds on its size and length.

A load test is a flood of requests. Aimed at someone else's server by a typo, it is an
attack; aimed at a shared course server, it hurts every other student. So the target
must be a loopback address, 127.0.0.0/8 or ::1, written as such or as `localhost`.
Names other than `localhost` are refused without looking them up: a DNS answer can
change between the check and the run.

One exception, and only for the course's autograder: a deployment a student submitted
for grading is load-tested where it runs, which is not this machine. Submitting its URL
is the student's consent to a small, bounded load test of it. The autograder's load
check says so explicitly, by passing that URL as `graded_url`:
exactly that URL is then allowed, and a run against it is held to GRADED_MAX_USERS
users for GRADED_MAX_SECONDS. `scripts/loadtest` never passes it, so the command line
stays loopback-only.
"""

import ipaddress
from urllib.parse import urlsplit

# Whatever a caller asks, a run has at most this many users, each sending at most
# MAX_PACE requests a second, for at most MAX_SECONDS in all (steps included).
MAX_USERS = 500
MAX_PACE = 10.0
MAX_SECONDS = 30 * 60


# A graded deployment's bounds: a few users for about a minute (the autograder's load check).
GRADED_MAX_USERS = 30
GRADED_MAX_SECONDS = 90


class NotLoopback(ValueError):
    """The URL names a host that is not this machine's loopback interface."""


def require_loopback(url: str) -> str:
    """Returns `url` without a trailing slash if its host is loopback; else raises
    NotLoopback with a sentence saying what was refused and why."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise NotLoopback(f"{url!r} is not an http:// or https:// URL with a host.")
    host = parts.hostname
    if host != "localhost":
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise NotLoopback(
                f"Refusing to load-test {host!r}: only loopback addresses (127.0.0.0/8, ::1 "
                "or localhost) may be targeted, and host names are not looked up."
            ) from None
        if not address.is_loopback:
            raise NotLoopback(
                f"Refusing to load-test {host}: it is not a loopback address (127.0.0.0/8 "
                "or ::1). The load test runs against this machine only."
            )
    return url.rstrip("/")


def require_loopback_or_graded(url: str, graded_url: str = "") -> str:
    """require_loopback(url), except that the URL of a deployment submitted for grading
    (`graded_url`, given by the autograder alone) is allowed as it is, and only it."""
    if graded_url and url.rstrip("/") == graded_url.rstrip("/"):
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise NotLoopback(f"{url!r} is not an http:// or https:// URL with a host.")
        return url.rstrip("/")
    return require_loopback(url)
