from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django_otp import user_has_device


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Hub staff only: anonymous visitors go to sign in, other users get 403.

    A staff member with an authenticator app must have given a code in this session;
    a session opened before they turned two-factor on is sent to sign in again.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:  # type: ignore[no-untyped-def]
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_hub_staff:
            raise PermissionDenied(_("This page is for the hub's staff only."))
        verified = getattr(user, "is_verified", None)
        if callable(verified) and not verified() and user_has_device(user):
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper
