from __future__ import annotations

import time
from base64 import b32encode
from typing import Any, cast
from urllib.parse import urlencode

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, translate_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from sesame.utils import get_user as get_link_user

from diplohub.accounts import services
from diplohub.accounts.decorators import staff_required
from diplohub.accounts.forms import (
    CodeForm,
    PersonProfileForm,
    SignInForm,
    SignInLinkForm,
    UserProfileForm,
)
from diplohub.accounts.models import User
from diplohub.accounts.ratelimit import too_many_attempts
from diplohub.accounts.tasks import send_sign_in_link
from diplohub.directory.models import Person

# Between a right password and the code of a two-factor user, the session remembers
# who is signing in, for a few minutes, without signing them in.
PENDING_SESSION_KEY = "diplohub.sign_in.pending"
PENDING_SECONDS = 300


def _next_url(request: HttpRequest) -> str:
    """The ?next= (or posted next) page if it is on this site, else ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _after_sign_in(request: HttpRequest, next_url: str = "") -> HttpResponse:
    return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))


def _too_many_message() -> str:
    return _("Too many attempts. Wait a few minutes and try again.")


def _too_many(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, {**context, "too_many": _too_many_message()}, status=429)


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Password sign-in; users with an authenticator app then give a code (sign_in_code)."""
    next_url = _next_url(request)
    form = SignInForm(request, data=request.POST if request.method == "POST" else None)
    context = {"form": form, "next": next_url, "next_query": urlencode({"next": next_url})}
    if request.method == "GET":
        return render(request, "accounts/sign_in.html", context)

    username = request.POST.get("username", "")[:150]
    if too_many_attempts(request, "sign-in", username):
        context["form"] = SignInForm(request, initial={"username": username})
        return _too_many(request, "accounts/sign_in.html", context)
    if not form.is_valid():
        return render(request, "accounts/sign_in.html", context, status=400)

    user = form.get_user()
    if services.totp_device_for(user, confirmed=True) is not None:
        # A fresh session key, so nobody who planted the old one can finish for them.
        request.session.cycle_key()
        request.session[PENDING_SESSION_KEY] = {
            "user": user.pk,
            "backend": getattr(user, "backend", ""),
            "until": time.time() + PENDING_SECONDS,
            "next": next_url,
        }
        return redirect("accounts:sign-in-code")
    login(request, user)
    return _after_sign_in(request, next_url)


def _pending_sign_in(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return None
    user_id = pending.get("user")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    return (user, pending) if user is not None else None


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_code(request: HttpRequest) -> HttpResponse:
    """Second step of a two-factor sign-in: the code from the authenticator app."""
    found = _pending_sign_in(request)
    if found is None:
        request.session.pop(PENDING_SESSION_KEY, None)
        messages.error(request, _("Your sign-in expired. Enter your username and password again."))
        return redirect("accounts:sign-in")
    user, pending = found
    form = CodeForm(request.POST if request.method == "POST" else None)
    context = {"form": form}
    if request.method == "GET":
        return render(request, "accounts/sign_in_code.html", context)

    if too_many_attempts(request, "sign-in-code", user.username):
        context["form"] = CodeForm()
        return _too_many(request, "accounts/sign_in_code.html", context)
    if form.is_valid() and _check_code(form, user):
        device = services.totp_verify(user=user, token=form.cleaned_data["code"])
        if device is not None:
            del request.session[PENDING_SESSION_KEY]
            login(request, user, backend=pending["backend"])
            django_otp.login(request, device)
            return _after_sign_in(request, pending.get("next", ""))
        form.add_error("code", _code_error())
    return render(request, "accounts/sign_in_code.html", context, status=400)


def _code_error() -> str:
    return _("That code is not right. Type the newest code your app shows.")


def _check_code(form: CodeForm, user: User, *, confirmed: bool = True) -> bool:
    """False (with the error on the form) while django-otp refuses codes after wrong ones."""
    device = services.totp_device_for(user, confirmed=confirmed)
    wait = services.totp_wait_seconds(device) if device is not None else 0
    if wait:
        form.add_error(
            "code",
            ngettext(
                "Too many wrong codes. Wait %(seconds)d second and try again.",
                "Too many wrong codes. Wait %(seconds)d seconds and try again.",
                wait,
            )
            % {"seconds": wait},
        )
        return False
    return True


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@require_GET
def admin_login(request: HttpRequest) -> HttpResponse:
    """Stands in for the admin's own login page, so every sign-in is rate-limited and
    asks for the authenticator code."""
    next_url = _next_url(request)
    if request.user.is_authenticated:
        if not request.user.is_staff:
            raise PermissionDenied(_("The back office is for the hub team."))
        return redirect(next_url or reverse("admin:index"))
    target = reverse("accounts:sign-in")
    if next_url:
        target += "?" + urlencode({"next": next_url})
    return redirect(target)


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_link(request: HttpRequest) -> HttpResponse:
    """Ask for a sign-in link by e-mail. The answer is the same whether or not the
    address has an account."""
    next_url = _next_url(request)
    form = SignInLinkForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "next": next_url, "link_minutes": _link_minutes()}
    if request.method == "GET":
        return render(request, "accounts/sign_in_link.html", context)

    if too_many_attempts(request, "sign-in-link", request.POST.get("email", "")[:254]):
        context["form"] = SignInLinkForm()
        return _too_many(request, "accounts/sign_in_link.html", context)
    if not form.is_valid():
        return render(request, "accounts/sign_in_link.html", context, status=400)
    send_sign_in_link.enqueue(form.cleaned_data["email"], get_language(), next_url)
    return redirect("accounts:sign-in-link-sent")


