"""Validate request bodies against Discord's vendored OpenAPI 3.1 spec.

The spec is large (about 1 MB), so it is parsed and the registry is built once
per process; validators per operation are cached as well.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).parent / "spec" / "openapi.json"
_SPEC_URI = "urn:discord:openapi"
_NUMERIC = re.compile(r"-?[0-9]+")

JSON = dict[str, Any]


def _pointer_escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _is_integer(checker: Any, instance: object) -> bool:
    # Discord accepts integers sent as numeric strings (permission bits, nonces).
    if isinstance(instance, str):
        return _NUMERIC.fullmatch(instance) is not None
    return bool(Draft202012Validator.TYPE_CHECKER.is_type(instance, "integer"))


def _numeric_bound(keyword: str) -> Any:
    base = Draft202012Validator.VALIDATORS[keyword]

    def check(validator: Any, bound: Any, instance: Any, schema: JSON) -> Iterator[ValidationError]:
        # Bounds still apply to numeric strings accepted as integers above.
        if isinstance(instance, str) and _NUMERIC.fullmatch(instance):
            instance = int(instance)
        yield from base(validator, bound, instance, schema)

    return check


# Discord's "oneOf" unions (marked x-discord-union) are first-match unions; with the
# integer relaxation above a numeric-string nonce matches two branches, so treat them
# as anyOf rather than failing on the ambiguity.
_DiscordValidator = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    validators={
        "oneOf": Draft202012Validator.VALIDATORS["anyOf"],
        "minimum": _numeric_bound("minimum"),
        "maximum": _numeric_bound("maximum"),
        "exclusiveMinimum": _numeric_bound("exclusiveMinimum"),
        "exclusiveMaximum": _numeric_bound("exclusiveMaximum"),
    },
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


@dataclass(frozen=True)
class BodyError:
    """One reason Discord would reject a body: a location like ``embeds.0.title``."""

    location: str
    message: str
    code: str = "BASE_TYPE_INVALID"

    def __str__(self) -> str:
        return f"{self.location or '<body>'}: {self.message}"


class SpecValidator:
    """Finds an operation's request schema and validates bodies against it."""

    def __init__(self, spec: JSON) -> None:
        spec = copy.deepcopy(spec)
        schemas = spec["components"]["schemas"]
        # Snowflakes are strings in the spec, but Discord also accepts them as integers.
        snowflake = schemas["SnowflakeType"]
        schemas["SnowflakeType"] = {"anyOf": [snowflake, {"type": "integer", "minimum": 0}]}
        # The spec allows 4000 characters (the Nitro limit); bots are held to the documented 2000.
        for name in (
            "BaseCreateMessageCreateRequest",
            "MessageCreateRequest",
            "MessageEditRequestPartial",
        ):
            schemas[name]["properties"]["content"]["maxLength"] = 2000
        self.paths: JSON = spec["paths"]
        self._registry: Registry[Any] = Registry().with_resource(
            _SPEC_URI, DRAFT202012.create_resource(spec)
        )
        self._validators: dict[tuple[str, str, str], Validator | None] = {}

    def has_operation(self, method: str, template: str) -> bool:
        return method.lower() in self.paths.get(template, {})

    def validator_for(self, method: str, template: str, media: str) -> Validator | None:
        key = (method.lower(), template, media)
        if key not in self._validators:
            self._validators[key] = self._build(*key)
        return self._validators[key]

    def _build(self, method: str, template: str, media: str) -> Validator | None:
        content = (
            self.paths.get(template, {}).get(method, {}).get("requestBody", {}).get("content", {})
        )
        if media not in content:
            return None
        pointer = "/".join(
            _pointer_escape(p)
            for p in ("paths", template, method, "requestBody", "content", media, "schema")
        )
        root = {"$ref": f"{_SPEC_URI}#/{pointer}"}
        validator: Validator = _DiscordValidator(root, registry=self._registry)
        return validator

    def validate(
        self, method: str, template: str, body: Any, *, media: str = "application/json"
    ) -> list[BodyError]:
        """Returns the problems with ``body``; an empty list means Discord accepts it."""
        validator = self.validator_for(method, template, media)
        if validator is None:
            if body is None:
                return []
            return [BodyError("", f"{method.upper()} {template} takes no {media} body")]
        errors = list(validator.iter_errors(body))
        if not errors:
            return []
        best = best_match(errors)
        return [_to_body_error(best)]


def _deepest(error: ValidationError) -> ValidationError:
    # best_match stops at the union; descend to the branch that got furthest into the body.
    while error.context:
        error = max(
            error.context,
            key=lambda e: (len(e.absolute_path), e.validator not in ("type", "enum", "const")),
        )
    return error


def _describe(error: ValidationError) -> tuple[str, str]:
    # Short, Discord-like wording and codes; jsonschema's messages repeat the whole value.
    bound, value = error.validator_value, error.instance
    size = len(value) if isinstance(value, str | list | dict) else value
    messages = {
        "maxLength": ("BASE_TYPE_MAX_LENGTH", f"Must be {bound} or fewer in length (got {size})."),
        "minLength": ("BASE_TYPE_MIN_LENGTH", f"Must be {bound} or more in length (got {size})."),
        "maxItems": (
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {bound} or fewer in length (got {size} items).",
        ),
        "minItems": (
            "BASE_TYPE_MIN_LENGTH",
            f"Must be {bound} or more in length (got {size} items).",
        ),
        "maxProperties": (
            "BASE_TYPE_MAX_LENGTH",
            f"Must have {bound} or fewer entries (got {size}).",
        ),
        "maximum": ("NUMBER_TYPE_MAX", f"Must be at most {bound} (got {value!r})."),
        "minimum": ("NUMBER_TYPE_MIN", f"Must be at least {bound} (got {value!r})."),
        "required": ("BASE_TYPE_REQUIRED", error.message),
        "enum": ("BASE_TYPE_CHOICES", error.message[:200]),
    }
    return messages.get(str(error.validator), ("BASE_TYPE_INVALID", error.message[:200]))


def _to_body_error(error: ValidationError) -> BodyError:
    leaf = _deepest(error)
    location = ".".join(str(p) for p in leaf.absolute_path)
    code, message = _describe(leaf)
    return BodyError(location, message, code)


@functools.cache
def spec_validator() -> SpecValidator:
    """The process-wide validator (the spec is parsed once)."""
    with SPEC_PATH.open("rb") as fh:
        return SpecValidator(json.load(fh))


def discord_error_body(errors: list[BodyError]) -> JSON:
    """Discord's nested "Invalid Form Body" format, e.g. errors.embeds.0.title._errors."""
    nested: JSON = {}
    for err in errors:
        node = nested
        for part in err.location.split(".") if err.location else []:
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": err.code, "message": err.message})
    return {"code": 50035, "message": "Invalid Form Body", "errors": nested}
