"""Gunicorn settings of the platform: `.venv/bin/gunicorn -c gunicorn.conf.py` (see docs/production.md).

Every value can be changed through the environment:

- WEB_CONCURRENCY: worker processes (default 4); each serves one request at a time.
- BIND: address and port (default 127.0.0.1:8000, behind a reverse proxy on the same machine).
- GUNICORN_TIMEOUT: seconds before a silent worker is killed and replaced (default 60).
- GUNICORN_PRELOAD: 1 to build the app once in the master before forking (faster start, less memory).
- LOG_FORMAT: text (default) or json; access lines carry the request id, the person and the instance.

No state lives in a worker that another would miss: sessions are rows of the database (the signed cookie
carries their id), rate limits count in
RATELIMIT_STORAGE_URI (Redis with several workers), instances and tasks are in the database, and
the parsed process definitions are cached by content hash, so every worker holds the same ones.
"""
import os

from webapp.worker_start import ready_worker

wsgi_app = "webapp:create_app()"
bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or 4)
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 60)
graceful_timeout = 30
# A worker is replaced after this many requests, spread so that they are not all replaced at once.
max_requests = 2000
max_requests_jitter = 200
# With preload the database engine is created before the fork: engine.db gives every forked worker
# fresh connections (os.register_at_fork), so no socket is shared between processes.
preload_app = os.environ.get("GUNICORN_PRELOAD", "").lower() in ("1", "true", "yes", "oui")

# Managed by systemd and signals; gunicorn 27's control socket has one default path per user, which two
# servers on one machine would share.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logger_class = "webapp.logging_setup.GunicornLogger"
# Text access lines; with LOG_FORMAT=json the logger class writes the same fields as a JSON object.
access_log_format = ('%(h)s "%(r)s" %(s)s %(B)s %(M)sms req=%({campagne.request_id}e)s '
                     'user=%({campagne.user}e)s instance=%({campagne.instance_id}e)s')
# Gunicorn must trust the X-Forwarded-* headers of the proxy in front only (TRUSTED_PROXIES for the app).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Ready the worker once the app is loaded (`webapp.worker_start`): warm-up, then the collector for its life.

    What the worker holds after start-up is frozen, left out of every collection; what requests create is
    collected every 20,000 allocations instead of 700 (figures 2 and 5 of BENCHMARKS.md). What the warm-up parsed
    and compiled is frozen with the rest.
    """
    ready_worker(worker.wsgi)
