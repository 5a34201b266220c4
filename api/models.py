"""Personal API tokens: named, scoped, expiring, revocable, stored hashed.

A token is shown once, when it is made: "sb_<prefix>_<secret>". Switchboard keeps the prefix (to find
the row) and a SHA-256 digest of the whole token (to check it); the token itself is never stored or
logged. A token acts as its owner, and only while the owner still holds the role its scope needs.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "sb_"  # noqa: S105 -- the marker every token starts with, not a secret


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now=None):
        """Tokens that are neither revoked nor expired."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class ApiToken(models.Model):
    """A personal token for scripts: what it may do (scope), until when, and when it was last used."""

    class Scope(models.TextChoices):
        READ = "read", "Read: list and look up"
        WRITE = "write", "Write: also create, change and delete what your role allows"
        POWER = "power", "Power: also power actions (needs a fresh code; expires within hours)"
        REPORT = "report", "Host report: one machine's agent reports what runs on it"

        @property
        def allows_writes(self):
            return self in (ApiToken.Scope.WRITE, ApiToken.Scope.POWER)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What it is for, e.g. “backup script on store1”.")
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    machine = models.ForeignKey(
        "hosts.Machine",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="report_tokens",
        help_text="Host report tokens only: the one machine this token reports for.",
    )
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope="report", machine__isnull=False) | ~models.Q(scope="report"),
                name="apitoken_report_names_a_machine",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_scope_display().split(':')[0].lower()})"

    @classmethod
    def issue(cls, *, user, name, scope, lifetime, machine=None):
        """Make a token and return (token row, the token text): the text is shown once and never kept."""
        limit = max_lifetime(scope)
        if lifetime > limit:
            raise ValidationError(f"A {scope} token lasts at most {_humane(limit)}.")
        if lifetime <= timedelta(0):
            raise ValidationError("A token must last some time.")
        prefix = secrets.token_hex(6)
        text = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        token = cls(
            user=user,
            name=name,
            scope=scope,
            machine=machine,
            prefix=prefix,
            digest=_digest(text),
            expires_at=timezone.now() + lifetime,
        )
        token.full_clean()
        token.save()
        return token, text

    @classmethod
    def find(cls, text):
        """The token row `text` names, if the text is right (revoked or expired ones too); else None."""
        if not text.startswith(TOKEN_PREFIX) or text.count("_") < 2:
            return None
        prefix = text[len(TOKEN_PREFIX) :].split("_", 1)[0]
        token = cls.objects.select_related("user", "machine").filter(prefix=prefix).first()
        if token is None or not hmac.compare_digest(token.digest, _digest(text)):
            return None
        return token

    @property
    def is_expired(self):
        return self.expires_at <= timezone.now()

    @property
    def is_usable(self):
        return self.revoked_at is None and not self.is_expired

    def revoke(self):
        """Stop the token working from now on (kept, so its name and last use stay visible)."""
        ApiToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.refresh_from_db(fields=["revoked_at"])

    def note_use(self, now=None):
        """Record that it was used; written at most once a minute, so a busy script costs no write per call."""
        now = now or timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= timedelta(minutes=1):
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now


def max_lifetime(scope):
    """How long a token of `scope` may last: power tokens hours, the others up to a year."""
    if scope == ApiToken.Scope.POWER:
        return timedelta(hours=settings.API_POWER_TOKEN_MAX_HOURS)
    return timedelta(days=settings.API_TOKEN_MAX_DAYS)


def _humane(delta):
    hours = int(delta.total_seconds() // 3600)
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"
