"""What the HTTP checks of one grading run share: the client, the two users the grader
signs up, and the photo user A uploaded.

Later checks need what earlier ones made (the history check needs the upload, which
needs a user). Each of these is made once, the first time a check asks for it, by
`GradingState.step`: the check that asks first gets the deployment's own failure
message; every later check that needs it is told which step failed, and costs the
student its points too, since it could not be done. So the checks may run in any
order, or alone, and a broken sign-up is reported once in full, then named by the rest.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autograder.checks import DeploymentWrong
from autograder.http_client import Client
from autograder.photos import gps_photo


@dataclass(frozen=True)
class User:
    username: str
    password: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class GradingState:
    client: Client
    _steps: dict[str, tuple[bool, Any]] = field(default_factory=dict)

    def step(self, name: str, make: Callable[[], Any]) -> Any:
        """`make()`'s result, made once; a DeploymentWrong it raised is raised again,
        to later callers with the failed step's name."""
        if name not in self._steps:
            try:
                self._steps[name] = (True, make())
            except DeploymentWrong as wrong:
                self._steps[name] = (False, str(wrong))
                raise
        done, value = self._steps[name]
        if not done:
            raise DeploymentWrong(f"Not checked: it needs {name}, which failed: {value}")
        return value

    # --- what the checks share -----------------------------------------------------------

    def users(self) -> tuple[User, User]:
        """Users A and B, signed up through POST /api/v1/signup."""
        return self.step("two users signed up through the JSON API", self._sign_up_two)

    def uploaded(self) -> tuple[bytes, dict]:
        """User A's upload of the GPS photo: (the bytes sent, the submission answered)."""
        return self.step("user A's photo uploaded to the history", self._upload)

    # --- how they are made ---------------------------------------------------------------

    def _sign_up_two(self) -> tuple[User, User]:
        run = secrets.token_hex(4)  # new names in every run: a deployment keeps its users
        return sign_up(self.client, f"grader-{run}-a"), sign_up(self.client, f"grader-{run}-b")

    def _upload(self) -> tuple[bytes, dict]:
        user_a, _ = self.users()
        photo = gps_photo()
        answer = self.client.post(
            "/api/v1/submissions",
            headers=user_a.auth,
            files={"image": ("grader-gps.jpg", photo, "image/jpeg")},
        )
        if answer.status not in (200, 201):
            raise DeploymentWrong(
                f"Uploading a JPEG with GPS data to the history failed: {answer.describe()}. "
                "Expected 201 with the submission (README, 'The API': POST /api/v1/submissions)."
            )
        submission = answer.fields()
        if not isinstance(submission.get("id"), int):
            raise DeploymentWrong(f"The upload's answer has no submission id: {answer.describe()}")
        return photo, submission


def sign_up(client: Client, username: str) -> User:
    password = "grader-" + secrets.token_urlsafe(18)
    credentials = {"username": username, "password": password}
    answer = client.post("/api/v1/signup", json=credentials)
    if answer.status == 404:
        raise DeploymentWrong(
            f"POST /api/v1/signup answered 404: sign-up through the JSON API is off. Set "
            f"API_SIGNUP_ENABLED=true in the app servers' environment and restart them "
            f"(Terraform: api_signup_enabled = true; Ansible: app_api_signup_enabled: true; "
            f"by hand: docs/deploy-aws.md, section 8). ({answer.describe()})"
        )
    if answer.status == 400 and answer.attempts > 1:
        # A retried sign-up whose first try did make the account: ask for a token instead.
        answer = client.post("/api/v1/token", json=credentials)
    if answer.status != 201:
        raise DeploymentWrong(
            f"Signing up {username!r} failed: {answer.describe()}. Expected 201 with "
            '{"username": ..., "token": ...} (README, "The API").'
        )
    token = answer.fields().get("token")
    if not isinstance(token, str) or not token:
        raise DeploymentWrong(f"POST /api/v1/signup answered no token: {answer.describe()}")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    if me.status != 200 or me.fields().get("username") != username:
        raise DeploymentWrong(
            f"The token that sign-up gave {username!r} does not work: {me.describe()}. "
            "Expected GET /api/v1/me to answer 200 with that user name."
        )
    return User(username, password, token)
