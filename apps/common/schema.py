"""The OpenAPI schema's shared rules, added by one drf-spectacular postprocessing hook after the views' own.

The views declare what is particular to them (a 409 for a status that forbids an action, the 400 of an import). What
every operation shares is added here, so the schema says what the API really answers and accepts:

- the standard error answers with their bodies: 400 (field errors) where an operation reads a body or a query
  string, 401/403 (`{"detail": ...}`) where it asks for credentials, 404 where it names an object in its path or
  pages a list, 429 where basic auth can meet the failed-login lockout (apps/common/login_protection.py);
  responses a view declares are never replaced;
- the text rule of apps/common/text.py: free text a client sends holds no control characters (a `pattern`);
- ids fit a bigint column: integer path and query parameters are int64 (and path ids start at 1);
- request bodies are their listed fields only (`additionalProperties: false`): the API ignores other fields but
  refuses those whose names hold control characters, and OpenAPI 3.0 has no `propertyNames` to say just that;
- what a serializer's `validate()` requires across fields, which drf-spectacular cannot see: the serializer names it
  with `@extend_schema_serializer(extensions={CONSTRAINTS: {...JSON Schema keywords...}})` and the hook moves the
  keywords into the component (drf-spectacular passes only `x-` keys through).
"""

from __future__ import annotations

from typing import Any

from apps.common.limits import MAX_DATABASE_ID

# apps.common.text.CONTROL_CHARACTERS, as a whole-value ECMA-262 pattern (the dialect of OpenAPI's `pattern`).
NO_CONTROL_CHARACTERS = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
MIN_DATABASE_INTEGER = -(2**63)
# The extension a serializer puts its cross-field rules under (e.g. {"anyOf": [...]}); see the module docstring.
CONSTRAINTS = "x-constraints"

ERROR = "Error"
FIELD_ERRORS = "FieldErrors"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The body of a 401, 403, 404, 409 or 429 answer.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
FIELD_ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        'The body of a 400 answer: messages by field, e.g. {"title": ["This field is required."]}; a problem that'
        ' belongs to no single field under "non_field_errors", a malformed body as {"detail": "..."}; a list\'s'
        " errors by position."
    ),
    "additionalProperties": {
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {}},
            {"type": "object", "additionalProperties": {}},
        ]
    },
}
STANDARD_ANSWERS = {
    "400": (FIELD_ERRORS, "Invalid input: the messages name the field (or the parameter) they are about."),
    "401": (ERROR, "No credentials, or wrong ones."),
    "403": (ERROR, "Signed in, but not allowed to do this."),
    "404": (ERROR, "No such object, or you may not see it; or a page past the last one."),
    "429": (ERROR, "Too many failed sign-ins from here: locked out for a while."),
}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def add_standard_errors_and_input_rules(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(ERROR, ERROR_SCHEMA)
    schemas.setdefault(FIELD_ERRORS, FIELD_ERRORS_SCHEMA)
    for component in schemas.values():
        component.update(component.pop(CONSTRAINTS, {}))
    request_components: set[str] = set()
    for path_item in result.get("paths", {}).values():
        for method in HTTP_METHODS:
            if (operation := path_item.get(method)) is not None:
                _add_standard_answers(operation)
                for parameter in operation.get("parameters", []):
                    _constrain_parameter(parameter)
                for media in operation.get("requestBody", {}).get("content", {}).values():
                    _collect_refs(media.get("schema", {}), schemas, request_components)
                    if _asks_for_fields(media.get("schema", {}), schemas):
                        operation["requestBody"]["required"] = True
    for name in sorted(request_components):
        _constrain_request_component(schemas[name])
    return result


def _add_standard_answers(operation: dict[str, Any]) -> None:
    parameters = operation.get("parameters", [])
    security = [scheme for requirement in operation.get("security", []) for scheme in requirement]
    applies = {
        "400": "requestBody" in operation or any(p["in"] == "query" for p in parameters),
        "401": bool(security),
        "403": bool(security),
        "404": any(p["in"] == "path" for p in parameters)
        or any(p["in"] == "query" and p["name"] == "page" for p in parameters),
        "429": "basicAuth" in security,
    }
    responses = operation.setdefault("responses", {})
    for status, (component, description) in STANDARD_ANSWERS.items():
        if applies[status] and status not in responses:  # what a view declares stays as it is
            responses[status] = {
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
                "description": description,
            }


def _asks_for_fields(schema: dict[str, Any], schemas: dict[str, Any]) -> bool:
    """Whether a body must name some field: then an absent body is no valid request (drf-spectacular sees only the
    serializer's required fields, not a rule like "ids or all")."""
    ref = schema.get("$ref", "")
    component = schemas.get(ref.rsplit("/", 1)[1], {}) if ref.startswith("#/components/schemas/") else schema
    return any(
        branches and all(branch.get("required") for branch in branches)
        for branches in (component.get("anyOf"), component.get("oneOf"))
    )


def _constrain_parameter(parameter: dict[str, Any]) -> None:
    schema = parameter.get("schema", {})
    for value in (schema, schema.get("items", {})):
        if value.get("type") == "integer":
            value.setdefault("format", "int64")
            value.setdefault("maximum", MAX_DATABASE_ID)
            value.setdefault("minimum", 1 if parameter["in"] == "path" else MIN_DATABASE_INTEGER)
        _constrain_text(value)


def _constrain_text(schema: dict[str, Any]) -> None:
    """Free text (no enum, format or pattern of its own) holds no control characters."""
    if schema.get("type") == "string" and not {"enum", "format", "pattern"} & schema.keys():
        schema["pattern"] = NO_CONTROL_CHARACTERS


def _collect_refs(schema: Any, schemas: dict[str, Any], found: set[str]) -> None:
    """The components a request body names, directly or through its fields."""
    if isinstance(schema, list):
        for item in schema:
            _collect_refs(item, schemas, found)
    elif isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in found and name in schemas:
                found.add(name)
                _collect_refs(schemas[name], schemas, found)
        for value in schema.values():
            _collect_refs(value, schemas, found)


def _constrain_request_component(component: dict[str, Any]) -> None:
    if component.get("type") != "object" or "properties" not in component:
        return
    component.setdefault("additionalProperties", False)
    for field in component["properties"].values():
        if field.get("readOnly"):
            continue
        for value in (field, field.get("items", {})):
            _constrain_text(value)
            if value.get("type") == "integer":
                value.setdefault("maximum", MAX_DATABASE_ID)
                value.setdefault("minimum", MIN_DATABASE_INTEGER)
