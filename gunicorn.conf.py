"""gunicorn settings for every deployment (Procfile, Docker, Replit); each knob reads the environment.

    gunicorn qualitybytes.wsgi        # picks this file up from the working directory

WEB_CONCURRENCY    worker processes (default 2 x CPUs + 1)
GUNICORN_THREADS   threads per worker (default 1: sync workers, as `make bench` measures;
                   2-4 helps when pages wait on Stripe or SMTP)
GUNICORN_TIMEOUT   seconds before a stuck worker is restarted (default 30)
GUNICORN_MAX_REQUESTS  recycle a worker after this many requests (default 0: never)
FORWARDED_ALLOW_IPS    proxies whose X-Forwarded-* headers are believed (default 127.0.0.1;
                   "*" only when nothing but the load balancer can reach the port)
PORT               listen port (default 8000; Replit and most platforms set it)
LOG_FORMAT         "json" (default unless DEBUG) or "text", as in settings
"""

import multiprocessing
import os

from qualitybytes.logging import logging_config


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, "") or default)


bind = f"0.0.0.0:{_int('PORT', 8000)}"
workers = _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1)
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
keepalive = 5
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Heartbeat files in memory: a container's overlay filesystem can stall workers (Docker).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 (gunicorn docs, Docker)

# No access log: the app logs one line per request with its request id (LOG_REQUESTS).
accesslog = None
errorlog = "-"
_debug = os.environ.get("DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}
_format = os.environ.get("LOG_FORMAT", "text" if _debug else "json").strip().lower()
logconfig_dict = logging_config(log_format=_format, level=os.environ.get("LOG_LEVEL", "INFO"))
logconfig_dict["loggers"].update(
    {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    }
)
