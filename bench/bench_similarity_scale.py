"""Similar initiatives at 100,000 initiatives: recomputing all, and one item's update.

    .venv/bin/python bench/bench_similarity_scale.py                 # SQLite and PostgreSQL
    .venv/bin/python bench/bench_similarity_scale.py --items 20000 --only sqlite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/...

1. Generates N published initiatives in a fresh database (a temporary SQLite file, and
   `diplohub_bench_similar` on the PostgreSQL server of DATABASE_URL, default the
   local one): six languages (a third English, the rest Spanish, Catalan, French,
   Portuguese, Italian; the non-column languages in the default column, as imported
   initiatives are), one in seven with an English translation too, 400 subjects of
   uneven size, each with words of the lexicon (they meet across languages) and words
   of its own language; a title, a 30-word summary and a 100-word body; 1 to 3 of 14
   topics, one of 8 types, 0 to 2 of 8 responses, one of 60 countries. The rows are
   written with bulk inserts (not timed).
2. Runs `diplohub similar_recompute --json` in a process of its own (wall time, its
   stages, its peak RSS).
3. In another process: builds the index (the first use in a worker), then changes 50
   initiatives one by one as an editor would (new title and summary, similar_computed_at
   cleared) and times `similar_refresh` for each: the sync with the database, the
   item's new list, and those of the initiatives its change affects, written. Then one
   compaction (the rebuild of the matrix that every 1 % of changes costs).

Prints figures; never asserts on time.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432/postgres"
LANGUAGES = ["en"] * 5 + ["es"] * 3 + ["ca"] * 2 + ["fr"] * 2 + ["pt"] * 2 + ["it"] * 1


def _split(text: str) -> list[str]:
    return text.split()


COUNTRIES = _split(
    "ES FR IT PT GB DE NL BE CH AT SE NO DK FI IE PL CZ GR RO HU US CA MX BR AR CL CO PE "
    "UY EC JP CN KR SG IN ID TH VN PH MY AU NZ ZA KE NG EG MA TN GH SN ET TR IL AE SA QA "
    "JO LB"
)
TOPICS = 14
TYPES = 8
RESPONSES = 8
SUBJECTS = 400
SYLLABLES = _split(
    "ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo ga ge gi go la le li lo lu ma "
    "me mi mo mu na ne ni no nu pa pe pi po ra re ri ro ru sa se si so ta te ti to tu va ve "
    "vi vo za"
)
FUNCTION = {
    "en": _split("the of and in for with to on a by from its their this that"),
    "es": _split("el la los las de del y en para con por un una su sus que"),
    "ca": _split("el la els les de del i en per amb un una seu seva que"),
    "fr": _split("le la les de des du et en pour avec par un une son sa que"),
    "pt": _split("o a os as de do da e em para com por um uma seu que"),
    "it": _split("il la i le di del della e in per con da un una suo che"),
}


def pseudo(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(syllables))


def vocabulary(rng: random.Random) -> tuple[list[dict[str, list[str]]], dict[str, list[str]]]:
    """Per subject, per language, its words; and each language's generic words."""
    from diplohub.knowledge import similarity_text

    concepts = list(
        similarity_text.parse_lexicon(
            similarity_text.LEXICON_FILE.read_text(encoding="utf-8")
        ).values()
    )
    subjects = []
    for _ in range(SUBJECTS):
        chosen = rng.sample(concepts, 10)
        own = {code: [pseudo(rng, rng.randint(3, 4)) for _ in range(15)] for code in FUNCTION}
        words = {}
        for code in FUNCTION:
            shared = [rng.choice(c.get(code) or c.get("en") or ["data"]) for c in chosen]
            words[code] = shared + own[code]
        subjects.append(words)
    generic = {code: [pseudo(rng, rng.randint(2, 4)) for _ in range(GENERIC)] for code in FUNCTION}
    return subjects, generic


GENERIC = 20_000  # each language's ordinary words, used with Zipf's law (rank r: 1/r)
_ZIPF = list(itertools.accumulate(1 / (rank + 1) for rank in range(GENERIC)))


