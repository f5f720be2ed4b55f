"""Workflows of the knowledge hub: keyword-only, typed, one transaction each, called by
the pages, the admin, the commands and the importers alike.

# === Content, publication and moderation (PAGES) ====================================

For every kind of item (initiative, development, working group, publication, press
item) there is `<kind>_save`, `<kind>_publish`, `<kind>_unpublish` and `<kind>_delete`.
Saving:

1. checks the item (validation.py): required texts, Markdown without HTML, dates,
   languages, links, files (type and size, before anything is stored);
2. saves it, with its many-to-many relations and references when given;
3. refreshes its addresses (slugs.slugs_refresh: a new title gets a new slug, the old
   one redirects);
4. for an initiative whose texts or metadata changed, clears `similar_computed_at`, so
   the background job recomputes its similar initiatives;
5. tells the search index (search.index_item for a published item, search.remove_item
   otherwise), in the same transaction.

A partner's proposal comes in through `initiative_submit` (state "submitted") and
leaves the moderation queue through `initiative_moderate` (staff: publish, or reject
with a reason); the submitter is told by e-mail either way.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diplohub.directory.models import Organization, Topic
from diplohub.knowledge import slugs, validation
from diplohub.knowledge.models import (
    Development,
    Initiative,
    InitiativeImage,
    InitiativeType,
    PressItem,
    Publication,
    PublicationState,
    Publishable,
    Reference,
    ResponseType,
    SimilarInitiative,
    WorkingGroup,
    WorkingGroupMember,
)

Item = TypeVar("Item", bound=Publishable)
TEXT_FIELDS = ("title", "summary", "body")


class ModerationError(ValueError):
    """A moderation that cannot happen (the item is not waiting, no reason given)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class ReferenceIn:
    """One reference of an initiative, as forms and importers give it."""

    outlet: str
    title: str
    url: str
    date: Any = None  # datetime.date or None
    language: str = ""


# --- The search index (SEARCH provides diplohub/knowledge/search.py) -----------------


def _search() -> ModuleType | None:
    """search.py once it exists; until then the index is simply not told. A module that
    exists but fails to import is an error, not a missing module."""
    if importlib.util.find_spec("diplohub.knowledge.search") is None:
        return None
    return importlib.import_module("diplohub.knowledge.search")


def _index(item: models.Model) -> None:
    search = _search()
    if search is None:
        return
    if getattr(item, "state", "") == PublicationState.PUBLISHED:
        search.index_item(item)
    else:
        search.remove_item(item)


def _unindex(item: models.Model) -> None:
    search = _search()
    if search is not None:
        search.remove_item(item)


# --- Checks shared by every kind ---------------------------------------------------


def _languages() -> list[str]:
    return validation.hub_languages()


def _errors_of(checks: Iterable[tuple[str, Any]]) -> dict[str, list[str]]:
    """Run (field, callable) checks; collect every message by field."""
    errors: dict[str, list[str]] = {}
    for name, check in checks:
        try:
            check()
        except ValidationError as error:
            errors.setdefault(name, []).extend(error.messages)
    return errors


def _text_checks(item: models.Model) -> list[tuple[str, Any]]:
    checks: list[tuple[str, Any]] = []
    default = settings.LANGUAGE_CODE
    translated = hasattr(item, f"title_{default}")
    title_field = f"title_{default}" if translated else "title"

    def title_required() -> None:
        if not (getattr(item, title_field, "") or "").strip():
            raise ValidationError(_("A title is required."), code="required")

    checks.append((title_field, title_required))
    for field in ("summary", "body"):
        names = [f"{field}_{code}" for code in _languages()]
        if not hasattr(item, names[0]):
            names = [field]
        for name in names:
            checks.append((name, lambda name=name: validation.check_markdown(getattr(item, name))))
    return checks


def _full_clean(item: models.Model, errors: dict[str, list[str]]) -> None:
    """The model's own field rules (lengths, choices, required fields, constraints)."""
    try:
        item.full_clean(exclude=list(TEXT_FIELDS) if hasattr(item, "title_en") else None)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _publish(item: Item, errors: dict[str, list[str]]) -> Item:
    """Publish a checked item (`errors`: what its checks found): stamped the first
    time, saved, its addresses and search document brought up to date."""
    _raise(errors)
    item.state = PublicationState.PUBLISHED
    if item.published_at is None:
        item.published_at = timezone.now()
    item.save()
    _after_save(item)
    return item


