"""Directory page under load, against a bare Django view on the same server.

    .venv/bin/python bench/bench_directory.py [--organizations 1000] [--seconds 10]

Creates a PostgreSQL database (DATABASE_URL, default diplohub_bench on 127.0.0.1),
fills it with N organisations, serves the hub with gunicorn (two sync workers), and
drives it with wrk at 32 concurrent connections. Prints requests/s and latency for
each URL and the directory page's share of the bare view's throughput.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.webload import DEFAULT_PG, bench_env, gunicorn, manage, recreate_database, wrk

FILL = """
import random
from diplohub.directory.models import Kind, Organization, Topic, SECTOR_OF_KIND, sort_key
from diplohub.directory.regions import _REGION_OF
rng = random.Random(7)
topics = [Topic.objects.create(slug=f"topic-{i}", name_en=f"Topic {i}", name_es=f"Tema {i}",
          name_ca=f"Tema {i}") for i in range(8)]
countries = sorted(_REGION_OF)
kinds = list(Kind)
orgs = []
for i in range(__N__):
    kind = kinds[i % len(kinds)]
    name = f"Organisation {i:05d} of {countries[i % len(countries)]}"
    orgs.append(Organization(kind=kind, sector=SECTOR_OF_KIND[kind], name_en=name, name_es=name,
        name_ca=name, name=name, sort_name=sort_key(name), slug=f"org-{i}",
        country=countries[i % len(countries)], city="Barcelona",
        consular_class="consulate" if kind in ("consulate", "honorary_consulate") else ""))
Organization.objects.bulk_create(orgs, batch_size=500)
Through = Organization.topics.through
Through.objects.bulk_create([Through(organization_id=o.pk, topic_id=topics[o.pk % 8].pk)
                             for o in Organization.objects.only("pk")], batch_size=1000)
print(Organization.objects.count(), "organisations")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--organizations", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", DEFAULT_PG)
    if not database_url.startswith("postgres"):
        raise SystemExit("This benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    env = bench_env(database_url)
    recreate_database(database_url)
    manage(env, "migrate", "-v0")
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup()\n" + FILL.replace("__N__", str(args.organizations)),
        ],
        env=env,
        check=True,
    )

    pages = {
        "bare Django view": "/bench/bare",
        "diplomatic community": "/en/directory/diplomatic-community/",
        "ecosystem, filtered by region": "/en/directory/ecosystem/?region=europe",
        "organisation page": "/en/directory/org-42/",
    }
    print(
        f"\n{args.organizations} organisations, PostgreSQL, gunicorn 2 sync workers, "
        f"wrk {args.connections} connections for {args.seconds}s, "
        f"{platform.machine()}, {os.cpu_count()} cores\n"
    )
    results = {}
    with gunicorn(env, workers=2) as base:
        for label, path in pages.items():
            results[label] = wrk(base + path, connections=args.connections, seconds=args.seconds)
    bare = results["bare Django view"].requests_per_second
    print("| page | requests/s | p50 ms | p99 ms | errors | share of bare |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, load in results.items():
        share = load.requests_per_second / bare * 100
        print(
            f"| {label} | {load.requests_per_second:.0f} | {load.p50_ms:.1f} | {load.p99_ms:.1f} "
            f"| {load.errors} | {share:.0f} % |"
        )


if __name__ == "__main__":
    main()
