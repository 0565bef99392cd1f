"""The data map of the framework's and libraries' tables that hold people's data: users, sign-ins, the audit trail."""

from __future__ import annotations

from .types import LEGAL_OBLIGATION, NONE, SECURITY_INTEREST, Category, Entry, Erase, Field, Subject, plain, tech

C, E = Category, Erase

_SIGN_IN_RETENTION = (
    "Failed and successful sign-ins: kept for security review, cleaned with axes' own commands "
    "(axes_reset); rows naming the person are deleted on erasure."
)


def _axes(model: str, purpose: str, *extra: Field) -> Entry:
    return Entry(
        model=model,
        purpose=purpose,
        legal_basis=SECURITY_INTEREST,
        retention=_SIGN_IN_RETENTION,
        # axes records the login name typed, not a user: matched by the user's username.
        subjects=(Subject("user", "username"),),
        fields=(
            *tech("id", "path_info", "attempt_time"),
            Field("user_agent", C.SECURITY, E.BLANK),
            Field("ip_address", C.SECURITY, E.BLANK),
            Field("username", C.IDENTITY, E.BLANK, "The login name typed."),
            Field("http_accept", C.SECURITY, E.BLANK),
            *extra,
        ),
    )


PLATFORM = (
    Entry(
        model="auth.user",
        purpose="Sign-in accounts of employees, reviewers and HR, and their permissions.",
        legal_basis="Contract (art. 6(1)(b)) and legitimate interest (art. 6(1)(f)): access to the system",
        retention="While the person needs access; erasure pseudonymises the row, makes it inactive and its password "
        "unusable (the id stays: decisions name who made them).",
        subjects=(Subject("user", "pk"),),
        fields=(
            *tech("id", "is_superuser", "is_staff", "is_active", "date_joined"),
            Field("password", C.SECURITY, E.BLANK, "A hash; replaced by an unusable password."),
            Field("last_login", C.SECURITY, E.BLANK),
            Field("username", C.IDENTITY, E.PSEUDONYM, "Unique, so a numbered pseudonym."),
            Field("first_name", C.IDENTITY, E.PSEUDONYM),
            Field("last_name", C.IDENTITY, E.PSEUDONYM),
            Field("email", C.CONTACT, E.BLANK),
        ),
    ),
    Entry(
        model="auth.group",
        purpose="Roles (HR, reviewers) that carry permissions.",
        legal_basis=NONE,
        retention="As long as the role exists; not personal.",
        subjects=(),
        fields=(*tech("id"), *plain("name")),
    ),
    Entry(
        model="admin.logentry",
        purpose="Django admin's own history of changes made in the admin (the audit trail is the full record).",
        legal_basis=LEGAL_OBLIGATION,
        retention="Kept with the audit trail; texts naming an erased person are blanked.",
        subjects=(Subject("user", "user"),),
        fields=(
            *tech("id", "action_time", "user", "content_type", "object_id", "action_flag"),
            Field("object_repr", C.IDENTITY, E.BLANK, "The changed object's text: may name a person."),
            Field("change_message", C.IDENTITY, E.BLANK, "Changed fields and added objects' texts."),
        ),
    ),
    Entry(
        model="sessions.session",
        purpose="Signed-in browser sessions.",
        legal_basis=SECURITY_INTEREST,
        retention="Until the session expires (SESSION_COOKIE_AGE) and clearsessions runs; deleted on erasure. "
        "A session names its user only inside the encoded data, so it has no lookup here.",
        subjects=(),
        fields=(
            *tech("expire_date"),
            Field("session_key", C.SECURITY, E.KEEP, "The row is deleted, not blanked."),
            Field("session_data", C.SECURITY, E.KEEP, "The row is deleted, not blanked."),
        ),
    ),
    Entry(
        model="authtoken.token",
        purpose="API tokens of users who call the REST API.",
        legal_basis=SECURITY_INTEREST,
        retention="Until revoked; deleted on erasure.",
        subjects=(Subject("user", "user"),),
        fields=(*tech("user", "created"), Field("key", C.SECURITY, E.KEEP, "The row is deleted, not blanked.")),
    ),
    _axes(
        "axes.accessattempt",
        "Failed sign-ins counted toward a lockout (django-axes).",
        Field("get_data", C.SECURITY, E.BLANK, "Query string of the attempt."),
        Field("post_data", C.SECURITY, E.BLANK, "Form data of the attempt (axes masks the password)."),
        *tech("failures_since_start"),
    ),
    _axes(
        "axes.accesslog",
        "Sign-ins and sign-outs (django-axes).",
        *tech("logout_time"),
        Field("session_hash", C.SECURITY, E.BLANK),
    ),
    _axes("axes.accessfailurelog", "Every failed sign-in (django-axes).", *tech("locked_out")),
    Entry(
        model="axes.accessattemptexpiration",
        purpose="When a failed-attempt record expires (django-axes).",
        legal_basis=NONE,
        retention="With its attempt.",
        subjects=(),
        fields=tech("access_attempt", "expires_at"),
    ),
    Entry(
        model="audit.auditevent",
        purpose="The append-only, hash-chained record of every change and domain event.",
        legal_basis=LEGAL_OBLIGATION,
        retention="Kept for good (the chain must verify). Personal values are stored encrypted with the person's key; "
        "erasure destroys the key (crypto-shredding), the events and their hashes stay.",
        subjects=(),
        fields=(
            *tech("id", "occurred_at", "actor_user_id", "request_id", "action", "object_type", "object_id", "txid"),
            Field("actor_name", C.IDENTITY, E.KEEP, "Encrypted with the acting user's key; unreadable once erased."),
            Field("actor_ip", C.SECURITY, E.KEEP, "Part of the record of who acted from where."),
            Field("object_repr", C.IDENTITY, E.KEEP, "Encrypted with the key of the object's person."),
            Field("changes", C.IDENTITY, E.KEEP, "Personal values encrypted with their person's key."),
            Field(
                "context",
                C.SECURITY,
                E.KEEP,
                "Ids, counts and reasons; review comments and decision notes encrypted with their person's key; a "
                "failed sign-in keeps the login name typed, in clear (it may name nobody).",
            ),
        ),
    ),
    Entry(
        model="audit.auditseal",
        purpose="Each event's place in the hash chain.",
        legal_basis=NONE,
        retention="Kept for good.",
        subjects=(),
        fields=tech("sequence", "event", "prev_hash", "hash", "scheme", "sealed_at"),
    ),
    Entry(
        model="audit.personkey",
        purpose="The key per person that encrypts their values in the audit trail.",
        legal_basis=LEGAL_OBLIGATION,
        retention="Until the person is erased: then the key is destroyed and the row kept (erased_at).",
        subjects=(),
        fields=(
            *tech("id", "person_type", "person_id", "created_at", "erased_at"),
            Field("key", C.SECURITY, E.KEEP, "Destroyed by erasure (apps.audit.personal.person_erase)."),
        ),
    ),
)
