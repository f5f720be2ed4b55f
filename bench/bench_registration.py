"""Registration storm: distinct people POST their registration at once through the API.

    .venv/bin/python bench/bench_registration.py [--people 500] [--clients 32] [--rounds 3]

Creates a PostgreSQL database (DATABASE_URL, default diplohub_bench_registration on
127.0.0.1), N members spread over missions, each with an API token, and one event per
round (100 seats, at most 2 per mission). Serves the hub with gunicorn (two sync
workers, as in docs/deployment.md); 32 client threads, each with its own HTTP
connection (sync workers close it after each answer; the client reconnects), take people
from one queue and POST /api/v1/events/<slug>/registration with that person's token, as
fast as answers come. A tenth of the people submit twice (a double click). Prints
registrations per second, latency and the CPU time one request costs the app processes
and PostgreSQL, then checks the result in the database: exactly `capacity` seated, no
mission over its quota, waitlist tickets unique (positions 1..n), no duplicate person,
no 5xx.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.webload import bench_env, gunicorn, manage, recreate_database

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/diplohub_bench_registration"

FILL = """
import datetime, json, sys
from django.contrib.auth.models import Group
from django.utils import timezone
from diplohub.accounts.models import ApiToken, User
from diplohub.directory.models import Kind, Membership, Organization, Person, Post
from diplohub.events.models import Event

people, missions, rounds, capacity, quota, out = (
    int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
    sys.argv[6])
orgs = Organization.objects.bulk_create(
    Organization(kind=Kind.CONSULATE, sector="diplomatic", name=f"Mission {i:04}",
                 sort_name=f"mission {i:04}", slug=f"mission-{i:04}")
    for i in range(missions))
users = User.objects.bulk_create(
    User(username=f"member{i:04}", email=f"member{i:04}@example.test", password="!")
    for i in range(people))
member = Group.objects.get(name="member")
User.groups.through.objects.bulk_create(
    User.groups.through(user_id=u.pk, group_id=member.pk) for u in users)
persons = Person.objects.bulk_create(
    Person(given_name=f"Member {i:04}", family_name="Example", user=u)
    for i, u in enumerate(users))
posts = Post.objects.bulk_create(
    Post(organization=orgs[i % missions], label="Delegate", role="officer")
    for i in range(people))
Membership.objects.bulk_create(
    Membership(person=p, post=post) for p, post in zip(persons, posts))
raws = []
tokens = []
for u in users:
    raw = ApiToken.new_raw()
    token = ApiToken(user=u, name="bench")
    token.set_raw(raw)
    tokens.append(token)
    raws.append(raw)
ApiToken.objects.bulk_create(tokens)
start = timezone.now() + datetime.timedelta(days=7)
for r in range(rounds):
    Event.objects.create(kind="encounter", title=f"Storm {r + 1}", slug=f"storm-{r + 1}",
        start=start, end=start + datetime.timedelta(hours=2), status="published",
        visibility="members", capacity=capacity, quota_per_organization=quota)
with open(out, "w") as f:
    json.dump(raws, f)
