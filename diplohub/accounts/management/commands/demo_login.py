import secrets

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from diplohub.accounts.models import Role, User

USERNAME = "demo-staff"


class Command(BaseCommand):
    help = "Create (or reset) the demo staff login and print its password."

    @transaction.atomic
    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        password = secrets.token_urlsafe(9)
        user, _created = User.objects.get_or_create(
            username=USERNAME,
            defaults={
                "first_name": "Demo",
                "last_name": "Staff",
                "email": "demo-staff@hub.example",
            },
        )
        user.is_staff = True
        user.is_active = True
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get_or_create(name=Role.STAFF)[0])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo staff login: user '{USERNAME}', password '{password}' "
                "(new on every start; sign in at /en/accounts/sign-in/)"
            )
        )
