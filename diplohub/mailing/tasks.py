from django_tasks import task

from diplohub.mailing import services


@task()
def send_emails(pks: list[int]) -> dict[str, int]:
    """Send these outbox rows (ids); rows already sent or taken by another worker are
    left alone, so running it twice sends nothing twice."""
    return services.emails_send(pks=pks).as_dict()