"""


def storm(
    base: str, path: str, tokens: list[str], clients: int
) -> tuple[float, list[float], Counter[int], Counter[str]]:
    """POST every token's registration from `clients` threads; returns elapsed seconds,
    latencies (ms), status codes and registration statuses answered."""
    todo: queue.SimpleQueue[str] = queue.SimpleQueue()
    for token in tokens:
        todo.put(token)
    latencies: list[float] = []
    codes: Counter[int] = Counter()
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)
    where = urlsplit(base)

    def client() -> None:
        conn = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
        ready.wait()
        while True:
            try:
                token = todo.get_nowait()
            except queue.Empty:
                break
            began = time.perf_counter()
            for attempt in range(2):
                try:
                    conn.request("POST", path, headers={"Authorization": f"Bearer {token}"})
                    response = conn.getresponse()
                    body = response.read()
                    break
                except (ConnectionError, http.client.HTTPException):
                    # gunicorn closed an idle keep-alive connection: reconnect once.
                    conn.close()
                    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
                    if attempt:
                        raise
            took = (time.perf_counter() - began) * 1000
            status = json.loads(body).get("status", "?") if response.status == 200 else "-"
            with lock:
                latencies.append(took)
                codes[response.status] += 1
                outcomes[status] += 1
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies, codes, outcomes


def cpu_seconds(match: str) -> float:
    """User + system CPU time of every process whose command line contains `match`
    (Linux /proc), to tell what one registration costs the app and the database."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if match in cmdline:
            fields = stat.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def check(database_url: str, slug: str, capacity: int, quota: int) -> dict[str, object]:
    """The invariants, read straight from the database."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        (event_id,) = conn.execute("SELECT id FROM events_event WHERE slug = %s", [slug]).fetchone()  # type: ignore[misc]
        rows = conn.execute(
            "SELECT person_id, organization_id, status, waitlist_number "
            "FROM events_registration WHERE event_id = %s",
            [event_id],
        ).fetchall()
    seated = [r for r in rows if r[2] in ("confirmed", "attended", "no_show")]
    waiting = sorted(r[3] for r in rows if r[2] == "waitlisted")
    per_org = Counter(r[1] for r in seated)
    people = Counter(r[0] for r in rows)
    return {
        "registrations": len(rows),
        "seated": len(seated),
        "exactly capacity seated": len(seated) == capacity,
        "most seats of one mission": max(per_org.values(), default=0),
        "no mission over quota": max(per_org.values(), default=0) <= quota,
        "waiting": len(waiting),
        "waitlist tickets unique (positions 1..n)": len(set(waiting)) == len(waiting),
        "no duplicate person": all(n == 1 for n in people.values()),
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--missions", type=int, default=60)
    parser.add_argument("--capacity", type=int, default=100)
    parser.add_argument("--quota", type=int, default=2)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE)
    if not database_url.startswith("postgres"):
        raise SystemExit("This benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    env = bench_env(database_url)
    recreate_database(database_url)
    manage(env, "migrate", "-v0")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tokens.json"
        fill_args = [args.people, args.missions, args.rounds, args.capacity, args.quota, out]
        subprocess.run(
            [sys.executable, "-c", "import django; django.setup()\n" + FILL]
            + [str(a) for a in fill_args],
            env=env,
            check=True,
        )
        tokens: list[str] = json.loads(out.read_text())

    print(
        f"\n{args.people} people from {args.missions} missions, one event of {args.capacity} "
        f"seats (at most {args.quota} per mission) per round, PostgreSQL, gunicorn "
        f"{args.workers} sync workers (which close each connection), {args.clients} client "
        "threads, "
        f"{platform.machine()}, {os.cpu_count()} cores\n"
    )
    print(
        "| round | requests | registrations/s | requests/s | p50 ms | p99 ms | 5xx "
        "| CPU ms per request: app, PostgreSQL | answers |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    checks = []
    with gunicorn(env, workers=args.workers) as base:
        for r in range(1, args.rounds + 1):
            slug = f"storm-{r}"
            # A tenth of the people click twice; the repeat comes later in the queue.
            submissions = tokens + tokens[:: max(1, 10)]
            app_cpu, db_cpu = cpu_seconds(base.split("//")[1]), cpu_seconds("postgres")
            elapsed, latencies, codes, outcomes = storm(
                base, f"/api/v1/events/{slug}/registration", submissions, args.clients
            )
            app_cpu = cpu_seconds(base.split("//")[1]) - app_cpu
            db_cpu = cpu_seconds("postgres") - db_cpu
            errors = sum(count for code, count in codes.items() if code >= 500)
            n = len(submissions)
            answers = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
            print(
                f"| {r} | {len(submissions)} | {len(tokens) / elapsed:.0f} "
                f"| {len(submissions) / elapsed:.0f} | {percentile(latencies, 50):.1f} "
                f"| {percentile(latencies, 99):.1f} | {errors} "
                f"| {app_cpu * 1000 / n:.1f}, {db_cpu * 1000 / n:.1f} "
                f"| {answers} |",
                flush=True,
            )
            result = check(database_url, slug, args.capacity, args.quota)
            result["no 5xx"] = errors == 0
            result["every answer 200"] = set(codes) == {200}
            checks.append(result)
    print()
    for r, result in enumerate(checks, start=1):
        print(f"round {r}: " + "; ".join(f"{k}: {v}" for k, v in result.items()))
    failed = [(r, k) for r, res in enumerate(checks, 1) for k, v in res.items() if v is False]
    if failed:
        raise SystemExit(f"invariants broken: {failed}")


if __name__ == "__main__":
    main()
