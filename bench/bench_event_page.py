"""Public programme pages under load, against a bare Django view on the same server.

    .venv/bin/python bench/bench_event_page.py [--seconds 10] [--connections 32]

Creates a PostgreSQL database (DATABASE_URL's server, database diplohub_bench_events),
builds the demo hub into it (directory and programme), serves it with gunicorn (two
sync workers) and drives it with wrk: once with the page cache for visitors on (the
default), once with it off (DIPLOHUB_PAGE_CACHE_SECONDS=0). Prints requests/s and
latency for each URL and its share of the bare view's throughput.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.webload import bench_env, gunicorn, manage, recreate_database, wrk

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/diplohub_bench_events"
EVENT = "diplomatic-circle-3-biomedical-research-park"  # the demo's full visit, with a waitlist
PAGES = {
    "bare Django view": "/bench/bare",
    "programme": "/en/programme/",
    "event page": f"/en/programme/{EVENT}/",
    "event .ics": f"/en/programme/{EVENT}/calendar.ics",
    "public calendar feed": "/en/programme/calendar.ics",
    "Atom feed": "/en/programme/feed.atom",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    server = os.environ.get("DATABASE_URL", DEFAULT_DATABASE)
    if not server.startswith("postgres"):
        raise SystemExit("This benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    database_url = server.rsplit("/", 1)[0] + "/diplohub_bench_events"
    env = bench_env(database_url)
    recreate_database(database_url)
    manage(env, "migrate", "-v0")
    manage(env, "demo", "-v0")

    print(
        f"\nDemo hub (8 events, 158 people), PostgreSQL, gunicorn 2 sync workers, "
        f"wrk {args.connections} connections for {args.seconds}s, "
        f"{platform.machine()}, {os.cpu_count()} cores\n"
    )
    print("| page | page cache | requests/s | p50 ms | p99 ms | errors | share of bare |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for cache_label, seconds in (("on", "300"), ("off", "0")):
        results = {}
        with gunicorn({**env, "DIPLOHUB_PAGE_CACHE_SECONDS": seconds}, workers=2) as base:
            for label, path in PAGES.items():
                results[label] = wrk(
                    base + path, connections=args.connections, seconds=args.seconds
                )
        bare = results["bare Django view"].requests_per_second
        for label, load in results.items():
            share = load.requests_per_second / bare * 100
            print(
                f"| {label} | {cache_label} | {load.requests_per_second:.0f} "
                f"| {load.p50_ms:.1f} | {load.p99_ms:.1f} | {load.errors} | {share:.0f} % |",
                flush=True,
            )


if __name__ == "__main__":
    main()
