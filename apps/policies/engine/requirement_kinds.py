"""Requirement kinds: their parameter schemas, validation, help texts and one-line descriptions.

Pure Python (no Django) so the admin, the API and the engine share one definition of what a
requirement's params mean.
"""

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final


class RequirementKind(StrEnum):
    """The kinds of requirement a policy version can hold."""

    MIN_EVIDENCE = "min_evidence"
    METRIC_IMPROVEMENT = "metric_improvement"
    DISTINCT_CATEGORIES = "distinct_categories"
    CUSTOMER_VOICE = "customer_voice"
    INTERNAL_CUSTOMER = "internal_customer"
    OUTCOME_CAP = "outcome_cap"
    ATTESTATION = "attestation"
    RESPONDS_TO_INSIGHTS = "responds_to_insights"


# Modifiers change how other requirements count; they are never unmet themselves.
MODIFIER_KINDS: Final[frozenset[RequirementKind]] = frozenset({RequirementKind.OUTCOME_CAP})
COUNT_KINDS: Final[frozenset[RequirementKind]] = frozenset(
    {
        RequirementKind.MIN_EVIDENCE,
        RequirementKind.METRIC_IMPROVEMENT,
        RequirementKind.CUSTOMER_VOICE,
        RequirementKind.INTERNAL_CUSTOMER,
        RequirementKind.RESPONDS_TO_INSIGHTS,
    }
)

CUSTOMER_TYPES: Final[tuple[str, ...]] = ("any", "external", "internal")
ATTESTATION_ROLES: Final[tuple[str, ...]] = ("manager", "hr", "leadership", "skip_level_manager")
ROLE_LABELS: Final[dict[str, str]] = {
    "manager": "the manager",
    "hr": "HR",
    "leadership": "leadership",
    "skip_level_manager": "the skip-level manager",
}
# A window longer than a century is a typo, and date arithmetic would overflow long before infinity.
MAX_WINDOW_DAYS: Final[int] = 36_500
MAX_IMPROVEMENT_PCT: Final[int] = 1000

KIND_LABELS: Final[dict[RequirementKind, str]] = {
    RequirementKind.MIN_EVIDENCE: "Minimum verified evidence",
    RequirementKind.METRIC_IMPROVEMENT: "Operational metric improvements",
    RequirementKind.DISTINCT_CATEGORIES: "Breadth across evidence categories",
    RequirementKind.CUSTOMER_VOICE: "Customer voice (quoted and sourced)",
    RequirementKind.INTERNAL_CUSTOMER: "Internal customers in other units",
    RequirementKind.OUTCOME_CAP: "Cap on survey-score evidence",
    RequirementKind.ATTESTATION: "Attestation by a role",
    RequirementKind.RESPONDS_TO_INSIGHTS: "Responses to customer insights",
}
KIND_CHOICES: Final[list[tuple[str, str]]] = [(kind.value, label) for kind, label in KIND_LABELS.items()]

