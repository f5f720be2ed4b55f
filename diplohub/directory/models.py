"""The directory: organisations on both sides of the hub, people, and the posts they hold.

People, posts and memberships follow the Popolo model: a Post (e.g. "Consul General of
Japan in Barcelona") exists independently of whoever holds it, and a Membership records
a person's tenure in a post. When an attaché rotates, the post, its history and its
relationships stay with the mission; only the membership changes.
"""

from __future__ import annotations

import datetime
import unicodedata
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import connections, models
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Collate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from diplohub.directory.regions import Region, countries_in_region, region_of

ROR_ID = RegexValidator(r"^0[a-z0-9]{6}[0-9]{2}$", _("A ROR id looks like 00k4n6c32."))
WIKIDATA_ID = RegexValidator(r"^Q[1-9][0-9]*$", _("A Wikidata id looks like Q1492."))


class Topic(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self) -> str:
        return self.name


class Sector(models.TextChoices):
    DIPLOMATIC = "diplomatic", _("Diplomatic")
    ACADEMIA = "academia", _("Academia")
    GOVERNMENT = "government", _("Government")
    PRIVATE = "private", _("Private sector")
    CIVIL_SOCIETY = "civil_society", _("Civil society")


class Kind(models.TextChoices):
    CONSULATE_GENERAL = "consulate_general", _("Consulate-general")
    CONSULATE = "consulate", _("Consulate")
    HONORARY_CONSULATE = "honorary_consulate", _("Honorary consulate")
    EMBASSY_OFFICE = "embassy_office", _("Embassy office")
    INTERNATIONAL_ORGANISATION = "international_organisation", _("International organisation")
    CITY_NETWORK = "city_network", _("City network")
    UNIVERSITY = "university", _("University")
    RESEARCH_CENTRE = "research_centre", _("Research centre")
    SCIENTIFIC_FACILITY = "scientific_facility", _("Scientific facility")
    COMPANY = "company", _("Company")
    PUBLIC_INSTITUTION = "public_institution", _("Public institution")
    FOUNDATION = "foundation", _("Foundation or NGO")
    BUSINESS_SCHOOL = "business_school", _("Business school")


# The diplomatic community: the consular corps plus embassy offices and the
# international bodies based in the city. Everything else is the ecosystem.
CONSULAR_KINDS = (Kind.CONSULATE_GENERAL, Kind.CONSULATE, Kind.HONORARY_CONSULATE)
DIPLOMATIC_KINDS = (
    *CONSULAR_KINDS,
    Kind.EMBASSY_OFFICE,
    Kind.INTERNATIONAL_ORGANISATION,
    Kind.CITY_NETWORK,
)
ECOSYSTEM_KINDS = tuple(k for k in Kind if k not in DIPLOMATIC_KINDS)

SECTOR_OF_KIND = {
    **{k: Sector.DIPLOMATIC for k in DIPLOMATIC_KINDS},
    Kind.UNIVERSITY: Sector.ACADEMIA,
    Kind.RESEARCH_CENTRE: Sector.ACADEMIA,
    Kind.SCIENTIFIC_FACILITY: Sector.ACADEMIA,
    Kind.BUSINESS_SCHOOL: Sector.ACADEMIA,
    Kind.COMPANY: Sector.PRIVATE,
    Kind.PUBLIC_INSTITUTION: Sector.GOVERNMENT,
    Kind.FOUNDATION: Sector.CIVIL_SOCIETY,
}


class ConsularClass(models.TextChoices):
    """Classes of consular post (Vienna Convention on Consular Relations, art. 9)."""

    CONSULATE_GENERAL = "consulate_general", _("Consulate-general")
    CONSULATE = "consulate", _("Consulate")
    VICE_CONSULATE = "vice_consulate", _("Vice-consulate")
    CONSULAR_AGENCY = "consular_agency", _("Consular agency")


CLASS_RANK = {
    ConsularClass.CONSULATE_GENERAL: 0,
    ConsularClass.CONSULATE: 1,
    ConsularClass.VICE_CONSULATE: 2,
    ConsularClass.CONSULAR_AGENCY: 3,
}


