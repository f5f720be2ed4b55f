"""Registration storm: distinct people POST their registration at once through the API.

    .venv/bin/python bench/bench_registration.py [--people 500] [--clients 32] [--rounds 3]

Creates a PostgreSQL database (DATABASE_URL, default diplohub_bench_registration on
127.0.0.1), N members spread over missions, each with an API token, and one event per
round (100 seats, at most 2 per mission). Serves the hub with gunicorn (two sync
workers, as in docs/deployment.md). wrk (bench/registration.lua) opens 32 connections
(sync workers close each after its answer; wrk reconnects) that take people from one
queue and POST /api/v1/events/<slug>/registration with that person's token, as fast as
answers come; a tenth of the people submit twice (a double click, later in the queue).
wrk rather than Python threads so that the load generator, which shares the machine's
cores with the server, takes as little CPU as it can (0.14 ms a request against 0.4).

Prints registrations per second, latency and the CPU time one request costs the app
processes, PostgreSQL and the client, then checks every answer (each request answered,
all 200, none 5xx) and the result in the database: exactly `capacity` seated, no mission
over its quota, waitlist tickets unique (positions 1..n), no duplicate person.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


LUA = Path(__file__).resolve().parent / "registration.lua"


@dataclass
class Storm:
    seconds: float
    p50_ms: float
    p99_ms: float
    codes: Counter[int]
    outcomes: Counter[str]
    answered: int
    socket_errors: int


def storm(base: str, path: str, tokens: list[str], clients: int) -> Storm:
    """POST every token's registration, in order, over `clients` connections (wrk, one
    thread, so one queue); every answer is tallied by registration.lua."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `make bench` installs it (Debian package wrk).")
    with tempfile.NamedTemporaryFile("w", suffix=".tokens") as submissions:
        submissions.write("\n".join(tokens) + "\n")
        submissions.flush()
        command = ["wrk", "-t1", f"-c{clients}", "-d300s", "--timeout", "60s", "-s", str(LUA)]
        process = subprocess.Popen(
            [*command, base + path, "--", path, submissions.name],
            stdout=subprocess.PIPE,
            text=True,
        )
        result: dict[str, Any] = {}
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip() == "all answered":
                # wrk sleeps out its whole duration; SIGINT ends the run now.
                process.send_signal(signal.SIGINT)
            elif line.startswith("RESULT "):
                result = json.loads(line.removeprefix("RESULT "))
        process.wait()
    if not result.get("seconds"):
        raise SystemExit(f"wrk did not finish the storm: {result}")
    return Storm(
        seconds=result["seconds"],
        p50_ms=result["p50_ms"],
        p99_ms=result["p99_ms"],
        codes=Counter({int(code): n for code, n in result["codes"].items()}),
        outcomes=Counter(result["outcomes"]),
        answered=result["answered"],
        socket_errors=result["socket_errors"],
    )


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


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _children_cpu() -> float:
    """User + system CPU time of this script's finished children (wrk)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--missions", type=int, default=60)
    parser.add_argument("--capacity", type=int, default=100)
    parser.add_argument("--quota", type=int, default=2)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    # Threads per worker (gthread): for comparison only; production runs sync workers.
    parser.add_argument("--threads", type=int, default=1)
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

    server = (
        f"{args.workers} sync workers"
        if args.threads == 1
        else f"{args.workers} gthread workers of {args.threads} threads"
    )
    print(
        f"\n{args.people} people from {args.missions} missions, one event of {args.capacity} "
        f"seats (at most {args.quota} per mission) per round, PostgreSQL, gunicorn {server}, "
        f"wrk {args.clients} connections, {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {_load()}\n"
    )
    print(
        "| round | requests | registrations/s | requests/s | p50 ms | p99 ms | 5xx "
        "| CPU ms per request: app, PostgreSQL, client | answers |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    checks = []
    # PostgreSQL's processes serving this database (its title names the database), not
    # those of other databases on the same server.
    backends = f" {database_url.rsplit('/', 1)[1]} "
    with gunicorn(env, workers=args.workers, threads=args.threads) as base:
        for r in range(1, args.rounds + 1):
            slug = f"storm-{r}"
            # A tenth of the people click twice; the repeat comes later in the queue.
            submissions = tokens + tokens[:: max(1, 10)]
            app_cpu, db_cpu = cpu_seconds(base.split("//")[1]), cpu_seconds(backends)
            client_cpu = _children_cpu()
            run = storm(base, f"/api/v1/events/{slug}/registration", submissions, args.clients)
            app_cpu = cpu_seconds(base.split("//")[1]) - app_cpu
            db_cpu = cpu_seconds(backends) - db_cpu
            client_cpu = _children_cpu() - client_cpu
            errors = sum(count for code, count in run.codes.items() if code >= 500)
            n = len(submissions)
            answers = ", ".join(f"{k} {v}" for k, v in sorted(run.outcomes.items()))
            print(
                f"| {r} | {n} | {len(tokens) / run.seconds:.0f} "
                f"| {n / run.seconds:.0f} | {run.p50_ms:.1f} | {run.p99_ms:.1f} | {errors} "
                f"| {app_cpu * 1000 / n:.1f}, {db_cpu * 1000 / n:.1f}, "
                f"{client_cpu * 1000 / n:.2f} | {answers} |",
                flush=True,
            )
            result = check(database_url, slug, args.capacity, args.quota)
            result["every request answered"] = run.answered == n and run.socket_errors == 0
            result["no 5xx"] = errors == 0
            result["every answer 200"] = set(run.codes) == {200}
            checks.append(result)
    print(f"\nload average after the rounds: {_load()}")
    for r, result in enumerate(checks, start=1):
        print(f"round {r}: " + "; ".join(f"{k}: {v}" for k, v in result.items()))
    failed = [(r, k) for r, res in enumerate(checks, 1) for k, v in res.items() if v is False]
    if failed:
        raise SystemExit(f"invariants broken: {failed}")


if __name__ == "__main__":
    main()
