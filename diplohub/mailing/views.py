from __future__ import annotations

import json
import re
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext_noop, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from diplohub.accounts.decorators import staff_required
from diplohub.accounts.models import User
from diplohub.accounts.ratelimit import request_ip, too_many_attempts
from diplohub.directory.models import Person
from diplohub.lib.markdown import render_markdown
from diplohub.mailing import links, services
from diplohub.mailing.audience import Audience, describe, recipients
from diplohub.mailing.feeds import archive_text
from diplohub.mailing.forms import (
    AudienceForm,
    CampaignForm,
    MyConsentsForm,
    PersonalDataEraseForm,
    PersonalDataLookupForm,
    PreferencesForm,
    ScheduleForm,
    SignUpForm,
)
from diplohub.mailing.models import (
    Campaign,
    CampaignStatus,
    Consent,
    PolicyDocument,
    PolicyKind,
    Purpose,
    Subscriber,
    SubscriberStatus,
    ledger_address,
)

# === Joining the network: sign-up, confirmation, preferences, consents, policies =====

# Marked for the catalogue here, translated where it is shown.
NO_POLICIES = gettext_noop("The hub has no privacy policy or terms of service in force: try later.")


def _policies() -> dict[str, PolicyDocument | None]:
    return {
        "privacy": PolicyDocument.objects.current(PolicyKind.PRIVACY),
        "terms": PolicyDocument.objects.current(PolicyKind.TERMS),
    }


def _sign_up_context(form: SignUpForm, **extra: Any) -> dict[str, Any]:
    policies = _policies()
    return {
        "form": form,
        "policies": policies,
        "closed": None in policies.values(),
        **extra,
    }


def _too_many(request: HttpRequest, email: str) -> bool:
    return too_many_attempts(request, "mailing.sign-up", email, rate=settings.SIGNUP_RATE)


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    """Join the network: the full form, and where the compact one posts to. The answer
    to a valid sign-up is the same whether or not the address was known."""
    if request.method == "GET":
        return render(request, "mailing/join.html", _sign_up_context(SignUpForm()))
    compact = request.POST.get("form") == "compact"
    form = SignUpForm(request.POST)
    context = _sign_up_context(form)
    if context["closed"]:
        return render(request, "mailing/join.html", context, status=503)
    if _too_many(request, request.POST.get("email", "")[:254]):
        context["form"] = SignUpForm(initial={"email": request.POST.get("email", "")[:254]})
        context["too_many"] = _("Too many sign-ups from here. Wait a few minutes and try again.")
        return render(request, "mailing/join.html", context, status=429)
    if not form.is_valid():
        return render(request, "mailing/join.html", context, status=400)
    if not form.is_from_a_bot:
        try:
            services.subscriber_sign_up(
                **form.sign_up_arguments(),
                source=services.SOURCE_JOIN_COMPACT if compact else services.SOURCE_JOIN,
                ip=request_ip(request),
            )
        except services.SignUpClosed:  # the policy was withdrawn meanwhile
            return render(request, "mailing/join.html", _sign_up_context(form), status=503)
    return redirect("mailing:join-sent")


