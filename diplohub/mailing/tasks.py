from django_tasks import task

from diplohub.mailing import services


@task()
def send_emails(pks: list[int]) -> dict[str, int]:
    """Send these outbox rows (ids); rows already sent or taken by another worker are
    left alone, so running it twice sends nothing twice."""
    report = services.emails_send(pks=pks)
    services.campaigns_finish()  # a campaign whose last messages these were is sent
    return report.as_dict()
