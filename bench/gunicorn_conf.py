"""Gunicorn settings of the benchmark server: each response says how many SQL statements it sent, and how long
the worker spent on it.

Its workers warm up and set the garbage collector as the platform's gunicorn.conf.py does.

Only the benchmark loads this file. The header `X-Bench-Sql` carries the count
of statements the worker's database engine executed for the request, so that
the load generator can report statements per completion over HTTP. The header
`X-Bench-Ms` carries the time from the app's call to its response's start, in
the worker: the rest of a request's latency is the connection, HTTP and the client.
"""
import time

from sqlalchemy import event

from webapp.worker_start import ready_worker

worker_class = "sync"
timeout = 120


def post_worker_init(worker):
    """Wrap the worker's app to count the SQL statements of each request and time it."""
    app = worker.wsgi
    counted = {"statements": 0}

    def seen(*_args):
        counted["statements"] += 1

    event.listen(app.extensions["db_engine"], "before_cursor_execute", seen)
    inner = app.wsgi_app

    def counting(environ, start_response):
        counted["statements"] = 0
        began = time.perf_counter()

        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, ("X-Bench-Sql", str(counted["statements"])),
                                           ("X-Bench-Ms", f"{(time.perf_counter() - began) * 1000:.3f}")], exc_info)

        return inner(environ, start)

    app.wsgi_app = counting
    # As the platform's gunicorn.conf.py does.
    ready_worker(app)
