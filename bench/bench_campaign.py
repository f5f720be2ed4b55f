"""A newsletter to 10,000 subscribers: two workers, a local SMTP server, PostgreSQL.

    .venv/bin/python bench/bench_campaign.py [--subscribers 10000] [--workers 2] [--runs 1]

Creates a fresh PostgreSQL database (DATABASE_URL, default diplohub_bench_campaign on
127.0.0.1) with N confirmed subscribers who agreed to the newsletter (English, Catalan
and Spanish readers) and a campaign written in English and Catalan (about 2.5 kB of
Markdown with headings, a list and links). Starts an SMTP server (aiosmtpd, its own
process: bench/smtp_sink.py) that logs every message it accepts, and `diplohub worker`
processes as docs/deployment.md runs them (default settings). Then queues the campaign
with the service the "Send now" button calls, and waits for the SMTP server's log to
hold every recipient.

Prints messages per second (from the moment the campaign is queued to the last message
accepted), each worker's peak memory (VmHWM, from /proc), the CPU time one message
costs the workers, the SMTP server and PostgreSQL, and the load average; then checks
the SMTP server's log against the database: every recipient exactly once (no
duplicate, no loss), one Message-ID each, every row marked sent.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.webload import ROOT, VENV_BIN, bench_env, free_port, manage, recreate_database

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/diplohub_bench_campaign"
HERE = Path(__file__).resolve().parent

FILL = """
import sys
from django.utils import timezone
from diplohub.mailing.models import Consent, Subscriber
from diplohub.mailing.audience import Audience
from diplohub.mailing.services import CampaignText, campaign_create

count = int(sys.argv[1])
languages = ["en"] * 12 + ["ca"] * 5 + ["es"] * 3
now = timezone.now()
subscribers = Subscriber.objects.bulk_create(
    Subscriber(email=f"reader{i:05}@network{i % 97:02}.example", language=languages[i % 20],
               status="active", confirmed_at=now, source="bench")
    for i in range(count))
Consent.objects.bulk_create(
    Consent(email=s.email, subscriber=s, purpose="newsletter", granted=True, source="bench",
            at=now)
    for s in subscribers)
paragraph = ("The city's research centres open their doors to the diplomatic community: "
             "visits, briefings and **working groups** bring [scientific evidence]"
             "(https://hub.example.org/knowledge/) into public debate. ")
body = "\\n\\n".join([
    "## Spring at the hub", paragraph * 3,
    "### Visits", "- The supercomputing centre, *April 21*\\n- The synchrotron, *May 5*\\n"
    "- The genomics institute, *May 19*", paragraph * 2,
    "### Opportunities", paragraph * 2,
    "> Science diplomacy connects back to your country.",
    "[Register for the next visit](https://hub.example.org/programme/)"])
campaign_create(
    texts={"en": CampaignText("Spring newsletter", body),
           "ca": CampaignText("Butlletí de primavera", body.replace("Spring", "Primavera"))},
    audience=Audience())
