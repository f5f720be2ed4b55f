"""Directory workflows, shared by pages, API, admin and importers."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from diplohub.directory import importers, ror
from diplohub.directory.models import Membership, Organization, Person, Post


def unique_slug(name: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(name)[:100] or "organisation"
    slug, n = base, 1
    taken = Organization.objects.all()
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    while taken.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def organization_update_content(
    *, organization: Organization, data: dict[str, Any], by: Any
) -> Organization:
    """Save what a host or staff member may edit on an organisation's public page."""
    for code, _name in settings.LANGUAGES:
        key = f"description_{code}"
        if key in data:
            setattr(organization, key, data[key])
    if "website" in data:
        organization.website = data["website"]
    organization._history_user = by  # type: ignore[attr-defined]
    organization.full_clean()
    organization.save()
    if "topics" in data:
        organization.topics.set(data["topics"])
    return organization


@transaction.atomic
def post_assign(
    *, post: Post, person: Person, start_date: datetime.date | None = None
) -> Membership:
    """Put a person in a post from start_date, ending the previous holder's tenure.

    The post keeps its history: the outgoing tenure is closed, not deleted, and the
    relationships attached to the post (and its organisation) carry over to the newcomer.
    """
    start_date = start_date or timezone.localdate()
    current = Membership.objects.select_for_update().filter(post=post).current(start_date)
    for tenure in current:
        if tenure.person_id == person.pk:
            return tenure
        if tenure.start_date and tenure.start_date > start_date:
            raise ValidationError(
                f"{tenure.person} holds this post from {tenure.start_date}, after {start_date}."
            )
        tenure.end_date = start_date
        tenure.save(update_fields=["end_date"])
    return Membership.objects.create(post=post, person=person, start_date=start_date)


@transaction.atomic
def organizations_import(
    *,
    data: bytes,
    format: str,
    dry_run: bool,
    valid_rows_only: bool,
    merge_duplicates: bool = False,
    encoding: str | None = None,
    by: Any = None,
    progress: importers.Progress | None = None,
) -> importers.ImportReport:
    """Import organisations from a CSV or XLSX file; see importers for the rules.

    Nothing is written on a dry run, nor when any row has an error unless
    valid_rows_only. Possible duplicates are held back and reported, and merged into
    the organisation they match only with merge_duplicates.
    """
    try:
        table = importers.read_table(data, format=format, encoding=encoding)
    except importers.ImportFileError as error:
        return importers.ImportReport(dry_run=dry_run, file_errors=[str(error)])
    return organizations_import_table(
        table=table,
        dry_run=dry_run,
        valid_rows_only=valid_rows_only,
        merge_duplicates=merge_duplicates,
        by=by,
        progress=progress,
    )


@transaction.atomic
def organizations_import_table(
    *,
    table: importers.Table,
    dry_run: bool,
    valid_rows_only: bool,
    merge_duplicates: bool,
    by: Any = None,
    progress: importers.Progress | None = None,
    rules: tuple[str, ...] = importers.RULES,
    keep_on_merge: frozenset[str] = frozenset(),
    reason: str = "import",
) -> importers.ImportReport:
    """Plan and, unless told not to or a row is wrong, write an already parsed table."""
    plan = importers.plan_import(
        table,
        merge_duplicates=merge_duplicates,
        rules=rules,
        keep_on_merge=keep_on_merge,
        progress=progress,
    )
    report = plan.report
    report.dry_run, report.valid_rows_only = dry_run, valid_rows_only
    if dry_run or report.file_errors or (report.errors and not valid_rows_only):
        return report
    if not plan.new and not plan.merged:
        return report
    try:
        with transaction.atomic():
            importers.apply_plan(plan, by=by, reason=reason, progress=progress)
    except IntegrityError:
        report.file_errors.append(
            "The directory changed while this file was being imported (another import "
            "or an edit took the same ROR id, Wikidata id or slug): nothing was written. "
            "Try again."
        )
        return report
    report.written = True
    from diplohub.lib.pagecache import invalidate

    # Bulk writes send no post_save signals, so the public page cache is told here.
    transaction.on_commit(invalidate)
    return report


@transaction.atomic
def organizations_import_ror(
    *,
    data: bytes,
    dry_run: bool,
    valid_rows_only: bool = False,
    by: Any = None,
    progress: importers.Progress | None = None,
) -> importers.ImportReport:
    """Import research organisations from ROR records (JSON, schema v1 or v2).

    Organisations are matched by ROR id, Wikidata id, or name and country, and
    updated in place, so importing the same records twice changes nothing. ROR
    sets the kind only when it creates an organisation; a kind chosen by staff stays.
    """
    try:
        table = ror.table_from_json(data)
    except ror.RorFileError as error:
        return importers.ImportReport(dry_run=dry_run, unit="record", file_errors=[str(error)])
    return organizations_import_table(
        table=table,
        dry_run=dry_run,
        valid_rows_only=valid_rows_only,
        merge_duplicates=True,
        by=by,
        progress=progress,
        rules=("ror", "wikidata", "name"),
        keep_on_merge=frozenset({"kind", "sector"}),
        reason="import from ROR",
    )
