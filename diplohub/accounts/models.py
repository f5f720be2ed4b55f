from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles are Django groups of these names (created by a data migration)."""

    STAFF = "staff", _("Staff")
    HOST = "host", _("Host")
    MEMBER = "member", _("Member")


class User(AbstractUser):
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    language = models.CharField(_("language"), max_length=8, blank=True, choices=settings.LANGUAGES)
    # A host co-manages their own institution's page; set for hosts only.
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("institution"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
    )

    @property
    def role_names(self) -> frozenset[str]:
        """Names of the user's groups. Uses prefetched groups when the backend loaded them."""
        return frozenset(group.name for group in self.groups.all())

    def has_role(self, role: Role) -> bool:
        if role == Role.STAFF and self.is_superuser:
            return True
        return role.value in self.role_names

    @property
    def is_hub_staff(self) -> bool:
        return self.is_active and self.is_staff and (self.is_superuser or self.has_role(Role.STAFF))

    @property
    def must_use_password(self) -> bool:
        """Anyone who can reach the back office signs in with a password (and TOTP)."""
        return self.is_staff or self.is_superuser or self.has_role(Role.STAFF)

    @property
    def can_sign_in_with_link(self) -> bool:
        return (
            self.is_active
            and not self.must_use_password
            and bool(self.role_names & {Role.MEMBER.value, Role.HOST.value})
        )

    def can_edit_organization(self, organization) -> bool:  # type: ignore[no-untyped-def]
        if self.is_hub_staff:
            return True
        return (
            self.is_active and self.organization_id == organization.pk and self.has_role(Role.HOST)
        )


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, user__is_active=True)

    def for_raw(self, raw: str) -> ApiToken | None:
        # The user's directory entry comes along: most token calls act as that person.
        found = self.active().select_related("user", "user__person")
        return found.filter(key_hash=_hash(raw)).first()


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the raw value is shown once."""

    PREFIX = "dh_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(_("starts with"), max_length=12, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def new_raw(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    def set_raw(self, raw: str) -> None:
        self.key_hash = _hash(raw)
        self.hint = raw[:8]

    @property
    def is_staff_token(self) -> bool:
        return bool(self.user.is_hub_staff)

    def touch(self) -> None:
        now = timezone.now()
        # Writing on every request would serialise API traffic on one row; once a
        # minute is enough to tell an unused token from a live one.
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
