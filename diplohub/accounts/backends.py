"""Authentication backends: password (staff and anyone with one) and e-mailed links.

Both load the signed-in user with their groups, so that role checks on a page
(`is_hub_staff`, `has_role`, `can_edit_organization`) cost one query per request, not
one per check.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from sesame.backends import ModelBackend as SesameModelBackend

from diplohub.accounts.models import User


def _user_with_groups(user_id: Any) -> User | None:
    return User.objects.prefetch_related("groups").filter(pk=user_id).first()


class PasswordBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:  # type: ignore[override]
        user = _user_with_groups(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class LinkBackend(SesameModelBackend):
    """Sign-in links (django-sesame) for members and hosts only.

    Staff never get in by link: a stolen mailbox must not open the back office. The
    rule is checked when a link is used and on every request of a link session, so
    taking a member's role away ends their session too.
    """

    def get_user(self, user_id: Any) -> User | None:  # type: ignore[override]
        user = _user_with_groups(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def user_can_authenticate(self, user: Any) -> bool:
        return bool(getattr(user, "can_sign_in_with_link", False))
