"""JSON endpoints for an e-mailing tool: check addresses, report unsubscribes.

Clients send ``Authorization: Bearer <token>`` with a token listed in the
``API_TOKENS`` setting. ``docs/api.md`` describes the requests and responses.
"""

import hashlib
import hmac
import json
import logging
import math

from django.conf import settings
from django.http import JsonResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from apps.contacts.models import SuppressionEntry
from apps.contacts.services import WithdrawalSource
from apps.contacts.services import contacts_unsubscribe_batch
from apps.contacts.suppression import restricted_identifiers
from apps.contacts.suppression import suppressed_hashes
from apps.core.identifiers import InvalidIdentifier
from apps.core.identifiers import identifier_hash
from apps.core.identifiers import normalize_email
from apps.core.identifiers import normalize_phone

logger = logging.getLogger(__name__)

MAX_BATCH = 1000
# RFC 5321 (4.5.3.1.3) limits a path to 256 octets including its angle
# brackets, which leaves 254 for the address. email-validator 2.4
# (EMAIL_MAX_LENGTH) rejects longer addresses too.
MAX_EMAIL_LENGTH = 254
# E.164 numbers have at most 15 digits. The rest leaves room for "+" or "00",
# spaces, dots, "(0)" and an extension such as " poste 1234".
MAX_PHONE_LENGTH = 40
MAX_IDENTIFIER_LENGTHS = {
    "emails": ("an e-mail address", MAX_EMAIL_LENGTH),
    "phones": ("a phone number", MAX_PHONE_LENGTH),
}
# A full batch of the longest e-mail addresses, with every character written
# as a six-byte JSON escape (\uXXXX), takes about 1.5 MB.
MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_JSON_INTEGER_DIGITS = 100
# How much of a rejected identifier an error message repeats.
ERROR_PREFIX_LENGTH = 20
# Content types read as JSON. Python's wsgiref server, which runserver uses,
# reports a request without a Content-Type header as text/plain.
JSON_CONTENT_TYPES = {"", "application/json", "text/plain"}
MAX_CONTENT_TYPE_SHOWN = 80
API_SOURCE = WithdrawalSource.API


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="registre"'
    return response


def token_fingerprint(token: str) -> str:
    """Return the name of ``token`` in the audit trail and the logs.

    The first 12 hexadecimal digits of its SHA-256 tell the configured tokens
    apart without revealing them: ``printf %s TOKEN | sha256sum`` gives them.
    """
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def _authenticate(request) -> str:
    """Return the fingerprint of the request's token, or raise a 401."""
    header = request.headers.get("Authorization", "")
    scheme, _space, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Missing API token: send 'Authorization: Bearer <token>'.")
    token = token.strip().encode()
    # Compare with every configured token in constant time, so the response
    # time does not reveal how much of a guess was right.
    matched = ""
    for configured in settings.API_TOKENS:
        if hmac.compare_digest(token, configured.encode()):
            matched = configured
    if not matched:
        logger.warning("API request with an invalid token rejected")
        raise ApiError(
            401, "Invalid API token: check the token with the administrator."
        )
    return token_fingerprint(matched)


