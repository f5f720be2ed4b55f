"""The join form under load: 32 clients sign up new addresses, rate limit lifted.

    .venv/bin/python bench/bench_signup.py [--seconds 10] [--clients 32]

Creates a fresh PostgreSQL database (DATABASE_URL, default diplohub_bench_signup on
127.0.0.1) with the current privacy policy and terms, serves the hub with gunicorn (two
sync workers, as in docs/deployment.md; bench/settings.py lifts the rate limit), and
has wrk POST the join form (bench/signup.lua) with a new address every time: the form
validated, the address normalised, a pending subscriber written with its outbox row
(the confirmation e-mail) and the send task, then the redirect to "check your inbox".
Prints requests per second and latency, then reads the database: one pending
subscriber and one queued confirmation per sign-up (those answered, plus at most one
per connection still in flight when wrk stopped), every answer a redirect.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.webload import bench_env, gunicorn, manage, recreate_database

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/diplohub_bench_signup"
LUA = Path(__file__).resolve().parent / "signup.lua"

POLICIES = """
from django.utils import timezone
from diplohub.mailing.models import PolicyDocument
for kind in ("privacy", "terms"):
    PolicyDocument.objects.create(kind=kind, version=1, title=kind.title(),
        body="Bench text.", published_at=timezone.now())
"""


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def load(base: str, *, clients: int, seconds: int, prefix: str) -> dict[str, object]:
    token = secrets.token_hex(16)  # 32 characters, as Django's CSRF secret
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{clients}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "30s",
            "-s",
            str(LUA),
            base + "/en/join/",
            "--",
            "/en/join/",
            token,
            prefix,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    codes = json.loads(re.search(r"^CODES (.*)$", out, re.M).group(1))  # type: ignore[union-attr]
    return {
        "requests/s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50 ms": _ms(re.search(r"^\s+50%\s+(\S+)\s*$", out, re.M).group(1)),  # type: ignore[union-attr]
        "p99 ms": _ms(re.search(r"^\s+99%\s+(\S+)\s*$", out, re.M).group(1)),  # type: ignore[union-attr]
        "codes": {int(code): n for code, n in codes.items()},
    }


def check(database_url: str, prefix: str) -> dict[str, object]:
    """What the round wrote, in one statement (one snapshot), once the requests still
    in flight when wrk stopped have been served."""
    import psycopg

    time.sleep(2)
    with psycopg.connect(database_url) as conn:
        statuses, queued, distinct = conn.execute(
            """
            SELECT
              (SELECT json_object_agg(status, n) FROM (
                 SELECT status, count(*) AS n FROM mailing_subscriber
                 WHERE email LIKE %(like)s GROUP BY status) AS s),
              (SELECT count(*) FROM mailing_outboundemail
               WHERE kind = 'mailing.confirm_subscription' AND "to" LIKE %(like)s),
              (SELECT count(DISTINCT "to") FROM mailing_outboundemail
               WHERE kind = 'mailing.confirm_subscription' AND "to" LIKE %(like)s)
            """,
            {"like": f"{prefix}-%"},
        ).fetchone()  # type: ignore[misc]
    return {"subscribers": statuses or {}, "confirmations": queued, "distinct": distinct}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `make bench` installs it (Debian package wrk).")
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE)
    if "://" in database_url and not database_url.startswith("postgres"):
        raise SystemExit("bench_signup needs PostgreSQL (DATABASE_URL=postgres://...)")
    database_url = database_url.rsplit("/", 1)[0] + "/diplohub_bench_signup"
    recreate_database(database_url)
    env = bench_env(database_url)
    env["DIPLOHUB_TASK_BACKEND"] = "django_tasks_db.DatabaseBackend"
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "shell", "-c", POLICIES)
    print(
        f"\nJoin form, PostgreSQL, gunicorn 2 sync workers, wrk {args.clients} connections, "
        f"{args.seconds} s a round, rate limit lifted; {platform.machine()}, "
        f"{os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
    )
    print(
        "| round | requests/s | p50 ms | p99 ms | answers | subscribers written "
        "| confirmations queued |"
    )
    print("|---|---:|---:|---:|---|---|---|")
    with gunicorn(env) as base:
        for number in range(1, args.rounds + 1):
            prefix = f"r{number}"
            result = load(base, clients=args.clients, seconds=args.seconds, prefix=prefix)
            found = check(database_url, prefix)
            accepted = result["codes"].get(302, 0)  # type: ignore[attr-defined]
            written = sum(found["subscribers"].values())  # type: ignore[attr-defined]
            # wrk stops on the clock: up to one request per connection is still being
            # served then, and is written without its answer being counted.
            ok = (
                set(found["subscribers"]) <= {"pending"}  # type: ignore[arg-type]
                and found["confirmations"] == found["distinct"] == written
                and accepted <= written <= accepted + args.clients
                and set(result["codes"]) == {302}  # type: ignore[arg-type]
            )
            print(
                f"| {number} | {result['requests/s']:.0f} | {result['p50 ms']:.1f} | "
                f"{result['p99 ms']:.1f} | {result['codes']} | {found['subscribers']} | "
                f"{found['confirmations']} ({'one each, all answers 302' if ok else 'MISMATCH'}) |"
            )
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
