"""Loaded by pytest (`-p diplohub.lib.pytest_env`) before Django's settings are read.

Tests run the hub the way `make run` does: an insecure demo key, tasks run at once.
"""

import os

os.environ.setdefault("DIPLOHUB_INSECURE_DEMO", "1")
os.environ.setdefault("DIPLOHUB_TASK_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")
