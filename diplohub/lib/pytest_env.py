"""Loaded by pytest (`-p diplohub.lib.pytest_env`) before Django's settings are read.

Tests run the demo hub the way `make run` does (demo.env), with tasks run at once.
"""

import os
from pathlib import Path

os.environ.setdefault("DIPLOHUB_ENV_FILE", str(Path(__file__).resolve().parents[2] / "demo.env"))
os.environ.setdefault("DIPLOHUB_INSECURE_DEMO", "1")
os.environ.setdefault("DIPLOHUB_TASK_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")
