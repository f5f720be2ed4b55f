"""The REST API under /api/v1/: each app contributes a router from its api.py."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Swagger

from diplohub.accounts.api import ApiError, install_error_handlers
from diplohub.accounts.api import router as accounts_router
from diplohub.directory.api import router as directory_router
from diplohub.events.api import router as events_router
from diplohub.knowledge.api import router as knowledge_router
from diplohub.mailing.api import router as mailing_router


class HubAPI(NinjaAPI):
    """A NinjaAPI whose every answer is JSON, also for a wrong method or an unknown path.

    Ninja answers those two with Django's plain-text 405 and HTML 404, which a script
    reading {"detail": ...} cannot use.
    """

    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        patterns, app_name, namespace = super().urls
        unknown = csrf_exempt(self._unknown_endpoint)
        for pattern in patterns:
            if not isinstance(pattern, URLPattern):
                continue
            if pattern.name == "api-root":  # ninja's own raises Http404: an HTML page
                pattern.callback = unknown
            else:
                pattern.callback = self._json_method_not_allowed(pattern.callback)
        patterns.append(re_path(r"^.*$", unknown, name="unknown-endpoint"))
        return patterns, app_name, namespace

    def _json_method_not_allowed(self, view: Any) -> Any:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            if isinstance(response, HttpResponseNotAllowed):
                allowed = response["Allow"]
                response = self.create_response(
                    request,
                    {"detail": f"{request.method} is not allowed here; use {allowed}."},
                    status=405,
                )
                response["Allow"] = allowed
            return response

        return wrapper

    def _unknown_endpoint(self, request: HttpRequest) -> HttpResponse:
        docs = self.get_root_path({}) + (self.docs_url or "").lstrip("/")
        return self.create_response(
            request, {"detail": f"No API endpoint at {request.path}; see {docs}."}, status=404
        )


api = HubAPI(
    title=f"{settings.HUB_NAME} API",
    version="1",
    description="Open data and staff endpoints of DiploHub. Send tokens as "
    "`Authorization: Bearer <token>`. See docs/api.md.",
    urls_namespace="api",
    # Swagger UI from ninja's own static files (no CDN: our CSP is default-src 'self');
    # no validator badge, which would load an image from swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
)
install_error_handlers(api)
api.add_router("/", directory_router)
api.add_router("/", accounts_router)
api.add_router("/", events_router)
api.add_router("/", mailing_router)
api.add_router("/", knowledge_router)

__all__ = ["ApiError", "api"]
