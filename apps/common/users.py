"""The signed-in user of a view that requires sign-in, typed as the user model it is."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import AnonymousUser, User


def signed_in_user(user: User | AnonymousUser) -> User:
    """`request.user` in a view that runs only after sign-in (login_required, the API's IsAuthenticated, the admin).

    The sign-in check ran before the view, so the user is never anonymous here; services record who acted through
    foreign keys to User. Typing only: the object is returned as it is.
    """
    return cast(User, user)
