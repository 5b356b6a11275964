"""How the grader talks to a student's deployment: every request with a timeout, and
the hiccups of a network retried with back-off before anything is concluded.

Transient, and retried (RETRIES times, waiting 1, 2, 4... seconds): a connection that
was refused, reset or timed out (also in the middle of an answer's body), and the
answers 502, 503 and 504, which a load balancer
gives while an app server restarts. What still fails after the retries is concluded:

- the deployment could not be reached at all: DeploymentWrong("could not reach URL ..."),
  the student's to fix (the instance is stopped, the security group closed, a typo);
- it answered: the Answer goes back to the check, which judges it (a 503 after the
  retries is the deployment's answer, not the network's).

Anything else that goes wrong here (a bug, a URL the grader built badly) propagates:
the runner reports it as the grader's error, never as the student's.
"""

import time
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urljoin

import requests
from requests.exceptions import ChunkedEncodingError

from autograder.checks import DeploymentWrong

TIMEOUT_SECONDS = (5.0, 30.0)  # connecting; then waiting for each read
RETRIES = 3
FIRST_PAUSE_SECONDS = 1.0
TRANSIENT_STATUSES = {502, 503, 504}
USER_AGENT = "bird.ai-autograder"


@dataclass(frozen=True)
class Answer:
    """What the deployment answered, kept whole so a check can quote it."""

    method: str
    url: str
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    attempts: int = 1

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON is the deployment's mistake."""
        try:
            return requests.models.complexjson.loads(self.body)
        except ValueError:
            raise DeploymentWrong(
                f"{self.method} {self.url} answered {self.status} with a body that is not "
                f"JSON: {self.excerpt()}"
            ) from None

    def fields(self) -> dict[str, Any]:
        """The body as a JSON object (what every answer of the API is)."""
        body = self.json()
        if not isinstance(body, dict):
            raise DeploymentWrong(f"{self.describe()}: expected a JSON object")
        return body

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def excerpt(self, limit: int = 300) -> str:
        text = self.body[:limit].decode("utf-8", errors="replace")
        return repr(text) + ("..." if len(self.body) > limit else "")

    def describe(self) -> str:
        """One line for a student: what was asked and what came back."""
        return f"{self.method} {self.url} answered {self.status}: {self.excerpt(200)}"


@dataclass
class Client:
    """Requests to one deployment (`base_url`); paths are joined to it, and full URLs
    (a CDN's) are used as they are."""

    base_url: str
    retries: int = RETRIES
    first_pause: float = FIRST_PAUSE_SECONDS
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.session.headers["User-Agent"] = USER_AGENT
        # A grader run must not depend on the machine's proxy settings or .netrc.
        self.session.trust_env = False
        # No cookies kept: the checks act by token, and a stray session cookie would
        # make the proxy cache pass the home page by (the proxy cache check).
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def url(self, path_or_url: str) -> str:
        return urljoin(self.base_url + "/", path_or_url)

    def request(self, method: str, path_or_url: str, **options: Any) -> Answer:
        url = self.url(path_or_url)
        options.setdefault("timeout", TIMEOUT_SECONDS)
        options.setdefault("allow_redirects", False)
        pause, last_error = self.first_pause, ""
        for attempt in range(1, self.retries + 2):
            try:
                response = self.session.request(method, url, **options)
            except (requests.ConnectionError, requests.Timeout, ChunkedEncodingError) as error:
                last_error = f"{type(error).__name__}: {error}"
            else:
                answer = Answer(
                    method,
                    url,
                    response.status_code,
                    {name.lower(): value for name, value in response.headers.items()},
                    response.content,
                    attempt,
                )
                if answer.status not in TRANSIENT_STATUSES or attempt > self.retries:
                    return answer
            if attempt <= self.retries:
                time.sleep(pause)
                pause *= 2
        raise DeploymentWrong(
            f"could not reach {url} ({method}) after {self.retries + 1} tries over about "
            f"{self.first_pause * (2**self.retries - 1):.0f} s: {last_error}. Is the "
            "deployment running, and does its security group let HTTP in from anywhere?"
        )

    def get(self, path_or_url: str, **options: Any) -> Answer:
        return self.request("GET", path_or_url, **options)

    def post(self, path_or_url: str, **options: Any) -> Answer:
        return self.request("POST", path_or_url, **options)