@require_GET
def join_compact(request: HttpRequest) -> HttpResponse:
    """The compact form, fetched by the placeholder of mailing/_join_compact.html.

    Pages that embed it are cached for visitors, and a form must carry its visitor's
    own CSRF token: so the form comes in its own, uncached, request."""
    context = _sign_up_context(SignUpForm(compact=True), compact=True)
    response = render(request, "mailing/_join_compact_form.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def join_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "mailing/join_sent.html", {"days": settings.SIGNUP_PENDING_DAYS})


def _link_invalid(request: HttpRequest, *, expired: bool = False) -> HttpResponse:
    return render(
        request,
        "mailing/link_invalid.html",
        {"expired": expired, "days": settings.SIGNUP_PENDING_DAYS},
        status=400 if expired else 404,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation e-mail. Opening it shows what confirming means; the
    button confirms, so a mail scanner that follows links subscribes nobody."""
    email, expired = links.confirmation_from(token[:1000])
    if email is None:
        return _link_invalid(request, expired=expired)
    subscriber = Subscriber.objects.with_address(email).first()
    if subscriber is None or subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        return _link_invalid(request)
    if request.method == "POST":
        try:
            outcome = services.subscriber_confirm(email=email, ip=request_ip(request))
        except services.SignUpClosed:
            outcome = None
        if outcome is None:
            context = {"subscriber": subscriber, "policies": _policies(), "closed": True}
            return render(request, "mailing/confirm.html", context, status=503)
        if outcome == services.ConfirmOutcome.NOT_FOUND:
            return _link_invalid(request)
        if outcome == services.ConfirmOutcome.CONFIRMED:
            messages.success(request, _("Thank you: your subscription is confirmed."))
        return redirect("mailing:preferences", token=links.token_for(email))
    if subscriber.status == SubscriberStatus.ACTIVE:
        messages.info(request, _("Your subscription is already confirmed."))
        return redirect("mailing:preferences", token=links.token_for(email))
    policies = _policies()
    context = {"subscriber": subscriber, "policies": policies, "closed": None in policies.values()}
    return render(request, "mailing/confirm.html", context)


def _email_from_link(token: str) -> str | None:
    return links.email_from(token[:1000])


@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    """The preference centre, by the signed link in every e-mail; no password. Works
    for any address the hub mails, subscribed or not."""
    email = _email_from_link(token)
    if email is None:
        return _link_invalid(request)
    subscriber = Subscriber.objects.with_address(email).first()
    standing = services.standing_purposes(email=email)
    has_subscription = subscriber is not None
    initial: dict[str, Any] = {
        "newsletter": standing[Purpose.NEWSLETTER],
        "events": standing[Purpose.EVENTS],
    }
    if subscriber is not None:
        initial["language"] = subscriber.language
        initial["topics"] = list(subscriber.topics.all())
    data = request.POST if request.method == "POST" else None
    form = PreferencesForm(data, initial=initial, has_subscription=has_subscription)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            cleaned = form.cleaned_data
            try:
                services.subscriber_preferences_update(
                    email=email,
                    newsletter=cleaned["newsletter"],
                    events=cleaned["events"],
                    consent=cleaned["consent"],
                    language=cleaned.get("language") or request.LANGUAGE_CODE,
                    topics=cleaned.get("topics") if has_subscription else None,
                    ip=request_ip(request),
                )
            except services.ConsentRequired:
                form.add_error(
                    "consent",
                    _(
                        "To receive this mail, tick this box to agree to the privacy policy "
                        "and the terms."
                    ),
                )
            except services.SignUpClosed:
                form.add_error(None, _(NO_POLICIES))
            else:
                messages.success(request, _("Your preferences are saved."))
                return redirect(request.path)
        status = 400
    return render(
        request,
        "mailing/preferences.html",
        {
            "form": form,
            "email": email,
            "subscriber": subscriber,
            "standing": standing,
            "policies": _policies(),
            "unsubscribe_token": links.token_for(email),
        },
        status=status,
    )


# The body a mail client POSTs for RFC 8058's one-click unsubscribe.
ONE_CLICK = ("List-Unsubscribe", "One-Click")


@csrf_exempt  # RFC 8058: the mail client's POST carries no CSRF token; the signed link does
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """One-click unsubscribe (RFC 8058). GET shows the address and a button; a POST
    with the mail client's body `List-Unsubscribe=One-Click`, or the button's, leaves
    the newsletter at once. Nothing else is accepted, and a GET changes nothing."""
    email = _email_from_link(token)
    if email is None:
        return _link_invalid(request)
    if request.method == "POST":
        one_click = request.POST.get(ONE_CLICK[0]) == ONE_CLICK[1]
        if not one_click and request.POST.get("action") != "unsubscribe":
            return render(
                request,
                "mailing/unsubscribe.html",
                {"email": email, "refused": True},
                status=400,
            )
        services.subscriber_unsubscribe(
            email=email,
            source=services.SOURCE_ONE_CLICK if one_click else services.SOURCE_UNSUBSCRIBE,
            ip=request_ip(request),
        )
        if one_click:
            return render(request, "mailing/unsubscribe.html", {"email": email, "done": True})
        messages.success(request, _("You are unsubscribed: we will send you no more newsletters."))
        return redirect(request.path)
    subscribed = services.standing_purposes(email=email)[Purpose.NEWSLETTER]
    return render(
        request,
        "mailing/unsubscribe.html",
        {
            "email": email,
            "subscribed": subscribed,
            "token": links.token_for(email),
        },
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def my_consents(request: HttpRequest) -> HttpResponse:
    """A signed-in member's consents, in the same ledger as the sign-up's."""
    user = cast(User, request.user)
    person = Person.objects.filter(user=user).first()
    email = (person.email if person else "") or user.email
    if not email:
        return render(request, "mailing/my_consents.html", {"email": ""})
    standing = services.standing_purposes(email=email)
    form = MyConsentsForm(request.POST if request.method == "POST" else None, initial=standing)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                rows = services.consents_update(
                    email=email,
                    wanted={
                        Purpose.NEWSLETTER: data["newsletter"],
                        Purpose.EVENTS: data["events"],
                        Purpose.ATTENDEE_LISTS: data["attendee_lists"],
                    },
                    consent=data["consent"],
                    source=services.SOURCE_MY_CONSENTS,
                    ip=request_ip(request),
                    person=person,
                    language=user.language or request.LANGUAGE_CODE,
                )
            except services.ConsentRequired:
                form.add_error(
                    "consent",
                    _(
                        "To give your consent, tick this box to agree to the privacy policy "
                        "and the terms."
                    ),
                )
            except services.SignUpClosed:
                form.add_error(None, _(NO_POLICIES))
            else:
                if rows:
                    messages.success(request, _("Your choices are saved."))
                else:
                    messages.info(request, _("Nothing has changed."))
                return redirect("mailing:my-consents")
        status = 400
    history = Consent.objects.of_address(email).select_related("privacy_policy", "terms")
    return render(
        request,
        "mailing/my_consents.html",
        {
            "form": form,
            "email": email,
            "policies": _policies(),
            "history": history.order_by("-at", "-pk")[:50],
        },
        status=status,
    )


# --- Policies -------------------------------------------------------------------------


def _policy_kind(kind: str) -> PolicyKind:
    try:
        return PolicyKind(kind)
    except ValueError:
        raise Http404 from None


@require_GET
def policy(request: HttpRequest, kind: str, version: int | None = None) -> HttpResponse:
    """The privacy policy or the terms in force, or one version of them (staff also
    see drafts, to read them before publishing)."""
    kind = _policy_kind(kind)
    versions = PolicyDocument.objects.filter(kind=kind)
    staff = request.user.is_authenticated and request.user.is_hub_staff
    if version is None:
        document = versions.current(kind)
        if document is None:
            raise Http404
    else:
        visible = versions if staff else versions.published()
        document = visible.filter(version=version).first()
        if document is None:
            raise Http404
    current = versions.current(kind)
    return render(
        request,
        "mailing/policy.html",
        {
            "document": document,
            "current": current,
            "is_current": current is not None and document.pk == current.pk,
            "is_future": document.published_at is not None
            and document.published_at > timezone.now(),
            "versions": versions.published().order_by("-version"),
        },
    )


# --- Personal data (staff) --------------------------------------------------------------


def _personal_data_page(
    request: HttpRequest,
    *,
    email: str = "",
    lookup: PersonalDataLookupForm | None = None,
    erase_form: PersonalDataEraseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "lookup": lookup or PersonalDataLookupForm(initial={"email": email}),
        "email": email,
    }
    if email:
        summary = services.personal_data_summary(email=email)
        context["summary"] = summary
        context["held"] = any(summary.values())
        context["erase_form"] = erase_form or PersonalDataEraseForm(initial={"email": email})
    return render(request, "mailing/personal_data.html", context, status=status)


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def personal_data(request: HttpRequest) -> HttpResponse:
    """Look an address up, download everything the hub holds about it (JSON), or erase
    it after a confirmation. Addresses travel in POST bodies, never in URLs (which end
    up in logs)."""
    if request.method == "GET":
        return _personal_data_page(request)
    action = request.POST.get("action", "")
    if action == "erase":
        erase_form = PersonalDataEraseForm(request.POST)
        if erase_form.is_valid():
            try:
                erasure = services.personal_data_erase(
                    email=erase_form.cleaned_data["email"], by=request.user
                )
            except services.ErasureRefused as error:
                erase_form.add_error(None, error.message)
            else:
                if erasure is None:
                    messages.info(request, _("The hub holds nothing about this address."))
                else:
                    messages.success(
                        request,
                        _("Erased. The erasure is recorded (reference %(reference)s).")
                        % {"reference": erasure.email_hash[:12]},
                    )
                return redirect("mailing:personal-data")
        email = erase_form.cleaned_data.get("email", "")
        return _personal_data_page(request, email=email, erase_form=erase_form, status=400)
    lookup = PersonalDataLookupForm(request.POST)
    if not lookup.is_valid():
        return _personal_data_page(request, lookup=lookup, status=400)
    email = ledger_address(lookup.cleaned_data["email"])
    if action == "export":
        data = services.personal_data_export(email=email)
        response = HttpResponse(
            json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        day = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="personal-data-{day}.json"'
        response["Cache-Control"] = "private, no-store"
        return response
    return _personal_data_page(request, email=email)


# === Campaigns: staff write, try, schedule, send and follow them; the public archive ==


# Markup the sanitiser takes out of a campaign: the preview says so.
_UNSAFE_HTML = re.compile(
    r"<\s*(script|style|iframe|object|embed|form|input|img|svg|link|meta)\b|\bon\w+\s*=",
    re.IGNORECASE,
)


def _get_campaign_for_staff(pk: int) -> Campaign:
    return get_object_or_404(Campaign, pk=pk)


def _campaign_forms(
    request: HttpRequest, campaign: Campaign | None
) -> tuple[CampaignForm, AudienceForm]:
    """The texts and the audience, from the POST if there is one, else as stored."""
    if request.method == "POST":
        return CampaignForm(request.POST), AudienceForm(request.POST)
    if campaign is None:
        return CampaignForm(initial={"in_archive": True}), AudienceForm()
    return (
        CampaignForm(initial=CampaignForm.initial_for(campaign)),
        AudienceForm(initial=AudienceForm.initial_for(Audience.from_json(campaign.audience))),
    )


def _campaign_page(
    request: HttpRequest,
    campaign: Campaign | None,
    form: CampaignForm,
    audience_form: AudienceForm,
    *,
    schedule_form: ScheduleForm | None = None,
    status: int = 200,
) -> HttpResponse:
    audience = None
    if audience_form.is_bound:
        audience = audience_form.audience() if audience_form.is_valid() else None
    elif campaign is not None:
        audience = Audience.from_json(campaign.audience)
    else:
        audience = Audience()
    context = {
        "campaign": campaign,
        "form": form,
        # Not "languages": the base template's language switcher uses that name.
        "writing": _languages(form),
        "audience_form": audience_form,
        "audience_summary": describe(Audience.from_json(campaign.audience)) if campaign else [],
        "schedule_form": schedule_form or ScheduleForm(),
        "recipients": recipients(audience).count() if audience is not None else None,
        "progress": campaign.progress() if campaign is not None else None,
        "test_address": getattr(request.user, "email", ""),
    }
    return render(request, "mailing/campaign.html", context, status=status)


def _languages(form: CampaignForm) -> list[dict[str, Any]]:
    """Each language's fields with the preview of what they hold now."""
    found = []
    for language in form.languages():
        body = str(language["body"].value() or "")
        too_long = len(body) > services.CAMPAIGN_BODY_MAX
        found.append(
            {
                **language,
                "subject_value": " ".join(str(language["subject"].value() or "").split()),
                "preview": "" if too_long else render_markdown(body),
                "too_long": too_long,
                "removed": bool(_UNSAFE_HTML.search(body)),
            }
        )
    return found


def _save_campaign(
    request: HttpRequest, campaign: Campaign | None, form: CampaignForm, audience_form: AudienceForm
) -> Campaign | None:
    """The staff member's texts and audience, saved through the service; None, with
    the errors on the forms, if anything is wrong."""
    if not (form.is_valid() and audience_form.is_valid()):
        return None
    values = {
        "texts": form.texts(),
        "audience": audience_form.audience(),
        "in_archive": form.cleaned_data["in_archive"],
        "slug": form.cleaned_data["slug"],
    }
    try:
        if campaign is None:
            return services.campaign_create(**values, by=request.user)
        return services.campaign_update(campaign=campaign, **values)
    except services.CampaignError as error:
        target = audience_form if error.field in audience_form.fields else form
        target.add_error(error.field if error.field in target.fields else None, error.message)
        return None


@never_cache
@require_GET
@staff_required
def campaigns(request: HttpRequest) -> HttpResponse:
    """Every campaign, newest first, with its messages counted."""
    found = Campaign.objects.with_counts().select_related("created_by").order_by("-created_at")
    return render(request, "mailing/campaigns.html", {"campaigns": found})


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    form, audience_form = _campaign_forms(request, None)
    if request.method == "POST":
        campaign = _save_campaign(request, None, form, audience_form)
        if campaign is not None:
            messages.success(request, _("The draft is saved."))
            return redirect("mailing:campaign", pk=campaign.pk)
        return _campaign_page(request, None, form, audience_form, status=400)
    return _campaign_page(request, None, form, audience_form)


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def campaign(request: HttpRequest, pk: int) -> HttpResponse:
    """A campaign: its texts with a live preview, its audience with a live count, a
    test to oneself, schedule or send; its progress once it is sent."""
    found = _get_campaign_for_staff(pk)
    form, audience_form = _campaign_forms(request, found)
    if request.method == "POST":
        if not found.is_editable:
            return _refused(request, found, services.campaign_not_editable(found).message)
        if _save_campaign(request, found, form, audience_form) is None:
            return _campaign_page(request, found, form, audience_form, status=400)
        messages.success(request, _("Your changes are saved."))
        return redirect("mailing:campaign", pk=found.pk)
    return _campaign_page(request, found, form, audience_form)


@require_POST
@staff_required
def campaign_preview(request: HttpRequest) -> HttpResponse:
    """The text of one language as every message shows it (htmx): the same sanitiser."""
    language = request.POST.get("language", settings.LANGUAGE_CODE)
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    subject = " ".join(request.POST.get(f"subject_{language}", "").split())
    body = request.POST.get(f"body_{language}", "")
    context = {
        "language": language,
        "subject": subject,
        "too_long": len(body) > services.CAMPAIGN_BODY_MAX,
        "max_length": services.CAMPAIGN_BODY_MAX,
        "html": "" if len(body) > services.CAMPAIGN_BODY_MAX else render_markdown(body),
        "removed": bool(_UNSAFE_HTML.search(body)),
    }
    return render(request, "mailing/campaign.html#preview", context)


@never_cache
@require_GET
@staff_required
def campaign_audience_count(request: HttpRequest) -> HttpResponse:
    """How many people the audience chosen so far reaches (htmx)."""
    audience_form = AudienceForm(request.GET)
    count = recipients(audience_form.audience()).count() if audience_form.is_valid() else None
    status = 200 if count is not None else 400
    return render(
        request,
        "mailing/campaign.html#count",
        {"recipients": count, "audience_form": audience_form},
        status=status,
    )


def _refused(request: HttpRequest, campaign: Campaign, message: str) -> HttpResponse:
    messages.error(request, message)
    return redirect("mailing:campaign", pk=campaign.pk)


def _saved_first(request: HttpRequest, found: Campaign) -> HttpResponse | Campaign:
    """The actions post the whole page: the texts and audience on it are saved first
    (if it can still be changed), so what is tested or sent is what the page shows."""
    if not found.is_editable or "subject_" + settings.LANGUAGE_CODE not in request.POST:
        return found
    form, audience_form = _campaign_forms(request, found)
    saved = _save_campaign(request, found, form, audience_form)
    if saved is None:
        return _campaign_page(request, found, form, audience_form, status=400)
    return saved


@require_POST
@staff_required
def campaign_test(request: HttpRequest, pk: int) -> HttpResponse:
    saved = _saved_first(request, _get_campaign_for_staff(pk))
    if isinstance(saved, HttpResponse):
        return saved
    try:
        sent = services.campaign_send_test(campaign=saved, user=request.user)
    except services.CampaignError as error:
        return _refused(request, saved, error.message)
    messages.success(
        request,
        ngettext(
            "A test is on its way to %(address)s (%(languages)s).",
            "%(count)d tests are on their way to %(address)s (%(languages)s).",
            len(sent),
        )
        % {
            "count": len(sent),
            "address": request.user.email,  # type: ignore[union-attr]
            "languages": ", ".join(dict(settings.LANGUAGES)[e.language] for e in sent),
        },
    )
    return redirect("mailing:campaign", pk=saved.pk)


@require_POST
@staff_required
def campaign_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    found = _get_campaign_for_staff(pk)
    if not found.is_editable:
        return _refused(request, found, services.campaign_not_editable(found).message)
    schedule_form = ScheduleForm(request.POST)
    saved = _saved_first(request, found)
    if isinstance(saved, HttpResponse):
        return saved
    if not schedule_form.is_valid():
        form, audience_form = _campaign_forms(request, saved)
        return _campaign_page(
            request, saved, form, audience_form, schedule_form=schedule_form, status=400
        )
    try:
        services.campaign_schedule(campaign=saved, when=schedule_form.cleaned_data["when"])
    except services.CampaignError as error:
        schedule_form.add_error("when", error.message)
        form, audience_form = _campaign_forms(request, saved)
        return _campaign_page(
            request, saved, form, audience_form, schedule_form=schedule_form, status=400
        )
    when = timezone.localtime(saved.scheduled_for)
    messages.success(
        request,
        _("Scheduled: it will be sent on %(when)s.")
        % {"when": date_format(when, "DATETIME_FORMAT")},
    )
    return redirect("mailing:campaign", pk=saved.pk)


@require_POST
@staff_required
def campaign_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Send now: the page's changes are saved, then a confirmation names how many
    people it goes to; only the confirmation's button queues it."""
    saved = _saved_first(request, _get_campaign_for_staff(pk))
    if isinstance(saved, HttpResponse):
        return saved
    count = recipients(Audience.from_json(saved.audience)).count()
    if request.POST.get("confirm") != "yes":
        if not saved.is_editable:
            status = saved.get_status_display().lower()
            return _refused(
                request,
                saved,
                _("This campaign is %(status)s: it cannot be sent again.") % {"status": status},
            )
        if not count:
            messages.error(request, _("Nobody is in this audience: nothing was sent."))
            return redirect("mailing:campaign", pk=saved.pk)
        return render(request, "mailing/campaign_send.html", {"campaign": saved, "count": count})
    try:
        queued = services.campaign_queue(campaign=saved)
    except services.CampaignError as error:
        return _refused(request, saved, error.message)
    messages.success(
        request,
        ngettext("Sending to %(count)d person.", "Sending to %(count)d people.", queued)
        % {"count": queued},
    )
    return redirect("mailing:campaign", pk=saved.pk)


@require_POST
@staff_required
def campaign_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    found = _get_campaign_for_staff(pk)
    was_scheduled = found.status == CampaignStatus.SCHEDULED
    try:
        skipped = services.campaign_cancel(campaign=found)
    except services.CampaignError as error:
        return _refused(request, found, error.message)
    if was_scheduled:
        messages.success(request, _("It is no longer scheduled: it is a draft again."))
    else:
        messages.success(
            request,
            ngettext(
                "Sending stopped: %(count)d message was not sent.",
                "Sending stopped: %(count)d messages were not sent.",
                skipped,
            )
            % {"count": skipped},
        )
    return redirect("mailing:campaign", pk=found.pk)


@never_cache
@require_GET
@staff_required
def campaign_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress figures (htmx polls them while the campaign is being sent)."""
    found = _get_campaign_for_staff(pk)
    return render(
        request,
        "mailing/campaign.html#progress",
        {"campaign": found, "progress": found.progress()},
    )


@require_GET
def newsletters(request: HttpRequest) -> HttpResponse:
    """The public archive of past newsletters, in the visitor's language."""
    sent = Campaign.objects.archived().order_by("-started_at", "-pk")
    issues = [{"campaign": c, "subject": archive_text(c)[0]} for c in sent]
    return render(request, "mailing/newsletters.html", {"issues": issues})


@require_GET
def newsletter(request: HttpRequest, slug: str) -> HttpResponse:
    found = get_object_or_404(Campaign.objects.archived(), slug=slug)
    subject, body = archive_text(found)
    language = found.language_for(get_language() or settings.LANGUAGE_CODE)
    return render(
        request,
        "mailing/newsletter.html",
        {"campaign": found, "subject": subject, "body": body, "content_language": language},
    )