@require_GET
def sign_in_link_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/link_sent.html", {"link_minutes": _link_minutes()})


def _link_minutes() -> int:
    return max(1, settings.SESAME_MAX_AGE // 60)


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_link_use(request: HttpRequest) -> HttpResponse:
    """The page an e-mailed link opens. Opening it only asks to confirm; the POST signs
    in and uses the link up, so a mail scanner that follows links cannot spend it."""
    source = request.POST if request.method == "POST" else request.GET
    token = source.get("sesame", "")
    user = get_link_user(token, update_last_login=False) if token else None
    if user is None:
        return render(request, "accounts/link_invalid.html", status=400)
    next_url = _next_url(request)
    if request.method == "GET":
        return render(
            request, "accounts/link_confirm.html", {"token": token, "next": next_url, "who": user}
        )
    login(request, user)  # moves last_login on, which invalidates the link
    return _after_sign_in(request, next_url)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own profile: there is no id in the URL to tamper with."""
    user = cast(User, request.user)
    person = Person.objects.filter(user=user).first()
    data = request.POST if request.method == "POST" else None
    user_form = UserProfileForm(data, instance=user, prefix="account")
    person_form = PersonProfileForm(data, instance=person, prefix="person") if person else None
    status = 200
    if request.method == "POST":
        if user_form.is_valid() and (person_form is None or person_form.is_valid()):
            services.profile_update(
                user=user,
                language=user_form.cleaned_data["language"],
                person_data=person_form.cleaned_data if person_form else None,
            )
            messages.success(request, _("Your profile is saved."))
            return redirect(translate_url(reverse("accounts:profile"), user.language or ""))
        status = 400
    return render(
        request,
        "accounts/profile.html",
        {"user_form": user_form, "person_form": person_form, "person": person},
        status=status,
    )


def _qr_svg(uri: str) -> str:
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, title=_("QR code for your authenticator app")
    )
    # segno's own markup: the URI is drawn as modules, never copied into the SVG as text.
    return mark_safe(svg)


def _grouped(secret: bytes) -> str:
    text = secret.decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Turn on (scan, then confirm with a code) or off (with a code) the authenticator app."""
    user = cast(User, request.user)
    enabled = services.totp_device_for(user, confirmed=True) is not None
    form = CodeForm(request.POST if request.method == "POST" else None)
    status = 200
    too_many = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action != ("disable" if enabled else "enable"):
            # The page was stale (another tab changed it): show the current state.
            return redirect("accounts:two-factor")
        if too_many_attempts(request, "two-factor", user.username):
            form = CodeForm()
            too_many = _too_many_message()
            status = 429
        elif form.is_valid() and _check_code(form, user, confirmed=enabled):
            code = form.cleaned_data["code"]
            if enabled:
                if services.totp_verify(user=user, token=code) is not None:
                    services.totp_disable(user=user)
                    messages.success(request, _("Two-factor authentication is off."))
                    return redirect("accounts:two-factor")
            else:
                device = services.totp_device_start(user=user)
                if services.totp_device_confirm(device=device, token=code):
                    django_otp.login(request, device)
                    messages.success(
                        request,
                        _("Two-factor authentication is on. You will need a code at each sign-in."),
                    )
                    return redirect("accounts:two-factor")
            form.add_error("code", _code_error())
            status = 400
        else:
            status = 400
    context: dict[str, Any] = {"form": form, "enabled": enabled, "too_many": too_many}
    if not enabled:
        device = services.totp_device_start(user=user)
        context["qr_svg"] = _qr_svg(device.config_url)
        context["secret"] = _grouped(b32encode(device.bin_key))
        context["otpauth_uri"] = device.config_url
    return render(request, "accounts/two_factor.html", context, status=status)
