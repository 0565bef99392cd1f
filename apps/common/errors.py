"""Domain errors that services raise and every interface (admin, pages, API, commands) turns into a clear answer."""

from __future__ import annotations


class InvalidTransition(Exception):
    """The object is not in a state that allows this action (API: 409 Conflict)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
