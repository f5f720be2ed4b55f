"""API authentication (bearer tokens), the JSON shape of every API error, and the
accounts endpoint: who am I."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from diplohub.accounts.models import ApiToken, User


class ApiError(HttpError):
    """An error answered as {"detail": message} with the given status."""


class TokenAuth(HttpBearer):
    """Any active token: its user is then request.auth."""

    def authenticate(self, request: HttpRequest, token: str):  # type: ignore[no-untyped-def]
        found = ApiToken.objects.for_raw(token)
        if found is None:
            return None
        found.touch()
        request.user = found.user
        return found.user


class StaffTokenAuth(TokenAuth):
    def authenticate(self, request: HttpRequest, token: str):  # type: ignore[no-untyped-def]
        user = super().authenticate(request, token)
        if user is None:
            return None
        if not user.is_hub_staff:
            raise ApiError(403, "This endpoint needs a staff token.")
        return user


token_auth = TokenAuth()
staff_token_auth = StaffTokenAuth()


_PARAM_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def install_error_handlers(api: NinjaAPI) -> None:
    def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        problems = []
        for error in exc.errors:
            # ("query", "kind") names the parameter "kind"; where it was sent is implied.
            loc = list(error.get("loc", ()))
            if loc and loc[0] in _PARAM_SOURCES:
                loc = loc[1:]
            where = ".".join(str(part) for part in loc)
            problems.append({"field": where, "message": error.get("msg", "invalid")})
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return api.create_response(
            request, {"detail": f"Invalid request — {summary}", "errors": problems}, status=422
        )

    def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = api.create_response(
            request,
            {"detail": "Missing or invalid token: send 'Authorization: Bearer <token>'."},
            status=401,
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)

    api.add_exception_handler(ValidationError, on_validation_error)  # type: ignore[arg-type]
    api.add_exception_handler(AuthenticationError, on_auth_error)  # type: ignore[arg-type]
    api.add_exception_handler(HttpError, on_http_error)  # type: ignore[arg-type]


# --- Endpoints --------------------------------------------------------------------

router = Router(tags=["accounts"])


class ApiErrorOut(Schema):
    detail: str


class MeOut(Schema):
    username: str
    name: str
    roles: list[str]
    is_staff: bool

    @staticmethod
    def resolve_name(obj: User) -> str:
        return obj.get_full_name()

    @staticmethod
    def resolve_roles(obj: User) -> list[str]:
        return sorted(obj.role_names)

    @staticmethod
    def resolve_is_staff(obj: User) -> bool:
        return obj.is_hub_staff


@router.get("/me", auth=token_auth, response={200: MeOut, 401: ApiErrorOut}, summary="Who am I")
def me(request: HttpRequest):  # type: ignore[no-untyped-def]
    """The account the token belongs to, with its roles."""
    return request.auth  # type: ignore[attr-defined]
