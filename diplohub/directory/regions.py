"""World regions (continents) of the UN M49 standard, keyed by ISO 3166-1 alpha-2 code.

django-countries knows names but not regions; the five M49 regions change rarely
enough that a table is simpler than a dependency.
"""

from __future__ import annotations

from functools import cache

from django.db import models
from django.utils.translation import gettext_lazy as _


class Region(models.TextChoices):
    AFRICA = "africa", _("Africa")
    AMERICAS = "americas", _("Americas")
    ASIA = "asia", _("Asia")
    EUROPE = "europe", _("Europe")
    OCEANIA = "oceania", _("Oceania")


_MEMBERS = {
    Region.AFRICA: (
        "DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR "
        "LY MG MW ML MR MU YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD TZ TG TN UG EH "
        "ZM ZW IO TF"
    ),
    Region.AMERICAS: (
        "AI AG AR AW BS BB BZ BM BO BQ BV BR CA KY CL CO CR CU CW DM DO EC SV FK GF GL GD GP "
        "GT GY HT HN JM MQ MX MS NI PA PY PE PR BL KN LC MF PM VC SX GS SR TT TC US UM UY VE "
        "VG VI"
    ),
    Region.ASIA: (
        "AF AM AZ BH BD BT BN KH CN CY GE HK IN ID IR IQ IL JP JO KZ KW KG LA LB MO MY MV MN "
        "MM NP KP OM PK PS PH QA SA SG KR LK SY TW TJ TH TL TR TM AE UZ VN YE"
    ),
    Region.EUROPE: (
        "AX AL AD AT BY BE BA BG HR CZ DK EE FO FI FR DE GI GR GG VA HU IS IE IM IT JE LV "
        "LI LT LU MT MD MC ME NL MK NO PL PT RO RU SM RS SK SI ES SJ SE CH UA GB"
    ),
    Region.OCEANIA: (
        "AS AU CX CC CK FJ PF GU HM KI MH FM NR NC NZ NU NF MP PW PG PN WS SB TK TO TV VU WF"
    ),
}

_REGION_OF = {code: region for region, codes in _MEMBERS.items() for code in codes.split()}


def region_of(country_code: str) -> Region | None:
    return _REGION_OF.get(country_code.upper())


@cache
def countries_in_region(region: str) -> tuple[str, ...]:
    return tuple(_MEMBERS[Region(region)].split())