KIND_HELP: Final[dict[RequirementKind, str]] = {
    RequirementKind.MIN_EVIDENCE: (
        "At least N verified evidence items matching the given categories, customer type and touchpoints, "
        "with an impact date inside the window. Leave categories or touchpoints empty to accept any; "
        'customer_type is "any", "external" or "internal"; within_days null means no window. '
        'Example: {"count": 2, "categories": ["customer_story"], "within_days": 365} = '
        '"2 verified customer stories from the last 12 months".'
    ),
    RequirementKind.METRIC_IMPROVEMENT: (
        "At least N verified operational-metric items (a KPI the person could move, not a survey score) "
        "with a baseline and a result, improved in the metric's good direction by at least "
        "min_improvement_pct percent of the baseline (0 = any strict improvement). "
        'Example: {"count": 1, "min_improvement_pct": 10, "within_days": 365} = '
        '"one operational KPI improved by 10% or more in the last 12 months".'
    ),
    RequirementKind.DISTINCT_CATEGORIES: (
        "Verified evidence must span at least K different evidence categories, so one kind of "
        "contribution cannot carry the whole case. "
        'Example: {"count": 3, "within_days": 730} = "verified evidence in 3 different categories from '
        'the last 2 years".'
    ),
    RequirementKind.CUSTOMER_VOICE: (
        "At least N verified items that quote the customer and name where the quote came from "
        "(a source type and a reference such as a ticket number or interview note). "
        'Example: {"count": 1, "within_days": 365} = "one sourced customer quote from the last 12 months".'
    ),
    RequirementKind.INTERNAL_CUSTOMER: (
        "At least N verified items whose customer is another org unit inside the company, so back-office "
        "roles show who receives their work. Work for one's own unit does not count. "
        'Example: {"count": 2, "within_days": 365} = "2 verified items for internal customers in other '
        'units from the last 12 months".'
    ),
    RequirementKind.OUTCOME_CAP: (
        "Modifier: survey-score evidence (NPS, CSAT and other outcome scores) counts at most `max` items "
        "toward each other requirement of the policy; the most recent ones count. It is never unmet "
        "itself. If several caps apply, the smallest wins. "
        'Example: {"max": 1} = "at most one survey-score item counts toward any single requirement".'
    ),
    RequirementKind.ATTESTATION: (
        "Met when the case carries an attestation by the named role: manager, hr, leadership or "
        'skip_level_manager. Example: {"role": "manager"} = "the manager has attested to the evidence".'
    ),
    RequirementKind.RESPONDS_TO_INSIGHTS: (
        "At least N verified evidence items that respond to a customer insight routed to the person's own "
        "group (created from the group's insight inbox), with an impact date inside the window. Responses to "
        "insights of other groups do not count, so the group's customers are the ones answered. "
        'Example: {"count": 2, "within_days": 90} = "at least 2 verified responses to customer insights sent '
        "to the person's group, from the last 90 days\"."
    ),
}


class ParamsError(ValueError):
    """Requirement params are invalid; `errors` maps each field to human-readable messages."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors: dict[str, list[str]] = {field: list(msgs) for field, msgs in errors.items()}
        super().__init__("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in self.errors.items()))


class _Invalid(Exception):
    """One field's value is invalid (internal signal, collected into ParamsError)."""


@dataclass(frozen=True, slots=True)
class _Context:
    """Codes known to the installation, needed to validate list params."""

    category_codes: Collection[str]
    touchpoint_codes: Collection[str]


