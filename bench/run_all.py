"""Run every benchmark in bench/ and print their figures (`make bench`).

The web and campaign benchmarks need PostgreSQL (DATABASE_URL, default the local
server), the web ones wrk too; the import, search and similarity benchmarks run on
SQLite, and on PostgreSQL too when DATABASE_URL is set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PG = "postgres://postgres@127.0.0.1:5432/diplohub_bench"


def run(script: str, env: dict[str, str]) -> int:
    print(f"\n=== {script} ===", flush=True)
    return subprocess.run([sys.executable, str(HERE / script)], env=env, check=False).returncode


def main() -> None:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", PG)
    failures = [
        script
        for script in (
            "bench_import.py",
            "bench_directory.py",
            "bench_event_page.py",
            "bench_registration.py",
            "bench_campaign.py",
            "bench_signup.py",
            "bench_search.py",
            "bench_similarity.py",
            "bench_similarity_scale.py",
        )
        if run(script, env)
    ]
    if failures:
        raise SystemExit(f"failed: {', '.join(failures)}")


if __name__ == "__main__":
    main()
