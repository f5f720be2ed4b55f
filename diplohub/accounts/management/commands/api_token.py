from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from diplohub.accounts import services
from diplohub.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = (
        "Create an API token for a user and print it (once: only its hash is kept), "
        "list the user's tokens, or revoke one by the characters it starts with."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--name", help="what the new token is for, e.g. 'CRM sync'")
        action.add_argument(
            "--revoke", metavar="HINT", help="revoke the token that starts with HINT"
        )
        action.add_argument("--list", action="store_true", help="list the user's tokens")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named {options['username']!r}.")
        if options["list"]:
            self._list(user)
        elif options["revoke"] is not None:
            self._revoke(user, options["revoke"])
        else:
            self._create(user, options["name"])

    def _create(self, user: User, name: str) -> None:
        if not user.is_active:
            raise CommandError(f"{user.username} is not active; a token would not work.")
        try:
            token, raw = services.api_token_create(user=user, name=name.strip())
        except ValidationError as exc:
            problems = "; ".join(f"{field}: {' '.join(m)}" for field, m in exc.message_dict.items())
            raise CommandError(f"Cannot create the token: {problems}") from None
        kind = "staff" if user.is_hub_staff else "non-staff"
        self.stderr.write(
            f"Token {token.name!r} for {user.username} ({kind}). Copy it now, "
            "it will not be shown again; send it as 'Authorization: Bearer <token>'."
        )
        self.stdout.write(raw)

    def _revoke(self, user: User, hint: str) -> None:
        hint = hint.strip()
        active = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
        whole = ApiToken.objects.for_raw(hint)
        if whole is not None and whole.user_id == user.pk:
            matches = [whole]
        else:
            if len(hint) < len(ApiToken.PREFIX) + 3:
                raise CommandError("Give at least the first 6 characters of the token.")
            # Only the first characters of a token are stored (its hint).
            matches = [t for t in active if _agree(t.hint, hint)]
        if not matches:
            raise CommandError(f"{user.username} has no active token starting with {hint!r}.")
        if len(matches) > 1:
            names = ", ".join(repr(t.name) for t in matches)
            raise CommandError(
                f"{len(matches)} tokens start with {hint!r} ({names}): give the whole token."
            )
        services.api_token_revoke(token=matches[0])
        self.stdout.write(f"Revoked {matches[0]}.")

    def _list(self, user: User) -> None:
        for token in ApiToken.objects.filter(user=user):
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            self.stdout.write(f"{token.hint}…  {token.name}  ({state}, last used {used})")


def _agree(stored_hint: str, given: str) -> bool:
    common = min(len(stored_hint), len(given))
    return stored_hint[:common] == given[:common]