def precedence_key(
    *, kind: str, consular_class: str, exequatur_date: datetime.date | None, name: str
) -> tuple[int, int, datetime.date, str]:
    """Order of precedence of the consular corps.

    Career posts before honorary ones; within each, by class (consulate-general,
    consulate, vice-consulate, consular agency); then by date of recognition (the
    exequatur; posts without one come last in their class); then by name.
    """
    honorary = 1 if kind == Kind.HONORARY_CONSULATE else 0
    rank = CLASS_RANK.get(consular_class, len(CLASS_RANK))  # type: ignore[call-overload]
    return (honorary, rank, exequatur_date or datetime.date.max, sort_key(name))


class OrganizationQuerySet(models.QuerySet["Organization"]):
    def public(self) -> OrganizationQuerySet:
        return self.filter(is_public=True)

    def diplomatic(self) -> OrganizationQuerySet:
        return self.filter(kind__in=DIPLOMATIC_KINDS)

    def consular(self) -> OrganizationQuerySet:
        return self.filter(kind__in=CONSULAR_KINDS)

    def ecosystem(self) -> OrganizationQuerySet:
        return self.filter(kind__in=ECOSYSTEM_KINDS)

    def in_region(self, region: str) -> OrganizationQuerySet:
        return self.filter(country__in=countries_in_region(region))

    def search(self, text: str) -> OrganizationQuerySet:
        """Match the name, in any language, the acronym, or the country code."""
        text = text.strip()
        if not text:
            return self
        condition = Q(acronym__icontains=text)
        for code, _name in settings.LANGUAGES:
            condition |= Q(**{f"name_{code}__icontains": text})
        return self.filter(condition)

    def in_precedence_order(self) -> OrganizationQuerySet:
        """The database twin of precedence_key(), so lists can page in SQL."""
        class_rank = Case(
            *(When(consular_class=cls, then=Value(rank)) for cls, rank in CLASS_RANK.items()),
            default=Value(len(CLASS_RANK)),
            output_field=IntegerField(),
        )
        honorary = Case(
            When(kind=Kind.HONORARY_CONSULATE, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
        # Names compare code point by code point, as in Python, whatever the
        # database's own collation would do with spaces and punctuation.
        by_name = (
            Collate("sort_name", "C")
            if connections[self.db].vendor == "postgresql"
            else F("sort_name")
        )
        return self.annotate(_honorary=honorary, _class_rank=class_rank).order_by(
            "_honorary",
            "_class_rank",
            F("exequatur_date").asc(nulls_last=True),
            by_name,
            "pk",
        )


class Organization(models.Model):
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    sector = models.CharField(_("sector"), max_length=16, choices=Sector.choices)
    name = models.CharField(_("name"), max_length=255)
    # Lower-cased, accent-folded default-language name: the same sort on every database.
    sort_name = models.CharField(max_length=255, editable=False, db_index=True)
    acronym = models.CharField(_("acronym"), max_length=40, blank=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    country = CountryField(_("country"), blank=True, db_index=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    website = models.URLField(_("website"), max_length=300, blank=True)
    ror_id = models.CharField(
        _("ROR id"), max_length=9, blank=True, null=True, unique=True, validators=[ROR_ID]
    )
    wikidata_id = models.CharField(
        _("Wikidata id"),
        max_length=16,
        blank=True,
        null=True,
        unique=True,
        validators=[WIKIDATA_ID],
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    topics = models.ManyToManyField(
        Topic, verbose_name=_("topics"), blank=True, related_name="organizations"
    )
    consular_class = models.CharField(
        _("consular class"), max_length=20, choices=ConsularClass.choices, blank=True
    )
    exequatur_date = models.DateField(_("date of recognition (exequatur)"), null=True, blank=True)
    jurisdiction = models.CharField(_("consular district"), max_length=255, blank=True)
    is_public = models.BooleanField(_("shown on public pages"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["sort_name", "updated_at"])
    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["sort_name", "pk"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        indexes = [models.Index(fields=["kind", "sort_name"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        # A column derived from this row alone, not a side effect: kept in step here so
        # that every path that saves a name (admin, importer, API) sorts the same way.
        self.sort_name = sort_key(self.name)
        if not self.sector and self.kind:
            self.sector = SECTOR_OF_KIND[Kind(self.kind)]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("directory:organization", kwargs={"slug": self.slug})

    @property
    def is_diplomatic(self) -> bool:
        return self.kind in DIPLOMATIC_KINDS

    @property
    def is_career_post(self) -> bool:
        return self.kind in (Kind.CONSULATE_GENERAL, Kind.CONSULATE)

    @property
    def region(self) -> Region | None:
        return region_of(self.country.code) if self.country else None

    @property
    def website_domain(self) -> str:
        return domain_of(self.website)

    @property
    def map_url(self) -> str:
        """A link to OpenStreetMap, by coordinates when known, else by address."""
        if self.latitude is not None and self.longitude is not None:
            return (
                f"https://www.openstreetmap.org/?mlat={self.latitude}&mlon={self.longitude}"
                f"#map=17/{self.latitude}/{self.longitude}"
            )
        if self.address:
            return "https://www.openstreetmap.org/search?query=" + quote(
                f"{self.address}, {self.city}"
            )
        return ""

    def precedence_key(self) -> tuple[int, int, datetime.date, str]:
        return precedence_key(
            kind=self.kind,
            consular_class=self.consular_class,
            exequatur_date=self.exequatur_date,
            name=self.name,
        )


def sort_key(text: str) -> str:
    """Case- and accent-folded text, so "Àustria" sorts with "Austria" on every database."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def domain_of(url: str) -> str:
    host = (urlsplit(url).hostname or "") if url else ""
    return host.removeprefix("www.").lower()


class PersonQuerySet(models.QuerySet["Person"]):
    def search(self, text: str) -> PersonQuerySet:
        """Every word must match the given name, the family name or the e-mail."""
        people = self
        for word in text.split():
            people = people.filter(
                Q(given_name__icontains=word)
                | Q(family_name__icontains=word)
                | Q(email__icontains=word)
            )
        return people


class Person(models.Model):
    """A person. Their e-mail and phone are private: staff see them, public pages never."""

    honorific_prefix = models.CharField(
        _("honorific"), max_length=40, blank=True, help_text=_("e.g. H.E., Dr, Prof.")
    )
    given_name = models.CharField(_("given name"), max_length=120)
    family_name = models.CharField(_("family name"), max_length=120)
    form_of_address = models.CharField(
        _("form of address"),
        max_length=120,
        blank=True,
        help_text=_("How to address them in writing, e.g. 'Excmo. Sr.', 'Ms'."),
    )
    languages = models.JSONField(
        _("languages"), default=list, blank=True, help_text=_("ISO 639-1 codes, e.g. ['en', 'ja'].")
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "pk"]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def public_name(self) -> str:
        return " ".join(part for part in (self.honorific_prefix, self.name) if part)


class PostRole(models.TextChoices):
    HEAD_OF_MISSION = "head_of_mission", _("Head of mission")
    DEPUTY = "deputy", _("Deputy head")
    COUNSELLOR = "counsellor", _("Counsellor")
    ATTACHE = "attache", _("Attaché")
    OFFICER = "officer", _("Officer")
    DIRECTOR = "director", _("Director")
    CONTACT = "contact", _("Contact person")


class Post(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="posts", verbose_name=_("organisation")
    )
    label = models.CharField(
        _("title of the post"),
        max_length=200,
        help_text=_("e.g. Consul General of Japan in Barcelona"),
    )
    role = models.CharField(_("role"), max_length=20, choices=PostRole.choices)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "position", "pk"]
        verbose_name = _("post")
        verbose_name_plural = _("posts")

    def __str__(self) -> str:
        return self.label


class MembershipQuerySet(models.QuerySet["Membership"]):
    def current(self, on: datetime.date | None = None) -> MembershipQuerySet:
        on = on or timezone.localdate()
        return self.filter(Q(start_date__isnull=True) | Q(start_date__lte=on)).filter(
            Q(end_date__isnull=True) | Q(end_date__gt=on)
        )


class Membership(models.Model):
    """A person's tenure in a post (Popolo Membership)."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("person")
    )
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("post")
    )
    start_date = models.DateField(_("start"), null=True, blank=True)
    end_date = models.DateField(_("end"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["post", "-start_date", "pk"]
        verbose_name = _("tenure")
        verbose_name_plural = _("tenures")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="membership_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.post}"

    @property
    def organization(self) -> Organization:
        return self.post.organization
