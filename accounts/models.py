"""Personal API tokens, so scripts (curl, load tests, the autograder) can act as a user
without a browser: `Authorization: Bearer <token>`.

Only a SHA-256 digest of each token is stored, like a password hash: someone who reads
the database cannot use the tokens in it. The token itself is shown once, when made.
A digest of a long random token needs no salt or slow hash: it cannot be guessed.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

# Makes a leaked token easy to recognise (secret scanners, logs).
TOKEN_PREFIX = "bird_"  # noqa: S105 - a public prefix, not a secret


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def for_user(self, user) -> "ApiTokenQuerySet":
        return self.filter(user=user).order_by("-created_at")

    def find(self, token: str) -> "ApiToken | None":
        """The live token with this value, or None."""
        return self.select_related("user").filter(key_digest=digest(token)).first()


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'load test'.")
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, to tell tokens apart on the account page.
    key_start = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_newest")]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_start}…)"

    @classmethod
    def issue(cls, user, name: str) -> tuple["ApiToken", str]:
        """A new token for user: the saved row and the token itself (shown once)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = cls.objects.create(
            user=user, name=name, key_digest=digest(token), key_start=token[:12]
        )
        return row, token

    def mark_used(self) -> None:
        # At most one write a minute per token: a load test must not turn every
        # request into a database write.
        now = timezone.now()
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now
