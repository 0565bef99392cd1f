"""Gunicorn's settings for production, read from the working directory by `gunicorn ritualcriteria.wsgi`.

Behind a reverse proxy that buffers requests and answers (nginx, a cloud load balancer), which the production
settings assume anyway (it terminates TLS: SECURE_PROXY_SSL_HEADER). Each worker process serves one request at a
time (gunicorn's sync workers): a request is Python work plus a few quick database statements, so more threads in a
process only queue on its interpreter lock, while a process takes a connection only when it is free. bench/load.py
measured both on two cores (docs/benchmarks.md): with threads and keep-alive connections, the connections stayed
with whichever process accepted them, and two thirds of the clients waited three times longer than the rest.

Environment: WEB_CONCURRENCY (worker processes; default two per core), GUNICORN_TIMEOUT (seconds a request may
take before its worker is replaced; default 120, for the largest report and audit exports). Anything else through
gunicorn's own GUNICORN_CMD_ARGS, e.g. GUNICORN_CMD_ARGS="--bind=0.0.0.0:8000".
"""

import os

worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 120)
graceful_timeout = 30