def _unpublish(item: Item) -> Item:
    """Back to draft: gone from the pages and the search index."""
    item.state = PublicationState.DRAFT
    item.save(update_fields=["state", "updated_at"])
    _after_save(item)
    return item


def _after_save(item: models.Model) -> None:
    slugs.slugs_refresh(item)
    _index(item)


# --- Vocabularies ----------------------------------------------------------------------

V = TypeVar("V", InitiativeType, ResponseType)


def vocabulary_resolve(model: type[V], value: str) -> V:
    """A vocabulary entry by slug or by name in any language; an unknown value is
    refused with the list of known ones (for importers and commands)."""
    text = (value or "").strip()
    found = model.objects.filter(slug=text.lower()).first()
    if found is None and text:
        for code in _languages():
            found = model.objects.filter(**{f"name_{code}__iexact": text}).first()
            if found is not None:
                break
    if found is None:
        known = ", ".join(model.objects.values_list("slug", flat=True))
        raise ValidationError(
            _("%(value)s is not a known %(vocabulary)s; use one of: %(known)s."),
            params={"value": text or "''", "vocabulary": model._meta.verbose_name, "known": known},
            code="unknown_vocabulary",
        )
    return found


# --- Initiatives ----------------------------------------------------------------------

# What the similarity job reads: when any of it changes, the neighbours are recomputed.
_SIMILAR_FIELDS = ("government", "city", "country", "initiative_type_id", "languages")


