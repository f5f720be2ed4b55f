from django.conf import settings
from django.http import HttpRequest


def hub(request: HttpRequest) -> dict[str, object]:
    return {
        "hub": {
            "name": settings.HUB_NAME,
            "city": settings.HUB_CITY,
            "contact_email": settings.HUB_CONTACT_EMAIL,
            "circle_name": settings.HUB_CIRCLE_NAME,
        }
    }