def _body_read(request) -> bytes:
    """Return the request body, rejecting one above ``MAX_BODY_BYTES`` unread.

    Django's own ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is checked too, in case a
    deployment sets it lower. The body must be JSON, sent as such or as
    plain text, and its length must be given: a WSGI server may pass a
    chunked body without Content-Length as an empty one.
    """
    content_type = request.content_type or ""
    if content_type not in JSON_CONTENT_TYPES:
        raise ApiError(
            415,
            f"The request body is {content_type[:MAX_CONTENT_TYPE_SHOWN]!r}: send "
            f"it as JSON, with the header Content-Type: application/json.",
        )
    if (
        not request.META.get("CONTENT_LENGTH")
        and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    ):
        raise ApiError(
            411,
            "The request body was sent in chunks without a Content-Length header: "
            "send the whole body with its Content-Length.",
        )
    try:
        size = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError as error:
        raise ApiError(
            400, "The Content-Length header is not a number of bytes."
        ) from error
    if size < 0:
        raise ApiError(400, "The Content-Length header is not a number of bytes.")
    limit = MAX_BODY_BYTES
    if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is not None:
        limit = min(limit, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if size > limit:
        raise ApiError(
            413,
            f"The request body has {size} bytes: send at most {limit} bytes, "
            f"by splitting the batch.",
        )
    return request.body


def _identifier_lengths_check(body: dict) -> None:
    """Reject an identifier longer than its limit, repeating only its start."""
    for key, (kind, limit) in MAX_IDENTIFIER_LENGTHS.items():
        for index, value in enumerate(body.get(key, [])):
            if len(value) > limit:
                raise ApiError(
                    400,
                    f"'{key}'[{index}] (starting {value[:ERROR_PREFIX_LENGTH]!r}) "
                    f"has {len(value)} characters: {kind} has at most {limit}. "
                    f"Correct or remove it.",
                )


def _shown(value) -> str:
    """Return the start of a JSON value, as an error message repeats it."""
    if isinstance(value, str):
        return repr(value[:ERROR_PREFIX_LENGTH])
    return json.dumps(value)[:ERROR_PREFIX_LENGTH]


def _keys_check(body: dict, keys: tuple[str, ...]) -> None:
    """Reject a key the endpoint does not read, instead of ignoring it.

    A misspelt ``reason`` would otherwise record an objection as a mere
    unsubscribe, and a singular ``email`` would send nothing.
    """
    unknown = sorted(key for key in body if key not in keys)
    if unknown:
        expected = ", ".join(f"'{key}'" for key in keys)
        raise ApiError(
            400,
            f"Unknown key {_shown(unknown[0])}: this endpoint reads only {expected}. "
            f"Check the spelling, or remove the key.",
        )


def _identifier_list_check(key: str, values) -> None:
    if not isinstance(values, list):
        raise ApiError(
            400,
            f"'{key}' is {_shown(values)}: send a list "
            f'of strings, such as ["..."], or leave the key out.',
        )
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise ApiError(
                400,
                f"'{key}'[{index}] is {_shown(value)}: "
                f"send each identifier as a JSON string.",
            )


class _BodyRejected(ValueError):
    """Error for a JSON body that parses but that the API rejects, with the reason."""


def _json_object(pairs: list[tuple[str, object]]) -> dict:
    """Build a JSON object, rejecting a key given twice.

    Python would keep the last value, so a body with two ``reason`` keys
    could silently record an objection as a mere unsubscribe.
    """
    body = {}
    for key, value in pairs:
        if key in body:
            raise _BodyRejected(
                f"The key {_shown(key)} appears twice in one object: send it "
                f"once, with the value you mean."
            )
        body[key] = value
    return body


def _json_integer(text: str):
    """Parse a JSON integer, rejecting one of more than ``MAX_JSON_INTEGER_DIGITS``.

    No field of the API takes a number, and Python refuses to convert one of
    more than 4,300 digits with a message about its own settings.
    """
    if len(text) > MAX_JSON_INTEGER_DIGITS:
        raise _BodyRejected(
            f"The request body has a number of {len(text)} digits where a string "
            f"is expected: send each identifier as a JSON string."
        )
    return int(text)


def _json_constant(name: str):
    """Reject ``NaN`` and ``Infinity``, which Python reads but JSON does not allow."""
    raise _BodyRejected(
        f"The request body has {name}, which is not JSON: send each identifier "
        f"as a JSON string."
    )


def _json_float(text: str) -> float:
    """Parse a JSON number with a fraction, rejecting one too large for a float."""
    value = float(text)
    if math.isinf(value):
        raise _BodyRejected(
            f"The request body has a number too large to read ({len(text)} "
            f"characters) where a string is expected: send each identifier as a "
            f"JSON string."
        )
    return value


def _read_batch(request, keys: tuple[str, ...]) -> dict:
    raw = _body_read(request)
    try:
        body = json.loads(
            raw or b"{}",
            parse_int=_json_integer,
            parse_float=_json_float,
            parse_constant=_json_constant,
            object_pairs_hook=_json_object,
        )
    except _BodyRejected as error:
        raise ApiError(400, str(error)) from error
    except RecursionError as error:
        raise ApiError(
            400,
            "The request body nests arrays or objects too deeply: send an object "
            'such as {"emails": ["..."]}.',
        ) from error
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, f"The request body is not valid JSON: {error}.") from error
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    _keys_check(body, keys)
    for key in ("emails", "phones"):
        _identifier_list_check(key, body.get(key, []))
    _identifier_lengths_check(body)
    total = len(body.get("emails", [])) + len(body.get("phones", []))
    if total == 0:
        raise ApiError(400, "Send at least one address in 'emails' or 'phones'.")
    if total > MAX_BATCH:
        raise ApiError(
            400,
            f"The batch has {total} identifiers: send at most {MAX_BATCH} per request.",
        )
    return body


