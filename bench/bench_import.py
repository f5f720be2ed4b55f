"""Import of 10,000 organisations from a CSV file, as staff run it.

    .venv/bin/python bench/bench_import.py [--rows 10000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_import.py

Writes a CSV of N organisations to a temporary folder (every column the importer
reads; a parent for nine rows in ten, some of them later in the file; topics), then,
in a fresh database, runs `diplohub import_organizations FILE` in-process, progress
bar and all, and prints the wall time, rows per second and the process's peak
memory. The database is a new SQLite file, and also a new PostgreSQL database
(`diplohub_bench_import`, on the server of DATABASE_URL, which is left alone) when
DATABASE_URL is set. It then imports the same file again as a dry run: every row is
found already in the directory. Prints figures; never asserts on time.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ["university", "research_centre", "scientific_facility", "company", "foundation"]
COUNTRIES = ["ES", "FR", "DE", "IT", "JP", "MX", "US", "GB", "CN", "BR"]


def write_csv(path: Path, rows: int) -> None:
    header = [
        "name",
        "name_es",
        "name_ca",
        "acronym",
        "kind",
        "country",
        "city",
        "address",
        "latitude",
        "longitude",
        "website",
        "wikidata_id",
        "parent",
        "topics",
        "description",
    ]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i in range(rows):
            group = i - i % 10
            # The head of every group of ten is the parent; every fourth group lists
            # its children before their parent.
            parent = "" if i == group else f"organisation-{group:05d}"
            if (i // 10) % 4 == 3:
                parent = "" if i == group + 9 else f"organisation-{group + 9:05d}"
            writer.writerow(
                [
                    f"Organisation {i:05d}",
                    f"Organización {i:05d}",
                    f"Organització {i:05d}",
                    f"O{i}",
                    KINDS[i % len(KINDS)],
                    COUNTRIES[i % len(COUNTRIES)],
                    "Barcelona",
                    f"Carrer de l'Exemple, {i % 300 + 1}",
                    f"41.{i:06d}",
                    f"2.{i:06d}",
                    f"https://org{i}.example.org/",
                    f"Q{100000 + i}",
                    parent,
                    "health|climate" if i % 3 == 0 else "",
                    "An organisation of the benchmark, with a short description.",
                ]
            )


def child(database_url: str, path: Path) -> None:
    """In a process of its own: fresh database, migrate, import, import again (dry run)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DIPLOHUB_INSECURE_DEMO", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diplohub.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    from diplohub.directory.models import Organization, Topic

    call_command("migrate", verbosity=0)
    for slug in ("health", "climate"):
        Topic.objects.create(slug=slug, name_en=slug.title())
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    started = time.perf_counter()
    call_command("import_organizations", str(path), stdout=open(os.devnull, "w"))  # noqa: SIM115
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    count = Organization.objects.count()

    started = time.perf_counter()
    call_command("import_organizations", str(path), "--dry-run", stdout=open(os.devnull, "w"))  # noqa: SIM115
    again = time.perf_counter() - started

    print(
        f"RESULT rows={count} seconds={elapsed:.2f} rows_per_s={count / elapsed:.0f} "
        f"peak_rss_mb={peak:.0f} baseline_rss_mb={baseline:.0f} dry_run_again_s={again:.2f}",
        flush=True,
    )


def run(label: str, database_url: str, path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, __file__, "--child", database_url, str(path)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT"))
    figures = dict(part.split("=") for part in line.split()[1:])
    print(
        f"{label:<11} {figures['rows']:>6} rows  {figures['seconds']:>6} s  "
        f"{figures['rows_per_s']:>6} rows/s  peak RSS {figures['peak_rss_mb']} MB "
        f"(before the import: {figures['baseline_rss_mb']} MB)  "
        f"dry run of the same file again: {figures['dry_run_again_s']} s"
    )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()

    print(f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}")
    print(f"{os.cpu_count()} CPUs; {args.rows} rows; progress bars on stderr")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "organisations.csv"
        write_csv(path, args.rows)
        print(f"CSV: {path.stat().st_size / 1024:.0f} KiB")
        run("SQLite", f"sqlite:///{folder}/bench.sqlite3", path)
        database_url = os.environ.get("DATABASE_URL", "")
        if database_url.startswith("postgres"):
            from bench.webload import recreate_database

            bench_url = database_url.rsplit("/", 1)[0] + "/diplohub_bench_import"
            recreate_database(bench_url)
            run("PostgreSQL", bench_url, path)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