def sentence(
    rng: random.Random,
    code: str,
    subject: dict[str, list[str]],
    generic: dict[str, list[str]],
    n: int,
) -> str:
    words = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.35:
            words.append(rng.choice(subject[code]))
        elif roll < 0.65:
            words.append(rng.choice(FUNCTION[code]))
        elif roll < 0.97:
            at = bisect.bisect(_ZIPF, rng.random() * _ZIPF[-1])
            words.append(generic[code][min(at, GENERIC - 1)])
        else:
            words.append(pseudo(rng, 5))  # a name, a place: seen once
    return " ".join(words).capitalize() + "."


def generate(items: int, seed: int = 5) -> None:
    from django.conf import settings
    from django.db import transaction

    from diplohub.directory.models import Topic
    from diplohub.knowledge.models import (
        Initiative,
        InitiativeType,
        PublicationState,
        ResponseType,
    )

    rng = random.Random(seed)
    subjects, generic = vocabulary(rng)
    types = [
        InitiativeType.objects.create(slug=f"type-{i}", name=f"Type {i}") for i in range(TYPES)
    ]
    responses = [
        ResponseType.objects.create(slug=f"response-{i}", name=f"Response {i}")
        for i in range(RESPONSES)
    ]
    topics = [Topic.objects.create(slug=f"topic-{i}", name=f"Topic {i}") for i in range(TOPICS)]
    weights = [1 / (rank + 1) ** 0.7 for rank in range(SUBJECTS)]
    default = settings.LANGUAGE_CODE
    topic_rows, response_rows = Initiative.topics.through, Initiative.response_types.through
    started = time.perf_counter()
    batch = 2000
    for start in range(0, items, batch):
        rows, meta = [], []
        for _ in range(start, min(items, start + batch)):
            s = rng.choices(range(SUBJECTS), weights)[0]
            code = rng.choice(LANGUAGES)
            versions = [code] + (["en"] if code != "en" and rng.random() < 1 / 7 else [])
            fields = {}
            for version in versions:
                column = version if version in ("en", "es", "ca") else default
                fields[f"title_{column}"] = sentence(rng, version, subjects[s], generic, 8)[:300]
                fields[f"summary_{column}"] = sentence(rng, version, subjects[s], generic, 30)
                fields[f"body_{column}"] = " ".join(
                    sentence(rng, version, subjects[s], generic, 20) for _ in range(5)
                )
            rows.append(
                Initiative(
                    government="Bench City",
                    city="Bench City",
                    country=rng.choice(COUNTRIES),
                    initiative_type=types[
                        s % TYPES if rng.random() < 0.7 else rng.randrange(TYPES)
                    ],
                    languages=versions,
                    state=PublicationState.PUBLISHED,
                    **fields,
                )
            )
            own = {s % TOPICS, (s * 7) % TOPICS}
            picked = sorted(own if rng.random() < 0.8 else {rng.randrange(TOPICS)})
            meta.append(
                (picked[: rng.randint(1, 3)], rng.sample(range(RESPONSES), rng.randint(0, 2)))
            )
        with transaction.atomic():
            created = Initiative.objects.bulk_create(rows)
            topic_rows.objects.bulk_create(
                topic_rows(initiative_id=i.pk, topic_id=topics[t].pk)
                for i, (ts, _rs) in zip(created, meta, strict=True)
                for t in ts
            )
            response_rows.objects.bulk_create(
                response_rows(initiative_id=i.pk, responsetype_id=responses[r].pk)
                for i, (_ts, rs) in zip(created, meta, strict=True)
                for r in rs
            )
        print(f"  generated {min(items, start + batch)}/{items}", end="\r", file=sys.stderr)
    print(f"  generated {items} initiatives in {time.perf_counter() - started:.0f} s (not timed)")


def setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DIPLOHUB_INSECURE_DEMO", "1")
    os.environ.setdefault("DIPLOHUB_ENV_FILE", str(ROOT / "demo.env"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diplohub.settings")
    import django

    django.setup()


def child_generate(database_url: str, items: int) -> None:
    setup(database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    generate(items)


def child_update(database_url: str, changes: int) -> None:
    setup(database_url)
    from django.db.models.functions import Now

    from diplohub.knowledge import similarity
    from diplohub.knowledge.models import Initiative
    from diplohub.knowledge.services import similar_refresh

    started = time.perf_counter()
    index = similarity.get_index()
    built = time.perf_counter() - started
    print(
        f"RESULT build_s={built:.2f} items={len(index.items)} rss_mb={similarity.peak_rss_mb():.0f}"
    )
    rng = random.Random(11)
    pks = list(Initiative.objects.values_list("pk", flat=True))
    chosen = rng.sample(pks, changes)
    donors = rng.sample(pks, changes)
    times, related = [], []
    for pk, donor in zip(chosen, donors, strict=True):
        # The editor gives it another subject (the texts of another initiative).
        source = Initiative.objects.get(pk=donor)
        Initiative.objects.filter(pk=pk).update(
            title_en=source.title_en or source.title_es or source.title_ca,
            summary_en=source.summary_en or source.summary_es or source.summary_ca,
            updated_at=Now(),
            similar_computed_at=None,
        )
        initiative = Initiative.objects.get(pk=pk)
        step = time.perf_counter()
        report = similarity.refresh([initiative.pk], related=True)
        times.append(time.perf_counter() - step)
        related.append(len(report.refreshed))
    step = time.perf_counter()
    similar_refresh(initiative=Initiative.objects.get(pk=chosen[0]))  # nothing changed since
    again = time.perf_counter() - step
    step = time.perf_counter()
    index.compact()
    compaction = time.perf_counter() - step
    times_ms = sorted(t * 1000 for t in times)
    print(
        "RESULT "
        f"changes={changes} median_ms={statistics.median(times_ms):.0f} "
        f"p90_ms={times_ms[int(len(times_ms) * 0.9) - 1]:.0f} max_ms={times_ms[-1]:.0f} "
        f"min_ms={times_ms[0]:.0f} lists_written_median={statistics.median(related):.0f} "
        f"lists_written_max={max(related)} unchanged_again_ms={again * 1000:.0f} "
        f"compaction_ms={compaction * 1000:.0f} peak_rss_mb={similarity.peak_rss_mb():.0f}",
        flush=True,
    )


def spawn(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, __file__, *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return result.stdout


def figures(output: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in output.splitlines():
        if line.startswith("RESULT"):
            found.update(part.split("=", 1) for part in line.split()[1:])
    return found


def bench(label: str, database_url: str, items: int, changes: int) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), DATABASE_URL=database_url)
    env.setdefault("DIPLOHUB_ENV_FILE", str(ROOT / "demo.env"))
    print(f"\n{label}: {items} initiatives")
    print(spawn("--child-generate", database_url, str(items), env=env).strip())
    started = time.perf_counter()
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "diplohub"), "similar_recompute", "--json"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    report = json.loads(result.stdout.strip().splitlines()[-1])
    seconds = report["seconds"]
    print(
        f"  recompute all: {wall:.1f} s wall for the command (inside: read and analyse "
        f"{seconds['read']} s, compute {seconds['compute']} s, write {seconds['write']} s); "
        f"{report['initiatives']} lists, {report['rows']} rows; peak RSS "
        f"{report['peak_rss_mb']:.0f} MB"
    )
    f = figures(spawn("--child-update", database_url, str(changes), env=env))
    print(
        f"  index built in {f['build_s']} s ({f['items']} items, RSS {f['rss_mb']} MB); "
        f"one item's update over {f['changes']} changes: median {f['median_ms']} ms, "
        f"p90 {f['p90_ms']} ms, max {f['max_ms']} ms (min {f['min_ms']} ms), lists written "
        f"per update: median {f['lists_written_median']}, max {f['lists_written_max']}; "
        f"an unchanged item again {f['unchanged_again_ms']} ms; one compaction "
        f"{f['compaction_ms']} ms; peak RSS {f['peak_rss_mb']} MB"
    )


def main() -> None:
    if sys.argv[1:2] == ["--child-generate"]:
        child_generate(sys.argv[2], int(sys.argv[3]))
        return
    if sys.argv[1:2] == ["--child-update"]:
        child_update(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    load = os.getloadavg()
    print(
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs; load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            bench("SQLite", f"sqlite:///{folder}/similar.sqlite3", args.items, args.changes)
    if args.only in (None, "postgresql"):
        from bench.webload import recreate_database

        url = os.environ.get("DATABASE_URL") or PG
        bench_url = url.rsplit("/", 1)[0] + "/diplohub_bench_similar"
        recreate_database(bench_url)
        bench("PostgreSQL", bench_url, args.items, args.changes)
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
