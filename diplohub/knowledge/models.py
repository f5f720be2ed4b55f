"""The knowledge hub: the city's initiatives, scientific developments, expert working
groups and their publications, and press coverage.

Every kind of item has translated texts (django-modeltranslation), a publication state
(staff publish; partners' submissions wait in moderation), and addresses in each
language kept in `Slug`: a title that changes gets a new slug and the old one
redirects, so no link ever breaks. "Similar initiatives" are computed in the
background into `SimilarInitiative`, never on a page request.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from diplohub.directory.models import Organization, Person, Topic


class PublicationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Waiting for moderation")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")


class PublishedQuerySet(models.QuerySet):  # type: ignore[type-arg]
    def published(self):  # type: ignore[no-untyped-def]
        return self.filter(state=PublicationState.PUBLISHED)


class Publishable(models.Model):
    """What every catalogue item has: translated title, summary and body (Markdown,
    sanitised when shown), topics, a publication state, and timestamps."""

    title = models.CharField(_("title"), max_length=300)
    summary = models.TextField(_("summary"), max_length=1000, blank=True)
    body = models.TextField(_("text (Markdown)"), blank=True)
    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), blank=True, related_name="+")
    state = models.CharField(
        _("publication"),
        max_length=10,
        choices=PublicationState.choices,
        default=PublicationState.DRAFT,
        db_index=True,
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PublishedQuerySet.as_manager()
    # The name of the page's URL pattern, in the "knowledge" namespace.
    url_name = ""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        """The page in the current language, at its current slug (knowledge/slugs.py)."""
        from diplohub.knowledge.slugs import slug_of

        slug = slug_of(self, get_language() or settings.LANGUAGE_CODE) or f"item-{self.pk}"
        return reverse(f"knowledge:{self.url_name}", kwargs={"slug": slug})


# --- Managed vocabularies ----------------------------------------------------------


class Vocabulary(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        abstract = True
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.name


class InitiativeType(Vocabulary):
    """Type of initiative (e.g. policy, programme, platform, network, event series)."""

    class Meta(Vocabulary.Meta):
        verbose_name = _("type of initiative")
        verbose_name_plural = _("types of initiative")


class ResponseType(Vocabulary):
    """Other type of response (e.g. science advice, data sharing, international
    cooperation, public communication)."""

    class Meta(Vocabulary.Meta):
        verbose_name = _("other type of response")
        verbose_name_plural = _("other types of response")


# --- Initiatives ---------------------------------------------------------------------


class InitiativeStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ONGOING = "ongoing", _("Ongoing")
    COMPLETED = "completed", _("Completed")


class Initiative(Publishable):
    """An initiative of a local or regional government, as city networks publish them."""

    url_name = "initiative"

    government = models.CharField(
        _("local or regional government"),
        max_length=255,
        help_text=_("e.g. Barcelona City Council"),
    )
    city = models.CharField(_("city"), max_length=120)
    country = CountryField(_("country"), db_index=True)
    initiative_type = models.ForeignKey(
        InitiativeType,
        verbose_name=_("type of initiative"),
        on_delete=models.PROTECT,
        related_name="initiatives",
    )
    response_types = models.ManyToManyField(
        ResponseType, verbose_name=_("other types of response"), blank=True, related_name="+"
    )
    # The contact is an organisation and a role address, never a person's own e-mail.
    contact_organization = models.ForeignKey(
        Organization,
        verbose_name=_("contact organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact_for_initiatives",
    )
    contact_email = models.EmailField(
        _("contact address"),
        blank=True,
        help_text=_("A role address (e.g. international@city.example), not a person's own."),
    )
    languages = models.JSONField(
        _("languages of the initiative"),
        default=list,
        blank=True,
        help_text=_("ISO 639-1 codes, e.g. ['ca', 'es', 'en']."),
    )
    # [{"kind": "web" | "x" | "linkedin" | "mastodon" | "youtube" | "other", "url": "…"}]
    links = models.JSONField(_("web and social networks"), default=list, blank=True)
    start_date = models.DateField(pgettext_lazy("date it began", "started"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=InitiativeStatus.choices, blank=True
    )
    related_organizations = models.ManyToManyField(
        Organization,
        verbose_name=_("related organisations"),
        blank=True,
        related_name="initiatives",
    )
    # Imported from another hub's feed: where it came from, so the page links back.
    source_name = models.CharField(_("imported from"), max_length=200, blank=True)
    source_url = models.URLField(_("original address"), max_length=500, blank=True)
    source_id = models.CharField(max_length=200, blank=True, db_index=True)
    # A partner's submission: who proposed it (private, for the moderators only).
    submitted_by_name = models.CharField(max_length=200, blank=True)
    submitted_by_email = models.EmailField(blank=True)
    submitted_by_organization = models.CharField(max_length=255, blank=True)
    # Set whenever the texts or metadata change; the background job recomputes the
    # similar initiatives of those changed since their last computation.
    similar_computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("initiative")
        verbose_name_plural = _("initiatives")
        indexes = [  # the few due, found by the housekeeping job every minute
            models.Index(
                fields=["id"],
                condition=models.Q(similar_computed_at__isnull=True),
                name="initiative_similar_due",
            )
        ]
        ordering = ["-published_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_url", "source_id"],
                condition=~Q(source_id=""),
                name="one_initiative_per_source_item",
            ),
        ]


class Reference(models.Model):
    """One entry of an initiative's references, shown in order like footnotes."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="references")
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    outlet = models.CharField(_("outlet"), max_length=200)
    title = models.CharField(_("title"), max_length=300)
    date = models.DateField(_("date"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    url = models.URLField(_("address"), max_length=500)

    class Meta:
        verbose_name = _("reference")
        verbose_name_plural = _("references")
        ordering = ["initiative", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.outlet}: {self.title}"


IMAGE_TYPES = ["jpg", "jpeg", "png", "webp"]


class InitiativeImage(models.Model):
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(
        _("image"),
        upload_to="knowledge/initiatives/%Y/",
        validators=[FileExtensionValidator(IMAGE_TYPES)],
    )
    alt = models.CharField(
        _("text alternative"),
        max_length=300,
        help_text=_("What the image shows, for people who cannot see it."),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("image")
        verbose_name_plural = _("images")
        ordering = ["initiative", "position", "pk"]

    def __str__(self) -> str:
        return self.alt


class SimilarInitiative(models.Model):
    """One of an initiative's most similar initiatives, as the background job computed
    them (rank 1 is the closest)."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="similar")
    similar = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()

    class Meta:
        ordering = ["initiative", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["initiative", "rank"], name="one_similar_per_rank"),
            models.UniqueConstraint(fields=["initiative", "similar"], name="similar_once"),
            models.CheckConstraint(condition=~Q(similar=models.F("initiative")), name="not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.initiative_id} ~ {self.similar_id} ({self.score:.3f})"


# --- Scientific developments --------------------------------------------------------


class DevelopmentKind(models.TextChoices):
    PROJECT = "project", _("Research project")
    CLINICAL_TRIAL = "clinical_trial", _("Clinical trial")
    VACCINE = "vaccine", _("Vaccine")
    TREATMENT = "treatment", _("Treatment")
    DIAGNOSTIC = "diagnostic", _("Diagnostic")
    DATASET = "dataset", _("Dataset")
    FACILITY = "facility", _("Facility")


class Development(Publishable):
    """A scientific development from the city: a project, trial, vaccine, treatment,
    diagnostic, dataset or facility."""

    url_name = "development"

    kind = models.CharField(_("kind"), max_length=20, choices=DevelopmentKind.choices)
    lead_organization = models.ForeignKey(
        Organization,
        verbose_name=_("led by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_developments",
    )
    partners = models.ManyToManyField(
        Organization, verbose_name=_("partners"), blank=True, related_name="developments"
    )
    funding_programme = models.CharField(
        _("funding programme"), max_length=255, blank=True, help_text=_("e.g. Horizon 2020")
    )
    phase = models.CharField(
        _("phase or status"), max_length=120, blank=True, help_text=_("e.g. Phase II, recruiting")
    )
    start_date = models.DateField(pgettext_lazy("date it began", "started"), null=True, blank=True)
    links = models.JSONField(_("links"), default=list, blank=True)
    initiatives = models.ManyToManyField(
        Initiative, verbose_name=_("part of"), blank=True, related_name="developments"
    )

    class Meta:
        verbose_name = _("scientific development")
        verbose_name_plural = _("scientific developments")
        ordering = ["-published_at", "-pk"]


# --- Working groups and their publications ---------------------------------------------


class WorkingGroup(Publishable):
    """An international expert working group; `body` is its mandate."""

    url_name = "working-group"

    chair = models.ForeignKey(
        Person,
        verbose_name=_("chair"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chaired_working_groups",
    )
    members = models.ManyToManyField(
        Person, through="WorkingGroupMember", related_name="working_groups", blank=True
    )
    meetings = models.ManyToManyField(
        "events.Event", verbose_name=_("meetings"), blank=True, related_name="working_groups"
    )
    started = models.DateField(_("convened"), null=True, blank=True)

    class Meta:
        verbose_name = _("working group")
        verbose_name_plural = _("working groups")
        ordering = ["-started", "-pk"]


class WorkingGroupMember(models.Model):
    working_group = models.ForeignKey(
        WorkingGroup, on_delete=models.CASCADE, related_name="memberships"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("institution"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="working_group_members",
    )
    role = models.CharField(_("role"), max_length=120, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["working_group", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["working_group", "person"], name="member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.organization})"


class PublicationKind(models.TextChoices):
    BRIEF = "brief", _("Policy brief")
    REPORT = "report", _("Report")
    OPED = "op_ed", _("Op-ed")
    ARTICLE = "article", _("Article")


MAX_PUBLICATION_BYTES = 20 * 1024 * 1024


class Publication(Publishable):
    url_name = "publication"
    kind = models.CharField(_("kind"), max_length=10, choices=PublicationKind.choices)
    working_group = models.ForeignKey(
        WorkingGroup,
        verbose_name=_("working group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="publications",
    )
    authors = models.ManyToManyField(
        Person, verbose_name=_("authors in the directory"), blank=True, related_name="+"
    )
    authors_text = models.CharField(
        _("authors"),
        max_length=500,
        blank=True,
        help_text=_("As printed, e.g. 'A. Example et al.'"),
    )
    date = models.DateField(_("date"))
    language = models.CharField(_("language"), max_length=8)
    url = models.URLField(_("address"), max_length=500, blank=True)
    file = models.FileField(
        _("file (PDF)"),
        upload_to="knowledge/publications/%Y/",
        blank=True,
        validators=[FileExtensionValidator(["pdf"])],
    )

    class Meta:
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        ordering = ["-date", "-pk"]


# --- Press ------------------------------------------------------------------------------


class PressItem(Publishable):
    """Press coverage: the article's own title, outlet, date and address, linked to what
    it covers. `summary` is the hub's own one-line description; nothing is copied."""

    outlet = models.CharField(_("outlet"), max_length=200)
    date = models.DateField(_("date"))
    language = models.CharField(_("language"), max_length=8)
    url = models.URLField(_("address"), max_length=500)
    initiatives = models.ManyToManyField(
        Initiative, verbose_name=_("initiatives"), blank=True, related_name="press"
    )
    developments = models.ManyToManyField(
        Development, verbose_name=_("developments"), blank=True, related_name="press"
    )
    working_groups = models.ManyToManyField(
        WorkingGroup, verbose_name=_("working groups"), blank=True, related_name="press"
    )
    events = models.ManyToManyField(
        "events.Event", verbose_name=_("events"), blank=True, related_name="press"
    )

    class Meta:
        verbose_name = _("press item")
        verbose_name_plural = _("press")
        ordering = ["-date", "-pk"]

    def get_absolute_url(self) -> str:
        """Press items are read where they were published."""
        return self.url


# --- Addresses ----------------------------------------------------------------------------


class Slug(models.Model):
    """An item's address in one language. The current one is the newest; older ones
    stay to redirect, so a changed title never breaks a link."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    item = GenericForeignKey("content_type", "object_id")
    language = models.CharField(max_length=8, choices=settings.LANGUAGES)
    slug = models.SlugField(max_length=140, allow_unicode=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["content_type", "object_id", "language", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "language", "slug"], name="one_item_per_slug"
            ),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id", "language"], name="slug_of_item")
        ]

    def __str__(self) -> str:
        return f"{self.language}/{self.slug}"


# === SEARCH: the search index's own table (see search.py) ================================


class SearchKind(models.TextChoices):
    INITIATIVE = "initiative", _("Initiatives")
    DEVELOPMENT = "development", _("Scientific developments")
    PUBLICATION = "publication", _("Publications")
    PRESS = "press", _("Press")


class SearchDocument(models.Model):
    """One published catalogue item as the search filters and counts it: a narrow row,
    so that counting the values of a hundred thousand is a quick scan. Its texts are in
    `SearchText`. Written only by search.index_item / remove_item / reindex; derived
    data, so `diplohub search_reindex` can always make it again.

    `topics` and `languages` hold several values as "|health|climate|": filtered by
    substring, counted by grouping on the whole string (few distinct ones)."""

    kind = models.CharField(max_length=12, choices=SearchKind.choices)
    object_id = models.PositiveBigIntegerField()
    # The item's first language (the default one when it is written in it); for press,
    # the article's.
    language = models.CharField(max_length=8, blank=True)
    initiative_type = models.CharField(max_length=50, blank=True)  # slug
    country = models.CharField(max_length=2, blank=True)
    city = models.CharField(max_length=120, blank=True)
    # The item's own date (publication, article, start), else the day it was published.
    date = models.DateField()
    year = models.PositiveSmallIntegerField()
    topics = models.CharField(max_length=1000, blank=True)  # "|slug|slug|"
    languages = models.CharField(max_length=200, blank=True)  # "|ca|en|"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="one_document_per_item"),
        ]
        # One per facet: counting every document's values, or those of one filter,
        # reads an index instead of the table.
        indexes = [
            models.Index(fields=["-date", "-id"], name="search_newest_first"),
            models.Index(fields=["kind", "initiative_type", "year"], name="search_kind_type_year"),
            models.Index(fields=["country", "city"], name="search_country_city"),
            models.Index(fields=["city"], name="search_city"),
            models.Index(fields=["year"], name="search_year"),
            models.Index(fields=["initiative_type"], name="search_type"),
            models.Index(fields=["topics"], name="search_topics"),
            models.Index(fields=["languages"], name="search_languages"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"


class SearchText(models.Model):
    """A search document's own texts in each content language (plain text, nothing
    copied from another language), and what a result shows.

    The engines add what Django does not see: on PostgreSQL a tsvector per language
    (generated columns `tsv_en`, `tsv_es`, `tsv_ca` with GIN indexes, computed from the
    title and text columns, which therefore cannot change type without them); on SQLite
    the FTS5 table `knowledge_search_fts`, whose content is this table and whose rowid
    is the document's id (migration 0002_search).

    It also holds a copy of the document's facets: PostgreSQL reads the matches and
    what they are counted by from this one table (the join to the documents cost as
    much as finding the matches)."""

    document = models.OneToOneField(
        SearchDocument, on_delete=models.CASCADE, primary_key=True, related_name="text"
    )
    title_en = models.TextField(blank=True, default="")
    text_en = models.TextField(blank=True, default="")
    title_es = models.TextField(blank=True, default="")
    text_es = models.TextField(blank=True, default="")
    title_ca = models.TextField(blank=True, default="")
    text_ca = models.TextField(blank=True, default="")
    urls = models.JSONField(default=dict, blank=True)  # {"en": "/en/…", …}
    byline = models.CharField(max_length=300, blank=True)  # government, lead, authors, outlet
    digest = models.CharField(max_length=40)  # of everything indexed: unchanged items are skipped
    indexed_at = models.DateTimeField(auto_now=True)
    # The document's facets, copied (see above).
    kind = models.CharField(max_length=12, choices=SearchKind.choices)
    initiative_type = models.CharField(max_length=50, blank=True)
    country = models.CharField(max_length=2, blank=True)
    city = models.CharField(max_length=120, blank=True)
    date = models.DateField()
    year = models.PositiveSmallIntegerField()
    topics = models.CharField(max_length=1000, blank=True)
    languages = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return str(self.document_id)


# === end SEARCH ===========================================================================
