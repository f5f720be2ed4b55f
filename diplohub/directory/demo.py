"""The Barcelona demo data set, built deterministically from diplohub/directory/data/."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from diplohub.directory.models import Membership, Organization, Person, Post, Topic

TOPICS = [
    ("health", "Health", "Salud", "Salut"),
    ("life-sciences", "Life sciences", "Ciencias de la vida", "Ciències de la vida"),
    ("hpc-ai", "HPC & AI", "Supercomputación e IA", "Supercomputació i IA"),
    (
        "climate",
        "Climate & earth sciences",
        "Clima y ciencias de la tierra",
        "Clima i ciències de la terra",
    ),
    ("energy", "Energy", "Energía", "Energia"),
    ("mobility", "Mobility", "Movilidad", "Mobilitat"),
    ("space", "Space", "Espacio", "Espai"),
    ("urban-innovation", "Urban innovation", "Innovación urbana", "Innovació urbana"),
]


def demo_is_loaded() -> bool:
    return Organization.objects.exists()


@transaction.atomic
def reset_demo() -> None:
    Membership.objects.all().delete()
    Post.objects.all().delete()
    Person.objects.all().delete()
    Organization.objects.all().delete()
    Topic.objects.all().delete()


@transaction.atomic
def build_demo(*, stdout: Any = None) -> str:
    for position, (slug, en, es, ca) in enumerate(TOPICS):
        Topic.objects.update_or_create(
            slug=slug, defaults={"name_en": en, "name_es": es, "name_ca": ca, "position": position}
        )
    return f"{Topic.objects.count()} topics"
