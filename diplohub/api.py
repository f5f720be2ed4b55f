"""The REST API under /api/v1/: each app contributes a router from its api.py."""

from django.conf import settings
from ninja import NinjaAPI

from diplohub.accounts.api import ApiError, install_error_handlers
from diplohub.directory.api import router as directory_router

api = NinjaAPI(
    title=f"{settings.HUB_NAME} API",
    version="1",
    description="Open data and staff endpoints of DiploHub. Send tokens as "
    "`Authorization: Bearer <token>`.",
    urls_namespace="api",
)
install_error_handlers(api)
api.add_router("/", directory_router)

__all__ = ["ApiError", "api"]