def _whole_number(value: object, minimum: int, maximum: int | None = None) -> int | None:
    """Return value as an int within bounds, or None; bools are refused although Python calls them ints."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        number = int(value)
    else:
        return None
    if number < minimum or (maximum is not None and number > maximum):
        return None
    return number


def _count(value: object, ctx: _Context) -> int:
    number = _whole_number(value, 1)
    if number is None:
        raise _Invalid("Must be a whole number of at least 1.")
    return number


def _cap_max(value: object, ctx: _Context) -> int:
    number = _whole_number(value, 0)
    if number is None:
        raise _Invalid("Must be a whole number of at least 0.")
    return number


def _within_days(value: object, ctx: _Context) -> int | None:
    if value is None:
        return None
    number = _whole_number(value, 1, MAX_WINDOW_DAYS)
    if number is None:
        raise _Invalid(f"Must be a whole number of days from 1 to {MAX_WINDOW_DAYS}, or null for no window.")
    return number


def _improvement_pct(value: object, ctx: _Context) -> int | float:
    message = f"Must be a number between 0 and {MAX_IMPROVEMENT_PCT} (percent)."
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise _Invalid(message)
    if isinstance(value, Decimal) and not value.is_finite():
        raise _Invalid(message)  # float() of a signalling NaN raises instead of giving nan
    number = float(value)
    if not math.isfinite(number) or not 0 <= number <= MAX_IMPROVEMENT_PCT:
        raise _Invalid(message)
    # Keep integers as ints so cleaned params round-trip through JSON unchanged.
    return int(number) if number.is_integer() else number


def _code_list(what: str, known: Collection[str], value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise _Invalid(f"Must be a list of {what} codes.")
    cleaned = list(dict.fromkeys(value))
    unknown = [code for code in cleaned if code not in known]
    if unknown:
        known_text = ", ".join(sorted(known)) or "(none)"
        raise _Invalid(f"Unknown {what} code(s): {', '.join(unknown)}. Known: {known_text}.")
    return cleaned


def _categories(value: object, ctx: _Context) -> list[str]:
    return _code_list("category", ctx.category_codes, value)


def _touchpoints(value: object, ctx: _Context) -> list[str]:
    return _code_list("touchpoint", ctx.touchpoint_codes, value)


def _one_of(choices: tuple[str, ...]) -> Callable[[object, _Context], str]:
    def check(value: object, ctx: _Context) -> str:
        if not isinstance(value, str) or value not in choices:
            raise _Invalid(f"Must be one of: {', '.join(choices)}.")
        return value

    return check


@dataclass(frozen=True, slots=True)
class _Field:
    """One param: how to clean it, and its default when absent (required fields have none)."""

    clean: Callable[[object, _Context], Any]
    required: bool = False
    default: Callable[[], Any] = lambda: None


_REQUIRED_COUNT = _Field(_count, required=True)
_WINDOW = _Field(_within_days)
_CATEGORIES = _Field(_categories, default=list)

_SCHEMAS: Final[dict[RequirementKind, dict[str, _Field]]] = {
    RequirementKind.MIN_EVIDENCE: {
        "count": _REQUIRED_COUNT,
        "categories": _CATEGORIES,
        "customer_type": _Field(_one_of(CUSTOMER_TYPES), default=lambda: "any"),
        "touchpoints": _Field(_touchpoints, default=list),
        "within_days": _WINDOW,
    },
    RequirementKind.METRIC_IMPROVEMENT: {
        "count": _REQUIRED_COUNT,
        "min_improvement_pct": _Field(_improvement_pct, default=lambda: 0),
        "categories": _CATEGORIES,
        "within_days": _WINDOW,
    },
    RequirementKind.DISTINCT_CATEGORIES: {"count": _REQUIRED_COUNT, "within_days": _WINDOW},
    RequirementKind.CUSTOMER_VOICE: {"count": _REQUIRED_COUNT, "within_days": _WINDOW},
    RequirementKind.INTERNAL_CUSTOMER: {"count": _REQUIRED_COUNT, "within_days": _WINDOW},
    RequirementKind.OUTCOME_CAP: {"max": _Field(_cap_max, required=True)},
    RequirementKind.ATTESTATION: {"role": _Field(_one_of(ATTESTATION_ROLES), required=True)},
    RequirementKind.RESPONDS_TO_INSIGHTS: {"count": _REQUIRED_COUNT, "within_days": _WINDOW},
}


_KIND_VALUES: Final[tuple[str, ...]] = tuple(kind.value for kind in RequirementKind)


def parse_kind(kind: object) -> RequirementKind:
    """Return the RequirementKind for a stored kind value, or raise ParamsError naming the valid kinds."""
    if isinstance(kind, str) and kind in _KIND_VALUES:
        return RequirementKind(kind)
    message = f"Unknown requirement kind {kind!r}. Choose one of: {', '.join(_KIND_VALUES)}."
    raise ParamsError({"kind": [message]})


def validate_params(
    kind: str, params: object, *, category_codes: Collection[str], touchpoint_codes: Collection[str]
) -> dict[str, Any]:
    """Return params cleaned for `kind` (defaults filled, numbers normalised) or raise ParamsError."""
    parsed = parse_kind(kind)
    if not isinstance(params, Mapping):
        message = f"Parameters must be a JSON object of names and values, not {type(params).__name__}."
        raise ParamsError({"__all__": [message]})
    bad_names = [name for name in params if not isinstance(name, str)]
    if bad_names:
        raise ParamsError({"__all__": [f"Parameter names must be text; got {bad_names[0]!r}."]})

    schema = _SCHEMAS[parsed]
    ctx = _Context(category_codes=category_codes, touchpoint_codes=touchpoint_codes)
    errors: dict[str, list[str]] = {}
    for name in params:
        if name not in schema:
            allowed = ", ".join(sorted(schema))
            errors[name] = [f"Unknown parameter '{name}' for {parsed.value}. Allowed: {allowed}."]
    cleaned: dict[str, Any] = {}
    for name, field in schema.items():
        if name not in params:
            if field.required:
                errors[name] = ["This field is required."]
            else:
                cleaned[name] = field.default()
            continue
        try:
            cleaned[name] = field.clean(params[name], ctx)
        except _Invalid as exc:
            errors[name] = [str(exc)]
    if errors:
        raise ParamsError(errors)
    return cleaned


def _either(items: list[str]) -> str:
    """Join items as "a", "a or b", "a, b or c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"