def _normalise(values: list[str], normalizer) -> list[tuple[str, str, str]]:
    """Return (input, normalised, error) for each value."""
    results = []
    for value in values:
        try:
            results.append((value, normalizer(value), ""))
        except InvalidIdentifier as error:
            results.append((value, "", str(error)))
    return results


def _api_view(*keys: str):
    """Make ``handler(request, body)`` an endpoint reading the JSON ``keys``."""

    def decorator(handler):
        @csrf_exempt
        def view(request):
            # Machine clients get one language, the one docs/api.md shows.
            with translation.override("en"):
                if request.method != "POST":
                    response = _error(405, "Only POST is allowed on this endpoint.")
                    response["Allow"] = "POST"
                    return response
                try:
                    request.api_token = _authenticate(request)
                    return handler(request, _read_batch(request, keys))
                except ApiError as error:
                    return _error(error.status, error.message)

        view.__name__ = handler.__name__
        view.__doc__ = handler.__doc__
        return view

    return decorator


@_api_view("emails", "phones")
def suppression_check(request, body):
    """Return, for each address, whether nothing may be sent to it: it is on
    the suppression list, or a contact's processing is restricted with it."""
    emails = _normalise(body.get("emails", []), normalize_email)
    phones = _normalise(body.get("phones", []), normalize_phone)
    hashes = [identifier_hash(value) for _raw, value, _e in emails + phones if value]
    suppressed = suppressed_hashes(hashes)
    restricted = restricted_identifiers(
        emails=[value for _raw, value, _e in emails if value],
        phones=[value for _raw, value, _e in phones if value],
    )

    def reason(value: str) -> str | None:
        if not value:
            return None
        if identifier_hash(value) in suppressed:
            return "suppression_list"
        if value in restricted:
            return "restricted"
        return None

    def describe(rows):
        return [
            {
                "input": raw,
                "normalized": value or None,
                "suppressed": reason(value) is not None,
                "reason": reason(value),
                "error": error or None,
            }
            for raw, value, error in rows
        ]

    logger.info(
        "API suppression check of %d identifiers, token %s",
        len(emails) + len(phones),
        request.api_token,
    )
    return JsonResponse({"emails": describe(emails), "phones": describe(phones)})


@_api_view("emails", "phones", "reason")
def unsubscribes_report(request, body):
    """Put the addresses on the suppression list and update matching contacts."""
    reason = body.get("reason", SuppressionEntry.Reason.UNSUBSCRIBED)
    allowed = (SuppressionEntry.Reason.UNSUBSCRIBED, SuppressionEntry.Reason.OBJECTED)
    if reason not in allowed:
        raise ApiError(
            400,
            f"'reason' {_shown(reason)} is invalid: use 'unsubscribed' or 'objected'.",
        )
    emails = _normalise(body.get("emails", []), normalize_email)
    phones = _normalise(body.get("phones", []), normalize_phone)
    result = contacts_unsubscribe_batch(
        emails=[value for _raw, value, _e in emails if value],
        phones=[value for _raw, value, _e in phones if value],
        reason=reason,
        source=API_SOURCE,
        api_token=request.api_token,
    )
    invalid = [
        {"input": raw, "error": error}
        for raw, _value, error in emails + phones
        if error
    ]
    return JsonResponse(
        {
            "added": result.added,
            "already_suppressed": result.already_suppressed,
            "contacts_updated": result.contacts_updated,
            "contact_identifiers_added": result.contact_identifiers_added,
            "invalid": invalid,
        }
    )
