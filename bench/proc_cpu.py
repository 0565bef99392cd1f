"""CPU seconds of processes, read from /proc (Linux), for the benchmarks judged on CPU time."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK")


def stat_fields(pid: int | str) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name: [0] state, [3] session, [11] utime, [12] stime."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_of(fields: list[str]) -> float:
    """User plus system CPU seconds from a process's stat fields."""
    return (int(fields[11]) + int(fields[12])) / TICKS


def database_server_cpu(connection: Any) -> float:
    """CPU seconds so far of a Django connection's PostgreSQL server process (0 on SQLite: it runs in ours).

    The server process is asked for its pid each time: one small query, and always the current process, also after
    Django reconnected."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return cpu_of(stat_fields(pid))