def _names(codes: Collection[str], category_names: Mapping[str, str] | None) -> list[str]:
    if category_names is None:
        return list(codes)
    return [category_names.get(code, code) for code in codes]


def _window(params: Mapping[str, Any]) -> str:
    days = params.get("within_days")
    if days is None:
        return ""
    return f" within {days} day" if days == 1 else f" within {days} days"


def _fmt_number(value: float) -> str:
    """Render 10.0 as "10" and 12.5 as "12.5" so sentences read naturally."""
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def requirement_phrase(
    kind: str,
    params: Mapping[str, Any],
    *,
    plural: bool = True,
    category_names: Mapping[str, str] | None = None,
) -> str:
    """Return what a count-like requirement counts, without the number: "verified customer_story items"."""
    parsed = RequirementKind(kind)
    s = "s" if plural else ""
    window = _window(params)
    if parsed is RequirementKind.MIN_EVIDENCE:
        cats = _names(params.get("categories") or [], category_names)
        what = f"verified {_either(cats)} item{s}" if cats else f"verified item{s}"
        customer_type = params.get("customer_type", "any")
        if customer_type != "any":
            what += f" for {customer_type} customers"
        touchpoints = list(params.get("touchpoints") or [])
        if touchpoints:
            what += f" via touchpoint{'s' if len(touchpoints) > 1 else ''} {_either(touchpoints)}"
        return what + window
    if parsed is RequirementKind.METRIC_IMPROVEMENT:
        what = f"operational-metric improvement{s}"
        pct = params.get("min_improvement_pct") or 0
        if pct:
            what += f" of at least {_fmt_number(pct)}%"
        cats = _names(params.get("categories") or [], category_names)
        if cats:
            what += f" in {_either(cats)}"
        return what + window
    if parsed is RequirementKind.DISTINCT_CATEGORIES:
        return f"distinct categor{'ies' if plural else 'y'} covered by verified evidence{window}"
    if parsed is RequirementKind.CUSTOMER_VOICE:
        return f"verified customer quote{s} with a named source{window}"
    if parsed is RequirementKind.INTERNAL_CUSTOMER:
        if plural:
            return f"verified items for internal customers in other units{window}"
        return f"verified item for an internal customer in another unit{window}"
    if parsed is RequirementKind.RESPONDS_TO_INSIGHTS:
        days = params.get("within_days")
        since = "" if days is None else (", from the last day" if days == 1 else f", from the last {days} days")
        return f"verified response{s} to customer insights sent to the person's group{since}"
    if parsed is RequirementKind.OUTCOME_CAP:
        return f"survey-score item{s}"
    return f"attestation{s}"


def describe(kind: str, params: Mapping[str, Any], *, category_names: Mapping[str, str] | None = None) -> str:
    """Return a short human sentence for a requirement: "2 verified customer_story items within 365 days"."""
    parsed = RequirementKind(kind)
    if parsed is RequirementKind.OUTCOME_CAP:
        cap = params["max"]
        if cap == 0:
            return "Survey-score items do not count toward any requirement"
        items = "survey-score item counts" if cap == 1 else "survey-score items count"
        return f"At most {cap} {items} toward each requirement"
    if parsed is RequirementKind.ATTESTATION:
        role = params.get("role", "")
        return f"Attestation by {ROLE_LABELS.get(role, role)}"
    count = params["count"]
    if parsed is RequirementKind.RESPONDS_TO_INSIGHTS:
        # Read by HR deciding whether a group answered its customers: "at least" says more can be done.
        return f"At least {count} {requirement_phrase(parsed, params, plural=count != 1)}"
    return f"{count} {requirement_phrase(parsed, params, plural=count != 1, category_names=category_names)}"


def param_names(kind: str) -> tuple[str, ...]:
    """The parameter names a kind accepts, in schema order; raises ParamsError for an unknown kind."""
    return tuple(_SCHEMAS[parse_kind(kind)])


def kinds_using(param: str) -> tuple[RequirementKind, ...]:
    """The kinds whose schema has a parameter of this name, in declaration order."""
    return tuple(kind for kind, schema in _SCHEMAS.items() if param in schema)
