"""gunicorn settings for ``gunicorn wsgi:app`` (read automatically from the working directory).

Every value can be overridden on the command line or through the environment variables named here.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # behind a reverse proxy on the same host
# sync workers: (2 x cores) + 1 is gunicorn's rule of thumb for I/O-bound apps (database waits)
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))  # a request stuck longer is killed and logged
graceful_timeout = 30  # on SIGTERM, finish requests in flight (deploys, scale-in)
keepalive = 5  # seconds; a load balancer's idle timeout should be longer
max_requests = 2000  # recycle workers now and then, so a slow leak never grows
max_requests_jitter = 200
# Import the app once in the master: a misconfigured production start fails once, with one message,
# before any worker forks (and workers share the imported code's memory).
preload_app = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# one JSON object per line, joined to the app's logs by the request id the app returns
access_log_format = (
    '{"time": "%(t)s", "remote_addr": "%(h)s", "method": "%(m)s", "path": "%(U)s", "query": "%(q)s", '
    '"status": %(s)s, "bytes": "%(B)s", "duration_ms": %(M)s, "request_id": "%({x-request-id}o)s", '
    '"user_agent": "%(a)s"}'
)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
