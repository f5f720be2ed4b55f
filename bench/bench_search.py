"""Search with filters over 100,000 generated catalogue items, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_search.py                  # SQLite, and PostgreSQL if DATABASE_URL
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_search.py
    .venv/bin/python bench/bench_search.py --items 20000 --searches 300 --only sqlite

For each database, in a process of its own: a fresh database (a new SQLite file; on
the server of DATABASE_URL a new `diplohub_bench_search`, the named database left
alone), migrated; N catalogue items generated in bulk (45 % initiatives, 15 %
developments, 15 % publications, 25 % press items; half written in one language, the
rest in two or three of en/es/ca; 1-3 of 12 topics; 60 countries, 240 cities, years
2000-2026; titles of 4-9 words, summaries of 20-40, bodies of 60-200 for all but press),
then `search.reindex()` timed, then the searches, timed in-process around
`search.search()` after 30 warm-up ones: a topical word (40 %), two words (40 %) or a
phrase of a topical and a common word (20 %), in the visitor's language (one in five in
English), with 1-3 filters drawn from the values the catalogue has, on page 1 (60 %),
2 (25 %) or 3-5. Then, reported apart: browsing with no words (filters only, and
nothing at all); the worst cases, a word nearly every item of a language has ("city":
the generator's 35 common words are in most of its texts) alone or two of them as a
phrase; and typical searches through the page with Django's test client (template
included). Prints figures; never asserts on
time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261201

# --- What the catalogue is made of ----------------------------------------------------------

# Per topic, the same ten words in English, Spanish and Catalan (inflected as they come).
TOPICS = {
    "health": (
        "health hospital patients vaccine vaccines treatment treatments trial trials doctors",
        "salud hospital pacientes vacuna vacunas tratamiento tratamientos ensayo ensayos médicos",
        "salut hospital pacients vacuna vacunes tractament tractaments assaig assajos metges",
    ),
    "climate": (
        "climate emissions adaptation heat carbon warming resilience drought adaptation floods",
        "clima emisiones adaptación calor carbono calentamiento resiliencia sequía adaptación"
        " inundaciones",
        "clima emissions adaptació calor carboni escalfament resiliència sequera adaptació"
        " inundacions",
    ),
    "energy": (
        "energy solar renewable grid batteries hydrogen efficiency power wind storage",
        "energía solar renovable red baterías hidrógeno eficiencia electricidad viento"
        " almacenamiento",
        "energia solar renovable xarxa bateries hidrogen eficiència electricitat vent"
        " emmagatzematge",
    ),
    "mobility": (
        "mobility transport bicycles buses streets traffic metro cycling parking commuters",
        "movilidad transporte bicicletas autobuses calles tráfico metro ciclismo aparcamiento"
        " viajeros",
        "mobilitat transport bicicletes autobusos carrers trànsit metro ciclisme aparcament"
        " viatgers",
    ),
    "water": (
        "water rivers sanitation reuse rainfall aquifers desalination pipes leaks quality",
        "agua ríos saneamiento reutilización lluvia acuíferos desalinización tuberías fugas"
        " calidad",
        "aigua rius sanejament reutilització pluja aqüífers dessalinització canonades fuites"
        " qualitat",
    ),
    "digital": (
        "digital data platform software open connectivity broadband services cybersecurity apps",
        "digital datos plataforma software abierto conectividad banda servicios"
        " ciberseguridad aplicaciones",
        "digital dades plataforma programari obert connectivitat banda serveis ciberseguretat"
        " aplicacions",
    ),
    "ai": (
        "artificial intelligence algorithms models machine learning ethics automation"
        " supercomputing datasets",
        "inteligencia artificial algoritmos modelos aprendizaje automático ética automatización"
        " supercomputación conjuntos",
        "intel·ligència artificial algorismes models aprenentatge automàtic ètica automatització"
        " supercomputació conjunts",
    ),
    "space": (
        "space satellites observation orbit launch telescope astronomy navigation earth imagery",
        "espacio satélites observación órbita lanzamiento telescopio astronomía navegación"
        " tierra imágenes",
        "espai satèl·lits observació òrbita llançament telescopi astronomia navegació terra"
        " imatges",
    ),
    "oceans": (
        "ocean marine coast fisheries plastics biodiversity ports seas coral sediments",
        "océano marino costa pesca plásticos biodiversidad puertos mares coral sedimentos",
        "oceà marí costa pesca plàstics biodiversitat ports mars corall sediments",
    ),
    "education": (
        "education schools students teachers universities training skills scholarships"
        " curriculum learning",
        "educación escuelas estudiantes profesores universidades formación habilidades becas"
        " currículo aprendizaje",
        "educació escoles estudiants professors universitats formació habilitats beques"
        " currículum aprenentatge",
    ),
    "food": (
        "food agriculture farmers crops nutrition markets urban gardens waste seeds",
        "alimentación agricultura agricultores cultivos nutrición mercados urbanos huertos"
        " residuos semillas",
        "alimentació agricultura pagesos conreus nutrició mercats urbans horts residus llavors",
    ),
    "diplomacy": (
        "diplomacy consulates embassies cooperation agreements partnership summit missions"
        " networks dialogue",
        "diplomacia consulados embajadas cooperación acuerdos asociación cumbre misiones"
        " redes diálogo",
        "diplomàcia consolats ambaixades cooperació acords associació cimera missions xarxes"
        " diàleg",
    ),
}
GENERAL = (
    "city cities council citizens research science innovation project programme policy"
    " international public local regional global network centre evidence experts results"
    " strategy pilot impact community partners funding europe development study report"
    " knowledge best practice new open",
    "ciudad ciudades ayuntamiento ciudadanos investigación ciencia innovación proyecto"
    " programa política internacional pública local regional global red centro evidencia"
    " expertos resultados estrategia piloto impacto comunidad socios financiación europa"
    " desarrollo estudio informe conocimiento buenas prácticas nueva abierta",
    "ciutat ciutats ajuntament ciutadans recerca ciència innovació projecte programa"
    " política internacional pública local regional global xarxa centre evidència experts"
    " resultats estratègia pilot impacte comunitat socis finançament europa desenvolupament"
    " estudi informe coneixement bones pràctiques nova oberta",
)
FUNCTION = (
    "the of and in to for with a on by from",
    "el la de y en para con un una por los las del",
    "el la de i a per amb un una dels les del els",
)
LANGUAGES = ("en", "es", "ca")


def _split(text: str) -> list[str]:
    return text.split()


COUNTRIES = _split(
    "ES FR DE IT PT GB IE NL BE LU AT CH DK SE NO FI PL CZ SK HU RO BG GR HR SI RS EE LV LT"
    " US CA MX BR AR CL CO PE UY EC JP KR CN IN ID SG MY TH VN PH AU NZ ZA NG KE EG MA TN"
    " IL TR AE SA"
)
INITIATIVE_TYPES = _split(
    "platform programme policy network event-series observatory fund strategy"
)


def words_of(language: str) -> tuple[list[str], dict[str, list[str]], list[str]]:
    index = LANGUAGES.index(language)
    general = GENERAL[index].split()
    topic_words = {slug: words[index].split() for slug, words in TOPICS.items()}
    return general, topic_words, FUNCTION[index].split()


VOCABULARY = {language: words_of(language) for language in LANGUAGES}


def sentence(rng: random.Random, language: str, topics: list[str], length: int) -> str:
    general, topic_words, function = VOCABULARY[language]
    out = []
    for position in range(length):
        roll = rng.random()
        if position % 3 == 1 and roll < 0.6:
            out.append(rng.choice(function))
        elif roll < 0.45:
            out.append(rng.choice(topic_words[rng.choice(topics)]))
        else:
            out.append(rng.choice(general))
    text = " ".join(out)
    return text[:1].upper() + text[1:]


def paragraph(rng: random.Random, language: str, topics: list[str], words: int) -> str:
    parts, left = [], words
    while left > 0:
        length = min(left, rng.randint(8, 18))
        parts.append(sentence(rng, language, topics, length) + ".")
        left -= length
    return " ".join(parts)


def item_languages(rng: random.Random) -> list[str]:
    roll = rng.random()
    first = rng.choices(LANGUAGES, weights=(50, 25, 25))[0]
    if roll < 0.5:
        return [first]
    others = [code for code in LANGUAGES if code != first]
    return [first, *rng.sample(others, 2 if roll > 0.85 else 1)]


# --- In the child process: build, index, search ----------------------------------------------


def generate(items: int) -> dict[str, float]:
    import datetime

    from django.db import connection
    from django.utils import timezone

    from diplohub.directory.models import Kind, Organization, Topic
    from diplohub.knowledge.models import (
        Development,
        Initiative,
        InitiativeType,
        PressItem,
        Publication,
        PublicationState,
    )

    rng = random.Random(SEED)
    started = time.perf_counter()
    topics = {
        slug: Topic.objects.create(slug=slug, name_en=slug.title(), name_es=slug, name_ca=slug)
        for slug in TOPICS
    }
    types = {
        slug: InitiativeType.objects.create(slug=slug, name_en=slug.replace("-", " ").title())
        for slug in INITIATIVE_TYPES
    }
    cities = [(f"City {n:03d}", COUNTRIES[n % len(COUNTRIES)]) for n in range(240)]
    labs = Organization.objects.bulk_create(
        Organization(
            kind=Kind.RESEARCH_CENTRE,
            name=f"Research Centre {n}",
            slug=f"research-centre-{n}",
            country=cities[n % 40][1],
            city=cities[n % 40][0],
        )
        for n in range(200)
    )
    published = timezone.now()
    counts = {
        "initiative": int(items * 0.45),
        "development": int(items * 0.15),
        "publication": int(items * 0.15),
    }
    counts["press"] = items - sum(counts.values())
    batch = 2000

    def texts(languages: list[str], chosen: list[str], *, body: bool) -> dict[str, str]:
        fields: dict[str, str] = {}
        for code in languages:
            fields[f"title_{code}"] = sentence(rng, code, chosen, rng.randint(4, 9))
            fields[f"summary_{code}"] = paragraph(rng, code, chosen, rng.randint(20, 40))
            if body:
                fields[f"body_{code}"] = paragraph(rng, code, chosen, rng.randint(60, 200))
        return fields

    def day() -> datetime.date:
        return datetime.date(rng.randint(2000, 2026), rng.randint(1, 12), rng.randint(1, 28))

    through_rows: dict[type, list] = {}

    def make(model, kind: str, build) -> None:  # type: ignore[no-untyped-def]
        made = 0
        through = model.topics.through
        column = f"{model._meta.model_name}_id"
        rows = through_rows.setdefault(model, [])
        while made < counts[kind]:
            size = min(batch, counts[kind] - made)
            objects, chosen_topics = [], []
            for _ in range(size):
                chosen = rng.sample(list(TOPICS), rng.choice((1, 1, 2, 2, 3)))
                objects.append(build(chosen))
                chosen_topics.append(chosen)
            created = model.objects.bulk_create(objects)
            for obj, chosen in zip(created, chosen_topics, strict=True):
                rows.extend(through(**{column: obj.pk, "topic_id": topics[t].pk}) for t in chosen)
            made += size
        through.objects.bulk_create(rows, batch_size=5000)

    def initiative(chosen: list[str]) -> Initiative:
        languages = item_languages(rng)
        city, country = rng.choice(cities)
        return Initiative(
            **texts(languages, chosen, body=True),
            government=f"{city} Council",
            city=city,
            country=country,
            initiative_type=types[rng.choice(INITIATIVE_TYPES)],
            languages=languages,
            start_date=day(),
            state=PublicationState.PUBLISHED,
            published_at=published,
        )

    def development(chosen: list[str]) -> Development:
        return Development(
            **texts(item_languages(rng), chosen, body=True),
            kind=rng.choice(["project", "clinical_trial", "vaccine", "dataset", "facility"]),
            lead_organization=rng.choice(labs),
            start_date=day(),
            state=PublicationState.PUBLISHED,
            published_at=published,
        )

    def publication(chosen: list[str]) -> Publication:
        languages = item_languages(rng)
        return Publication(
            **texts(languages, chosen, body=True),
            kind=rng.choice(["brief", "report", "op_ed", "article"]),
            authors_text="A. Example et al.",
            date=day(),
            language=languages[0],
            state=PublicationState.PUBLISHED,
            published_at=published,
        )

    def press(chosen: list[str]) -> PressItem:
        language = rng.choices(LANGUAGES, weights=(40, 30, 30))[0]
        notes = {
            f"summary_{code}": paragraph(rng, code, chosen, rng.randint(12, 25))
            for code in item_languages(rng)
        }
        return PressItem(
            title=sentence(rng, language, chosen, rng.randint(6, 12)),
            **notes,
            outlet=f"Outlet {rng.randint(1, 150)}",
            date=day(),
            language=language,
            url=f"https://news.example/{rng.randint(1, 10**9)}",
            state=PublicationState.PUBLISHED,
            published_at=published,
        )

    make(Initiative, "initiative", initiative)
    make(Development, "development", development)
    make(Publication, "publication", publication)
    make(PressItem, "press", press)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"generate_s": time.perf_counter() - started, **{k: float(v) for k, v in counts.items()}}


def workload(
    rng: random.Random, facets: dict[str, list[str]], n: int, *, worst: bool = False
) -> list[dict]:
    """Typical searches: a topical word, two words or a phrase, 1-3 filters, pages 1-5.
    `worst`: words nearly every item of a language has, alone or as a phrase."""
    searches = []
    for _ in range(n):
        language = rng.choice(LANGUAGES)
        typed = language if rng.random() < 0.8 else "en"
        general, topic_words, _function = VOCABULARY[typed]
        topic = rng.choice(list(TOPICS))
        roll = rng.random()
        if worst and roll < 0.5:
            shape, query = "one common word", rng.choice(general)
        elif worst:
            shape, query = (
                "phrase of two common words",
                f'"{rng.choice(general)} {rng.choice(general)}"',
            )
        elif roll < 0.4:
            shape, query = "one word", rng.choice(topic_words[topic])
        elif roll < 0.8:
            shape = "two words"
            query = f"{rng.choice(topic_words[topic])} {rng.choice(general + topic_words[topic])}"
        else:
            shape = "phrase"
            query = f'"{rng.choice(topic_words[topic])} {rng.choice(general)}"'
        chosen: dict[str, list[str]] = {}
        for facet in rng.sample(list(facets), rng.choice((1, 1, 2, 2, 3))):
            chosen[facet] = [rng.choice(facets[facet])]
        page = rng.choices((1, 2, 3, 4, 5), weights=(60, 25, 5, 5, 5))[0]
        searches.append(
            {"shape": shape, "query": query, "language": language, "filters": chosen, "page": page}
        )
    return searches


def percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "n": len(ordered),
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def child(database_url: str, items: int, searches: int, page_searches: int) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DIPLOHUB_INSECURE_DEMO", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diplohub.settings")
    os.environ["DIPLOHUB_PAGE_CACHE_SECONDS"] = "0"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from diplohub.knowledge import search

    call_command("migrate", verbosity=0)
    report: dict = {"vendor": connection.vendor}
    report.update(generate(items))

    started = time.perf_counter()
    report["documents"] = search.reindex(batch_size=2000)
    report["reindex_s"] = time.perf_counter() - started
    report["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE knowledge_searchdocument")
            cursor.execute("SELECT pg_total_relation_size('knowledge_searchdocument')")
            report["index_mb"] = cursor.fetchone()[0] / 2**20
        else:
            cursor.execute("PRAGMA optimize")
            report["database_mb"] = Path(connection.settings_dict["NAME"]).stat().st_size / 2**20

    everything = search.search(query="", language="en")
    facets = {facet.name: [value.value for value in facet.values] for facet in everything.facets}
    rng = random.Random(SEED)
    warm_up = workload(rng, facets, 30)
    typical = workload(rng, facets, searches)
    for s in warm_up:
        search.search(
            query=s["query"], language=s["language"], filters=s["filters"], page=s["page"]
        )

    times: dict[str, list[float]] = {}
    hits: list[int] = []
    for s in typical:
        started = time.perf_counter()
        results = search.search(
            query=s["query"], language=s["language"], filters=s["filters"], page=s["page"]
        )
        elapsed = time.perf_counter() - started
        times.setdefault("all typical", []).append(elapsed)
        times.setdefault(s["shape"], []).append(elapsed)
        times.setdefault(f"{len(s['filters'])} filter(s)", []).append(elapsed)
        hits.append(results.total)
    report["typical"] = {name: percentiles(found) for name, found in times.items()}
    report["matches_median"] = statistics.median(hits)
    report["matches_p95"] = sorted(hits)[int(len(hits) * 0.95) - 1]
    report["matches_max"] = max(hits)

    browse: dict[str, list[float]] = {}
    for s in typical[:100]:
        started = time.perf_counter()
        search.search(query="", language=s["language"], filters=s["filters"], page=s["page"])
        browse.setdefault("no words, 1-3 filters", []).append(time.perf_counter() - started)
    for s in typical[:30]:
        started = time.perf_counter()
        search.search(query="", language=s["language"], page=s["page"])
        browse.setdefault("no words, no filters (all items)", []).append(
            time.perf_counter() - started
        )
    for s in workload(rng, facets, 60, worst=True):
        started = time.perf_counter()
        search.search(
            query=s["query"], language=s["language"], filters=s["filters"], page=s["page"]
        )
        browse.setdefault(s["shape"], []).append(time.perf_counter() - started)
    report["browse"] = {name: percentiles(found) for name, found in browse.items()}

    client = Client()
    page_times = []
    for s in typical[:page_searches]:
        params: dict = {"q": s["query"], "page": s["page"], **s["filters"]}
        started = time.perf_counter()
        answer = client.get(f"/{s['language']}/knowledge/search/", params)
        page_times.append(time.perf_counter() - started)
        assert answer.status_code == 200
    report["page"] = percentiles(page_times)
    print("RESULT " + json.dumps(report), flush=True)


def run(label: str, database_url: str, args: argparse.Namespace) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [
        sys.executable,
        __file__,
        "--child",
        database_url,
        str(args.items),
        str(args.searches),
        str(args.page_searches),
    ]
    result = subprocess.run(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    report = json.loads(line[len("RESULT ") :])
    size = (
        f"index table {report['index_mb']:.0f} MB"
        if "index_mb" in report
        else f"database file {report['database_mb']:.0f} MB"
    )
    print(
        f"\n{label}: {report['documents']:,} items indexed; generated in "
        f"{report['generate_s']:.0f} s, search_reindex {report['reindex_s']:.0f} s, "
        f"peak RSS {report['peak_rss_mb']:.0f} MB, {size}"
    )
    print(
        f"  matches per typical search: median {report['matches_median']:,.0f}, "
        f"p95 {report['matches_p95']:,}, max {report['matches_max']:,}"
    )
    print(f"  {'search()':<36} {'n':>5} {'p50':>9} {'p95':>9} {'max':>9}")
    for section in ("typical", "browse"):
        for name, figures in report[section].items():
            print(
                f"  {name:<36} {figures['n']:>5} {figures['p50_ms']:>7.1f}ms "
                f"{figures['p95_ms']:>7.1f}ms {figures['max_ms']:>7.1f}ms"
            )
    figures = report["page"]
    print(
        f"  {'the page (test client), typical':<36} {figures['n']:>5} "
        f"{figures['p50_ms']:>7.1f}ms {figures['p95_ms']:>7.1f}ms {figures['max_ms']:>7.1f}ms"
    )


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--page-searches", type=int, default=100)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--keep", metavar="DIR", help="keep the SQLite database in DIR")
    args = parser.parse_args()
    print(f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}")
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}; {args.items:,} items")
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or scratch
        if args.only != "postgresql":
            Path(folder, "bench.sqlite3").unlink(missing_ok=True)
            run("SQLite", f"sqlite:///{folder}/bench.sqlite3", args)
        database_url = os.environ.get("DATABASE_URL", "")
        if args.only != "sqlite" and database_url.startswith("postgres"):
            from bench.webload import recreate_database

            bench_url = database_url.rsplit("/", 1)[0] + "/diplohub_bench_search"
            recreate_database(bench_url)
            run("PostgreSQL", bench_url, args)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
