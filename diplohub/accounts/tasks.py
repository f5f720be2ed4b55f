from django_tasks import task

from diplohub.accounts import services


@task()
def send_sign_in_link(email: str, language: str, next_path: str = "") -> int:
    """In the background, so the sign-in-link form answers as fast for an unknown address
    as for a known one."""
    return services.sign_in_link_send(email=email, language=language, next_path=next_path)
