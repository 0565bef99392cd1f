"""Gunicorn's settings for production, read from the working directory by `gunicorn ritualcriteria.wsgi`.

Behind a reverse proxy that buffers requests and answers (nginx, a cloud load balancer), which the production
settings assume anyway (it terminates TLS: SECURE_PROXY_SSL_HEADER). Each worker process serves one request at a
time (gunicorn's sync workers): a request is Python work plus a few quick database statements, so more threads in a
process only queue on its interpreter lock, while a process takes a connection only when it is free. bench/load.py
measured both on two cores (docs/benchmarks.md): with threads and keep-alive connections, the connections stayed
with whichever process accepted them, and two thirds of the clients waited three times longer than the rest.

A worker that served a big request (an export, a dashboard of a large company) keeps the memory it grew to: Python
returns little of it to the system (issue #25 measured 170-560 MB per worker afterwards). So each worker is replaced
after GUNICORN_MAX_REQUESTS requests, plus a random 0 to GUNICORN_MAX_REQUESTS_JITTER more, so that the workers do not
all restart at once; gunicorn starts the new worker before the old one exits, and the request in flight finishes.

Environment: WEB_CONCURRENCY (worker processes; default two per core), GUNICORN_TIMEOUT (seconds a request may
take before its worker is replaced; default 120, for the largest report and audit exports), GUNICORN_MAX_REQUESTS
(default 1000; 0 never replaces a worker) and GUNICORN_MAX_REQUESTS_JITTER (default 100). Anything else through
gunicorn's own GUNICORN_CMD_ARGS, e.g. GUNICORN_CMD_ARGS="--bind=0.0.0.0:8000".
"""

import os

worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 120)
graceful_timeout = 30
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 1000)
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER") or 100)
