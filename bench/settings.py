"""The project's settings, plus a bare JSON view to compare the validate endpoint with."""

from qualitybytes.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
