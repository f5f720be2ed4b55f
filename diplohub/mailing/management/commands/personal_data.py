"""`diplohub personal_data export|erase EMAIL`: the staff Personal data page, for the
city's IT (a request that came by post, a script)."""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from diplohub.mailing import services


class Command(BaseCommand):
    help = (
        "Export everything the hub holds about an e-mail address as JSON, or erase it "
        "(anonymised so that aggregate figures survive; the erasure is recorded)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["export", "erase"])
        parser.add_argument("email")
        parser.add_argument("-o", "--output", help="export: write the JSON to this file")
        parser.add_argument("--yes", action="store_true", help="erase: do not ask for confirmation")
        parser.add_argument(
            "--by", metavar="USERNAME", help="erase: the staff member who asked for it"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email: str = options["email"].strip()
        if "@" not in email:
            raise CommandError(f"{email!r} is not an e-mail address.")
        if options["action"] == "export":
            data = services.personal_data_export(email=email)
            text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
            if options["output"]:
                with open(options["output"], "w", encoding="utf-8") as output:
                    output.write(text + "\n")
                self.stdout.write(self.style.SUCCESS(f"Written to {options['output']}."))
            else:
                self.stdout.write(text)
            return
        by = None
        if options["by"]:
            by = get_user_model().objects.filter(username=options["by"]).first()
            if by is None:
                raise CommandError(f"No user is called {options['by']!r}.")
        summary = services.personal_data_summary(email=email)
        if not any(summary.values()):
            self.stdout.write("The hub holds nothing about this address.")
            return
        held = ", ".join(f"{name}: {count}" for name, count in summary.items() if count)
        self.stdout.write(f"The hub holds about {email}: {held}.")
        if not options["yes"]:
            if not sys.stdin.isatty():
                raise CommandError("Add --yes to erase without a question.")
            answer = input("Type the address again to erase it: ").strip().lower()
            if answer != email.lower():
                raise CommandError("Not the same address: nothing was erased.")
        try:
            erasure = services.personal_data_erase(email=email, by=by)
        except services.ErasureRefused as error:
            raise CommandError(error.message) from error
        if erasure is None:
            self.stdout.write("The hub holds nothing about this address.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Erased; recorded as erasure {erasure.pk} ({erasure.email_hash[:12]})."
            )
        )
