"""Bounds of values that reach the database, so an absurd number is a 400 rather than an overflow (500)."""

# The largest id a BigAutoField holds on PostgreSQL and SQLite (signed 64 bits).
MAX_DATABASE_ID = 2**63 - 1

_UNITS = ((1024**3, "GB"), (1024**2, "MB"), (1024, "KB"))


def exact_bytes(size: int) -> str:
    """A byte count with thousands separators, never rounded: '10,485,761 bytes'."""
    return "1 byte" if size == 1 else f"{size:,} bytes"


def limit_text(limit: int) -> str:
    """A size limit, exact, with its round name when it has one: '10,485,760 bytes (10 MB)'.

    The round name is given only when it is exact (a whole number of KB, MB or GB of 1024), so a size one byte over
    the limit can never read the same as the limit.
    """
    for unit, name in _UNITS:
        if limit >= unit and limit % unit == 0:
            return f"{exact_bytes(limit)} ({limit // unit:,} {name})"
    return exact_bytes(limit)


def too_large_message(what: str, *, size: int, limit: int) -> str:
    """'The file is 10,485,761 bytes; the limit is 10,485,760 bytes (10 MB).'"""
    return f"The {what} is {exact_bytes(size)}; the limit is {limit_text(limit)}."