def _similarity_fingerprint(initiative: Initiative) -> str:
    texts = {
        f"{field}_{code}": getattr(initiative, f"{field}_{code}", "") or ""
        for field in TEXT_FIELDS
        for code in _languages()
    }
    meta = {name: str(getattr(initiative, name, "")) for name in _SIMILAR_FIELDS}
    if initiative.pk:
        meta["topics"] = str(sorted(initiative.topics.values_list("pk", flat=True)))
        meta["response_types"] = str(sorted(initiative.response_types.values_list("pk", flat=True)))
        meta["state"] = initiative.state
    payload = json.dumps([texts, meta], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def initiative_fingerprint(*, initiative: Initiative) -> str | None:
    """What the similar initiatives of the stored row are computed from, as a hash
    (None for a new initiative): the admin takes it before saving, for
    initiative_touched to compare."""
    if not initiative.pk:
        return None
    stored = Initiative.objects.filter(pk=initiative.pk).first()
    return _similarity_fingerprint(stored) if stored is not None else None


def _initiative_errors(
    initiative: Initiative, references: Sequence[ReferenceIn] | None
) -> dict[str, list[str]]:
    checks = _text_checks(initiative)

    def languages() -> None:
        initiative.languages = validation.clean_languages(initiative.languages)

    def links() -> None:
        initiative.links = validation.clean_links(initiative.links)

    def contact() -> None:
        validation.check_role_address(
            initiative.contact_email, personal=[initiative.submitted_by_email]
        )

    checks += [
        ("languages", languages),
        ("links", links),
        ("contact_email", contact),
        ("start_date", lambda: validation.check_date(initiative.start_date, future_years=5)),
    ]
    if initiative.source_url:
        checks.append(("source_url", lambda: validation.check_url(initiative.source_url)))
    errors = _errors_of(checks)
    for position, reference in enumerate(references or [], start=1):
        problems = _reference_errors(reference)
        if problems:
            errors.setdefault("references", []).append(
                _("Reference %(number)d: %(problems)s")
                % {"number": position, "problems": " ".join(problems)}
            )
    if references is not None and len(references) > validation.MAX_REFERENCES:
        errors.setdefault("references", []).append(
            _("At most %(count)d references.") % {"count": validation.MAX_REFERENCES}
        )
    _full_clean(initiative, errors)
    return errors


def _reference_errors(reference: ReferenceIn) -> list[str]:
    problems: list[str] = []
    if not reference.outlet.strip():
        problems.append(_("The outlet is required."))
    if not reference.title.strip():
        problems.append(_("The title is required."))

    def language() -> None:
        if reference.language:
            validation.check_language_code(reference.language)

    for check in (
        lambda: validation.check_url(reference.url.strip()),
        lambda: validation.check_date(reference.date),
        language,
    ):
        try:
            check()
        except ValidationError as error:
            problems.extend(error.messages)
    if len(reference.outlet) > 200 or len(reference.title) > 300 or len(reference.url) > 500:
        problems.append(_("The outlet, title or address is too long."))
    return problems


@transaction.atomic
def initiative_save(
    *,
    initiative: Initiative,
    topics: Iterable[Topic] | None = None,
    response_types: Iterable[ResponseType] | None = None,
    related_organizations: Iterable[Organization] | None = None,
    references: Sequence[ReferenceIn] | None = None,
) -> Initiative:
    """Check and save an initiative; the relations and references given replace the
    stored ones (None leaves them as they are). Raises ValidationError by field."""
    before = initiative_fingerprint(initiative=initiative)
    _raise(_initiative_errors(initiative, references))
    initiative.save()
    if topics is not None:
        initiative.topics.set(list(topics))
    if response_types is not None:
        initiative.response_types.set(list(response_types))
    if related_organizations is not None:
        initiative.related_organizations.set(list(related_organizations))
    if references is not None:
        initiative.references.all().delete()
        Reference.objects.bulk_create(
            Reference(
                initiative=initiative,
                position=position,
                outlet=ref.outlet.strip(),
                title=ref.title.strip(),
                date=ref.date,
                language=(ref.language or "").strip().lower(),
                url=ref.url.strip(),
            )
            for position, ref in enumerate(references)
        )
    initiative_touched(initiative=initiative, before=before)
    return initiative


def initiative_touched(*, initiative: Initiative, before: str | None = None) -> None:
    """After a change made elsewhere (the admin's inlines and relations): new slugs,
    similar initiatives to recompute if what they are computed from changed, and the
    search index told. `before` is the fingerprint of the stored row before the change
    (None: assume it changed)."""
    changed = before is None or before != _similarity_fingerprint(initiative)
    if changed and initiative.similar_computed_at is not None:
        initiative.similar_computed_at = None
        Initiative.objects.filter(pk=initiative.pk).update(similar_computed_at=None)
    _after_save(initiative)
    if initiative.similar_computed_at is None and initiative.state == PublicationState.PUBLISHED:
        similar_refresh_later(initiative=initiative)


@transaction.atomic
def initiative_publish(*, initiative: Initiative) -> Initiative:
    initiative.similar_computed_at = None  # it joins the candidates: compute its neighbours
    _publish(initiative, _initiative_errors(initiative, None))
    similar_refresh_later(initiative=initiative)
    return initiative


@transaction.atomic
def initiative_unpublish(*, initiative: Initiative) -> Initiative:
    """Back to draft: gone from the pages and the index; the initiatives that listed it
    as similar get theirs recomputed."""
    _unpublish(initiative)
    _forget_as_neighbour(initiative)
    similar_refresh_later(initiative=initiative)
    return initiative


def _forget_as_neighbour(initiative: Initiative) -> None:
    listing = SimilarInitiative.objects.filter(similar=initiative).values("initiative_id")
    Initiative.objects.filter(pk__in=listing).update(similar_computed_at=None)


@transaction.atomic
def initiative_delete(*, initiative: Initiative) -> None:
    _forget_as_neighbour(initiative)
    similar_refresh_later(initiative=initiative)
    _unindex(initiative)
    initiative.delete()


@transaction.atomic
def initiative_image_save(*, image: InitiativeImage) -> InitiativeImage:
    """Check an image (a real JPEG/PNG/WebP of at most 5 MB, before it is stored) and
    its text alternative in the default language, then save it."""
    checks: list[tuple[str, Any]] = []
    if image.image and not getattr(image.image, "_committed", True):
        checks.append(("image", lambda: validation.check_image(image.image)))
    default_alt = f"alt_{settings.LANGUAGE_CODE}"

    def alt_required() -> None:
        if not (getattr(image, default_alt, "") or "").strip():
            raise ValidationError(
                _("Say what the image shows, for people who cannot see it."), code="required"
            )

    checks.append((default_alt, alt_required))
    errors = _errors_of(checks)
    if not image.image:
        errors.setdefault("image", []).append(_("Choose an image file."))
    _raise(errors)
    image.save()  # images change neither the neighbours nor the index
    return image


# --- Submission and moderation ----------------------------------------------------------

SUBMISSION_KINDS = {
    "received": "knowledge.submission_received",
    "published": "knowledge.submission_published",
    "rejected": "knowledge.submission_rejected",
}


@transaction.atomic
def initiative_submit(
    *,
    language: str,
    title: str,
    summary: str,
    body: str,
    government: str,
    city: str,
    country: str,
    initiative_type: InitiativeType,
    response_types: Iterable[ResponseType] = (),
    topics: Iterable[Topic] = (),
    languages: Sequence[str] = (),
    links: Sequence[dict[str, str]] = (),
    contact_email: str = "",
    references: Sequence[ReferenceIn] = (),
    submitted_by_name: str,
    submitted_by_email: str,
    submitted_by_organization: str = "",
) -> Initiative:
    """A partner's proposal, into the moderation queue (state "submitted").

    The texts are stored in the language they were written in, and in the default
    language too while that one is empty, so the item has a title everywhere until the
    hub team translates it. The submitter's name, address and organisation are kept for
    the moderators only; an acknowledgement is e-mailed in `language`."""
    if language not in _languages():
        language = settings.LANGUAGE_CODE
    texts: dict[str, str] = {}
    for name, value in (("title", title), ("summary", summary), ("body", body)):
        texts[f"{name}_{language}"] = value.strip()
        texts[f"{name}_{settings.LANGUAGE_CODE}"] = value.strip()
    initiative = Initiative(
        government=government.strip(),
        city=city.strip(),
        country=country,
        initiative_type=initiative_type,
        languages=list(languages),
        links=list(links),
        contact_email=contact_email.strip(),
        state=PublicationState.SUBMITTED,
        submitted_by_name=submitted_by_name.strip(),
        submitted_by_email=submitted_by_email.strip(),
        submitted_by_organization=submitted_by_organization.strip(),
        **texts,
    )
    errors = _initiative_errors(initiative, references)
    if not initiative.submitted_by_name:
        errors.setdefault("submitted_by_name", []).append(_("Your name is required."))
    try:
        validation.check_role_address(initiative.submitted_by_email)
        if not initiative.submitted_by_email:
            raise ValidationError(_("Your e-mail address is required."))
    except ValidationError as error:
        errors.setdefault("submitted_by_email", []).extend(error.messages)
    _raise(errors)
    initiative_save(
        initiative=initiative,
        topics=topics,
        response_types=response_types,
        references=list(references),
    )
    _tell_submitter(initiative, "received", language=language)
    return initiative


def _tell_submitter(
    initiative: Initiative, what: str, *, language: str = "", reason: str = ""
) -> None:
    from diplohub.mailing.services import email_enqueue

    email_enqueue(
        kind=SUBMISSION_KINDS[what],
        to=initiative.submitted_by_email,
        language=language or submission_language(initiative),
        params={"initiative": initiative.pk, "reason": reason},
        key=f"{SUBMISSION_KINDS[what]}:{initiative.pk}" if what == "received" else "",
    )


def submission_language(initiative: Initiative) -> str:
    """The language the submitter wrote in: the one their acknowledgement was sent in
    (the model keeps no column for it), else the hub's default."""
    from diplohub.mailing.models import OutboundEmail

    sent = (
        OutboundEmail.objects.filter(key=f"{SUBMISSION_KINDS['received']}:{initiative.pk}")
        .values_list("language", flat=True)
        .first()
    )
    return sent if sent in _languages() else settings.LANGUAGE_CODE


PUBLISH = "publish"
REJECT = "reject"


@transaction.atomic
def initiative_moderate(
    *, initiative: Initiative, by: Any, decision: str, reason: str = ""
) -> Initiative:
    """Staff publish a submitted initiative, or reject it with a reason; the submitter
    gets an e-mail either way, in the language they wrote in."""
    if not (by is not None and getattr(by, "is_hub_staff", False)):
        raise PermissionDenied(_("Only the hub team moderates submissions."))
    locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if locked.state != PublicationState.SUBMITTED:
        raise ModerationError(
            _("This initiative is not waiting for moderation (it is %(state)s).")
            % {"state": locked.get_state_display().lower()}
        )
    if decision == PUBLISH:
        initiative_publish(initiative=initiative)
        _tell_submitter(initiative, "published")
    elif decision == REJECT:
        reason = reason.strip()
        if not reason:
            raise ModerationError(_("Say why it is rejected: the submitter will read it."))
        initiative.state = PublicationState.REJECTED
        initiative.save(update_fields=["state", "updated_at"])
        _after_save(initiative)
        _tell_submitter(initiative, "rejected", reason=reason)
    else:
        raise ModerationError(_("Unknown decision %(decision)s.") % {"decision": decision})
    return initiative


# --- Scientific developments -------------------------------------------------------------


def _development_errors(development: Development) -> dict[str, list[str]]:
    def links() -> None:
        development.links = validation.clean_links(development.links)

    checks = [
        *_text_checks(development),
        ("links", links),
        ("start_date", lambda: validation.check_date(development.start_date, future_years=5)),
    ]
    errors = _errors_of(checks)
    _full_clean(development, errors)
    return errors


@transaction.atomic
def development_save(
    *,
    development: Development,
    topics: Iterable[Topic] | None = None,
    partners: Iterable[Organization] | None = None,
    initiatives: Iterable[Initiative] | None = None,
) -> Development:
    _raise(_development_errors(development))
    development.save()
    if topics is not None:
        development.topics.set(list(topics))
    if partners is not None:
        development.partners.set(list(partners))
    if initiatives is not None:
        development.initiatives.set(list(initiatives))
    _after_save(development)
    return development


@transaction.atomic
def development_publish(*, development: Development) -> Development:
    return _publish(development, _development_errors(development))


@transaction.atomic
def development_unpublish(*, development: Development) -> Development:
    return _unpublish(development)


@transaction.atomic
def development_delete(*, development: Development) -> None:
    _unindex(development)
    development.delete()


# --- Working groups --------------------------------------------------------------------


@dataclass
class MemberIn:
    person: Any  # directory.Person
    organization: Organization | None = None
    role: str = ""


def _working_group_errors(group: WorkingGroup) -> dict[str, list[str]]:
    checks = [*_text_checks(group), ("started", lambda: validation.check_date(group.started))]
    errors = _errors_of(checks)
    _full_clean(group, errors)
    return errors


@transaction.atomic
def working_group_save(
    *,
    working_group: WorkingGroup,
    topics: Iterable[Topic] | None = None,
    members: Sequence[MemberIn] | None = None,
    meetings: Iterable[Any] | None = None,
) -> WorkingGroup:
    """Check and save a working group; `members` (in order) replace the stored ones."""
    _raise(_working_group_errors(working_group))
    working_group.save()
    if topics is not None:
        working_group.topics.set(list(topics))
    if meetings is not None:
        working_group.meetings.set(list(meetings))
    if members is not None:
        people = [m.person.pk for m in members]
        if len(set(people)) != len(people):
            raise ValidationError({"members": [_("A person is listed twice.")]})
        working_group.memberships.all().delete()
        WorkingGroupMember.objects.bulk_create(
            WorkingGroupMember(
                working_group=working_group,
                person=member.person,
                organization=member.organization,
                role=member.role,
                position=position,
            )
            for position, member in enumerate(members)
        )
    _after_save(working_group)
    return working_group


@transaction.atomic
def working_group_publish(*, working_group: WorkingGroup) -> WorkingGroup:
    return _publish(working_group, _working_group_errors(working_group))


@transaction.atomic
def working_group_unpublish(*, working_group: WorkingGroup) -> WorkingGroup:
    return _unpublish(working_group)


@transaction.atomic
def working_group_delete(*, working_group: WorkingGroup) -> None:
    _unindex(working_group)
    working_group.delete()


# --- Publications ----------------------------------------------------------------------


def _publication_errors(publication: Publication) -> dict[str, list[str]]:
    checks = [
        *_text_checks(publication),
        ("date", lambda: validation.check_date(publication.date)),
        ("language", lambda: validation.check_language_code(publication.language or "")),
    ]
    if publication.file and not getattr(publication.file, "_committed", True):
        checks.append(("file", lambda: validation.check_pdf(publication.file)))
    if publication.url:
        checks.append(("url", lambda: validation.check_url(publication.url)))
    errors = _errors_of(checks)
    has_text = any(getattr(publication, f"body_{code}", "") for code in _languages())
    if not (publication.url or publication.file or has_text):
        errors.setdefault("url", []).append(
            _("Give the publication's address, its PDF file, or its text.")
        )
    _full_clean(publication, errors)
    return errors


@transaction.atomic
def publication_save(
    *,
    publication: Publication,
    topics: Iterable[Topic] | None = None,
    authors: Iterable[Any] | None = None,
) -> Publication:
    """Check (a new PDF: its signature and size, before it is stored) and save."""
    _raise(_publication_errors(publication))
    publication.save()
    if topics is not None:
        publication.topics.set(list(topics))
    if authors is not None:
        publication.authors.set(list(authors))
    _after_save(publication)
    return publication


@transaction.atomic
def publication_publish(*, publication: Publication) -> Publication:
    return _publish(publication, _publication_errors(publication))


@transaction.atomic
def publication_unpublish(*, publication: Publication) -> Publication:
    return _unpublish(publication)


@transaction.atomic
def publication_delete(*, publication: Publication) -> None:
    _unindex(publication)
    publication.delete()


# --- Press --------------------------------------------------------------------------------


def _press_item_errors(item: PressItem) -> dict[str, list[str]]:
    checks = [
        *_text_checks(item),
        ("date", lambda: validation.check_date(item.date)),
        ("language", lambda: validation.check_language_code(item.language or "")),
        ("url", lambda: validation.check_url(item.url or "")),
    ]
    errors = _errors_of(checks)
    _full_clean(item, errors)
    return errors


@transaction.atomic
def press_item_save(
    *,
    press_item: PressItem,
    topics: Iterable[Topic] | None = None,
    initiatives: Iterable[Initiative] | None = None,
    developments: Iterable[Development] | None = None,
    working_groups: Iterable[WorkingGroup] | None = None,
    events: Iterable[Any] | None = None,
) -> PressItem:
    _raise(_press_item_errors(press_item))
    press_item.save()
    for name, values in (
        ("topics", topics),
        ("initiatives", initiatives),
        ("developments", developments),
        ("working_groups", working_groups),
        ("events", events),
    ):
        if values is not None:
            getattr(press_item, name).set(list(values))
    _after_save(press_item)
    return press_item


@transaction.atomic
def press_item_publish(*, press_item: PressItem) -> PressItem:
    return _publish(press_item, _press_item_errors(press_item))


@transaction.atomic
def press_item_unpublish(*, press_item: PressItem) -> PressItem:
    return _unpublish(press_item)


@transaction.atomic
def press_item_delete(*, press_item: PressItem) -> None:
    _unindex(press_item)
    press_item.delete()


# --- Any kind, by model (the admin's actions) -----------------------------------------------


def item_errors(*, item: models.Model) -> dict[str, list[str]]:
    """Every problem the save service would refuse `item` for, by field (the admin's
    forms show them)."""
    if isinstance(item, Initiative):
        return _initiative_errors(item, None)
    if isinstance(item, Development):
        return _development_errors(item)
    if isinstance(item, WorkingGroup):
        return _working_group_errors(item)
    if isinstance(item, Publication):
        return _publication_errors(item)
    if isinstance(item, PressItem):
        return _press_item_errors(item)
    raise TypeError(f"Not a catalogue item: {item!r}")


def item_publish(*, item: models.Model, by: Any = None) -> models.Model:
    """Publish any item; a submitted initiative goes through moderation (its submitter
    is told)."""
    if isinstance(item, Initiative):
        if item.state == PublicationState.SUBMITTED and by is not None:
            return initiative_moderate(initiative=item, by=by, decision=PUBLISH)
        return initiative_publish(initiative=item)
    if isinstance(item, Development):
        return development_publish(development=item)
    if isinstance(item, WorkingGroup):
        return working_group_publish(working_group=item)
    if isinstance(item, Publication):
        return publication_publish(publication=item)
    if isinstance(item, PressItem):
        return press_item_publish(press_item=item)
    raise TypeError(f"Not a catalogue item: {item!r}")


def item_unpublish(*, item: models.Model) -> models.Model:
    if isinstance(item, Initiative):
        return initiative_unpublish(initiative=item)
    if isinstance(item, Development):
        return development_unpublish(development=item)
    if isinstance(item, WorkingGroup):
        return working_group_unpublish(working_group=item)
    if isinstance(item, Publication):
        return publication_unpublish(publication=item)
    if isinstance(item, PressItem):
        return press_item_unpublish(press_item=item)
    raise TypeError(f"Not a catalogue item: {item!r}")


def item_delete(*, item: models.Model) -> None:
    if isinstance(item, Initiative):
        initiative_delete(initiative=item)
    elif isinstance(item, Development):
        development_delete(development=item)
    elif isinstance(item, WorkingGroup):
        working_group_delete(working_group=item)
    elif isinstance(item, Publication):
        publication_delete(publication=item)
    elif isinstance(item, PressItem):
        press_item_delete(press_item=item)
    else:
        raise TypeError(f"Not a catalogue item: {item!r}")


def item_touched(*, item: models.Model) -> None:
    """After the admin saved an item's relations and inlines: slugs, similar, index."""
    if isinstance(item, Initiative):
        initiative_touched(initiative=item)
    else:
        _after_save(item)


# === End of PAGES' section ==========================================================


# === Open data: importing initiatives (OPEN DATA) ===================================

if TYPE_CHECKING:
    from collections.abc import Callable

    from diplohub.knowledge.importers import ImportReport


def initiatives_import(
    *,
    data: bytes,
    format: str,
    dry_run: bool,
    valid_rows_only: bool,
    source_name: str = "",
    url: str = "",
    fetch: Callable[[str], bytes] | None = None,
    draft: bool = False,
    encoding: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> ImportReport:
    """Import initiatives from a CSV file or another DiploHub's JSON feed (importers.py
    says how), in one transaction, and return the report (importers.ImportReport).

    1. Read: a file over importers.MAX_IMPORT_BYTES is refused before it is parsed; a
       feed's further pages are read through `fetch` (given by the command, which
       alone goes to the network), before the transaction begins.
    2. Check and save each row or item through initiative_save, in a savepoint each.
    3. Keep it all only when this is not a dry run and no row failed (or
       `valid_rows_only`); otherwise roll everything back, so nothing is half-written.
    """
    from urllib.parse import urlsplit

    from django.db import OperationalError

    from diplohub.knowledge import importers

    report = importers.ImportReport(format=format, dry_run=dry_run, valid_rows_only=valid_rows_only)
    try:
        if format == "csv":
            records, notes = importers.read_csv(data, encoding=encoding)
        elif format == "json":
            records, notes = importers.read_feed(data, url=url, fetch=fetch, progress=progress)
        else:
            raise importers.ImportFileError(
                _("Unknown format %(format)s: use csv or json.") % {"format": format}
            )
    except importers.ImportFileError as error:
        report.file_errors.append(str(error))
        return report
    report.notes += notes
    report.total = len(records)
    feed_host = urlsplit(url).hostname or ""
    try:
        _initiatives_import_rows(
            records,
            report,
            format=format,
            source_name=source_name,
            feed_host=feed_host,
            draft=draft,
            progress=progress,
        )
    except OperationalError:
        # Another import writing the same initiatives in another order (a deadlock, on
        # PostgreSQL): this one is rolled back whole.
        report.written = False
        report.outcomes, report.errors = [], []
        report.file_errors.append(
            _(
                "Another import or an edit changed the same initiatives at the same time: "
                "nothing was written. Run the import again."
            )
        )
    return report


def _initiatives_import_rows(
    records: list[Any],
    report: ImportReport,
    *,
    format: str,
    source_name: str,
    feed_host: str,
    draft: bool,
    progress: Callable[[str, int, int], None] | None,
) -> None:
    from diplohub.knowledge import importers

    dry_run, valid_rows_only = report.dry_run, report.valid_rows_only
    with transaction.atomic():
        lookups = importers.Lookups()
        clean: list[importers.Incoming] = []
        for record in records:
            if format == "csv":
                incoming, problems = importers.clean_csv_row(
                    record, lookups=lookups, source_name=source_name
                )
            else:
                incoming, problems = importers.clean_feed_item(
                    record, lookups=lookups, source_name=source_name, feed_host=feed_host
                )
            report.errors += problems
            if not problems:
                clean.append(incoming)
        unit = "field" if format == "json" else "column"
        twice = importers.check_duplicates(clean, unit=unit)
        report.errors += twice
        refused = {problem.number for problem in twice}
        importers.apply(
            [incoming for incoming in clean if incoming.number not in refused],
            report,
            draft=draft,
            progress=progress,
        )
        report.errors.sort(key=lambda problem: problem.number)
        report.outcomes.sort(key=lambda outcome: outcome.number)
        if dry_run or (report.errors and not valid_rows_only):
            transaction.set_rollback(True)
        else:
            report.written = bool(report.created or report.updated)


# === end OPEN DATA =====================================================================


# === Similar initiatives (SIMILAR) ==================================================
# The algorithm and its index are in similarity.py; these are the workflows the pages,
# the worker, the tasks and the commands call.


def similar_refresh(*, initiative: Initiative) -> list[SimilarInitiative]:
    """Recompute one initiative's similar initiatives now (and those of the initiatives
    its change affects: those that list it, those it now belongs in), each list
    replaced in one transaction. Returns its new list (empty when not published)."""
    from diplohub.knowledge import similarity

    similarity.refresh([initiative.pk], related=True)
    return list(SimilarInitiative.objects.filter(initiative=initiative).order_by("rank"))


def similar_refresh_later(*, initiative: Initiative) -> None:
    """Ask a worker to refresh the similar initiatives this change affects once the
    caller's transaction has committed (the background task
    `knowledge.tasks.refresh_similar`: everything due, so the tasks of an import's
    thousand rows find the work done by the first). The housekeeping job catches what a
    lost task missed."""
    from diplohub.knowledge.tasks import refresh_similar

    pk = initiative.pk
    transaction.on_commit(lambda: refresh_similar.enqueue(pk))


def similar_refresh_after_change(*, initiative_id: int) -> dict[str, int]:
    """Recompute the similar initiatives due since a change: this initiative's, those of
    the initiatives that list it or should now, and any other change's not yet done.
    Safe to run twice, or after another run did the work: each list is replaced whole,
    and what is done is no longer due."""
    from diplohub.knowledge import similarity

    report = similarity.refresh_due()
    still_due = Initiative.objects.filter(models.Q(similar_computed_at=None), pk=initiative_id)
    if still_due.exists():  # beyond refresh_due's limit, or changed again meanwhile
        more = similarity.refresh([initiative_id], related=True)
        report.refreshed += more.refreshed
        report.cleared += more.cleared
    return {
        "refreshed": len(report.refreshed),
        "cleared": len(report.cleared),
        "skipped": len(report.skipped),
    }


def similar_refresh_due(*, limit: int = 500) -> int:
    """Housekeeping: refresh the initiatives whose similar_computed_at was cleared, and
    those whose list names an initiative no longer published; returns how many."""
    from diplohub.knowledge import similarity

    report = similarity.refresh_due(limit=limit)
    return len(report.refreshed) + len(report.cleared)


def similar_recompute_all(*, progress: Any = None) -> Any:
    """Recompute every published initiative's similar initiatives (`progress(stage,
    done, total)` is told as it goes); returns a similarity.RecomputeReport with the
    counts, the seconds of each stage and the peak memory."""
    from diplohub.knowledge import similarity

    return similarity.recompute_all(progress=progress)


# === end SIMILAR ======================================================================
