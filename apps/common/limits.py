"""Bounds of values that reach the database, so an absurd number is a 400 rather than an overflow (500)."""

# The largest id a BigAutoField holds on PostgreSQL and SQLite (signed 64 bits).
MAX_DATABASE_ID = 2**63 - 1
