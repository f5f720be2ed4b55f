from django.core.management.base import BaseCommand

from diplohub.events.services import registrations_release_expired_offers


class Command(BaseCommand):
    help = (
        "Cancel seats offered from a waitlist and not confirmed in time, and offer them "
        "to the next people waiting. Safe to run as often as you like (e.g. every minute)."
    )

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        released = registrations_release_expired_offers()
        self.stdout.write(f"Released {len(released)} expired offer(s).")
