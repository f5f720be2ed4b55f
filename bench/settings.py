"""Settings for the web benchmarks: the hub's own, plus a bare view to compare against."""

from diplohub.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
RATELIMIT_ENABLE = False