print(len(body))
"""

QUEUE = """
import json, time
from diplohub.mailing.models import Campaign
from diplohub.mailing.services import campaign_queue
campaign = Campaign.objects.get()
started = time.time()
queued = campaign_queue(campaign=campaign)
print(json.dumps({"started": started, "queued": queued, "done": time.time()}))
"""


def django(env: dict[str, str], script: str, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + script, *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(match: str) -> float:
    """User + system CPU time of every process whose command line contains `match`."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if match in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode():
                total += process_cpu(int(entry.name))
        except (OSError, ValueError):
            continue
    return total


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_log(path: Path) -> list[tuple[float, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        when, address, message_id = line.split("\t")
        rows.append((float(when), address, message_id))
    return rows


def wait_for(path: Path, count: int, *, stall: float) -> None:
    """Until the log has `count` lines, or nothing new has arrived for `stall` seconds."""
    seen, last_change = -1, time.monotonic()
    while True:
        lines = path.read_bytes().count(b"\n") if path.exists() else 0
        if lines >= count:
            return
        if lines != seen:
            seen, last_change = lines, time.monotonic()
            print(f"\r  received {lines:>6} / {count}", end="", flush=True)
        elif time.monotonic() - last_change > stall:
            print(f"\n  nothing new for {stall:.0f} s: stopping at {lines}", flush=True)
            return
        time.sleep(0.2)


def check(database_url: str, log: list[tuple[float, str, str]]) -> dict[str, object]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT lower(e.to), e.message_id, e.status FROM mailing_outboundemail e "
            "WHERE e.campaign_id IS NOT NULL"
        ).fetchall()
        subscribers = conn.execute("SELECT count(*) FROM mailing_subscriber").fetchone()
    expected = {address for address, _mid, _status in rows}
    by_address = Counter(address.lower() for _when, address, _mid in log)
    by_message = Counter(message_id for _when, _address, message_id in log)
    ids = {address: message_id for address, message_id, _status in rows}
    return {
        "rows": len(rows),
        "one row per subscriber": subscribers is not None and len(rows) == subscribers[0],
        "received": len(log),
        "duplicates": sum(n - 1 for n in by_address.values() if n > 1),
        "losses": len(expected - set(by_address)),
        "strangers": len(set(by_address) - expected),
        "one Message-ID per message": max(by_message.values(), default=0) == 1,
        "Message-IDs as queued": all(ids.get(a.lower()) == m for _w, a, m in log),
        "every row sent": {status for _a, _m, status in rows} == {"sent"},
    }


def run_once(args: argparse.Namespace, database_url: str, env: dict[str, str]) -> dict:
    recreate_database(database_url)
    manage(env, "migrate", "-v0")
    body_size = django(env, FILL, str(args.subscribers)).strip()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "smtp.log"
        sink = subprocess.Popen(
            [sys.executable, str(HERE / "smtp_sink.py"), str(port), str(log_path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert sink.stdout is not None
        assert sink.stdout.readline().strip() == "ready"
        worker_env = {
            **env,
            "EMAIL_URL": f"smtp://127.0.0.1:{port}",
            "DIPLOHUB_TASK_BACKEND": "django_tasks_db.DatabaseBackend",
        }
        workers = [
            subprocess.Popen(
                [str(VENV_BIN / "diplohub"), "worker", f"--worker-id=bench-{n}", "-v0"],
                env=worker_env,
                cwd=ROOT,
            )
            for n in range(args.workers)
        ]
        try:
            time.sleep(4)  # let the workers start (imports, first housekeeping run)
            cpu_before = {
                "workers": sum(process_cpu(w.pid) for w in workers),
                "smtp": process_cpu(sink.pid),
                "postgres": cpu_seconds("postgres"),
            }
            queued = json.loads(django(worker_env, QUEUE))
            wait_for(log_path, queued["queued"], stall=args.stall)
            print()
            cpu = {
                "workers": sum(process_cpu(w.pid) for w in workers) - cpu_before["workers"],
                "smtp": process_cpu(sink.pid) - cpu_before["smtp"],
                "postgres": cpu_seconds("postgres") - cpu_before["postgres"],
            }
            peaks = [peak_rss_mb(w.pid) for w in workers]
            time.sleep(2)  # a duplicate on its way would arrive too
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    worker.kill()
            sink.send_signal(signal.SIGTERM)
            sink.wait(timeout=10)
        log = read_log(log_path)
    last = max((when for when, _a, _m in log), default=queued["started"])
    seconds = last - queued["started"]
    return {
        "queued": queued["queued"],
        "queue seconds": queued["done"] - queued["started"],
        "seconds": seconds,
        "per second": len(log) / seconds if seconds > 0 else 0.0,
        "peaks": peaks,
        "cpu": cpu,
        "body": body_size,
        "checks": check(database_url, log),
        "load": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--stall", type=float, default=60, help="give up after this long idle")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE)
    if not database_url.startswith("postgres"):
        raise SystemExit("This benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    if database_url.rsplit("/", 1)[1] in {"diplohub", "postgres"}:
        database_url = DEFAULT_DATABASE  # never drop a database someone uses
    env = bench_env(database_url)
    print(
        f"\n{args.subscribers} subscribers, one campaign (en, ca), {args.workers} `diplohub "
        f"worker` processes (default settings), aiosmtpd in its own process, PostgreSQL; "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}\n"
    )
    print(
        "| run | messages | queueing | first queued → last received | messages/s "
        "| peak RSS per worker | CPU ms per message: workers, SMTP server, PostgreSQL "
        "| load average |"
    )
    print("|---|---:|---:|---:|---:|---|---|---|")
    failed = []
    for run in range(1, args.runs + 1):
        result = run_once(args, database_url, env)
        n = max(result["checks"]["received"], 1)
        cpu = result["cpu"]
        print(
            f"| {run} | {result['checks']['received']} | {result['queue seconds']:.2f} s "
            f"| {result['seconds']:.2f} s | {result['per second']:.0f} "
            f"| {', '.join(f'{p:.0f} MB' for p in result['peaks'])} "
            f"| {cpu['workers'] * 1000 / n:.2f}, {cpu['smtp'] * 1000 / n:.2f}, "
            f"{cpu['postgres'] * 1000 / n:.2f} "
            f"| {' '.join(f'{x:.2f}' for x in result['load'])} |",
            flush=True,
        )
        checks = result["checks"]
        print("  " + "; ".join(f"{k}: {v}" for k, v in checks.items()), flush=True)
        bad = (
            checks["duplicates"]
            or checks["losses"]
            or checks["strangers"]
            or not all(checks[k] for k in ("one row per subscriber", "one Message-ID per message"))
            or not checks["Message-IDs as queued"]
            or not checks["every row sent"]
        )
        if bad:
            failed.append(run)
    if failed:
        raise SystemExit(f"delivery checks failed in runs {failed}")


if __name__ == "__main__":
    main()
