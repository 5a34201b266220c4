"""One shape for every API error, so a script can read it: {"error": code, "message": text, "fields": {…}}."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


def handle(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("No such object here.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, DjangoValidationError):
        # A model rule (full_clean, a domain method) refused it: the same message the page shows.
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, ProtectedError | RestrictedError):
        names = sorted(
            {str(obj) for obj in exc.protected_objects if obj is not None}
            if isinstance(exc, ProtectedError)
            else {str(obj) for obj in exc.restricted_objects}
        )[:10]
        return Response(
            {
                "error": "in_use",
                "message": f"Still in use by: {', '.join(names)}. Move or delete those first.",
                "fields": {},
            },
            status=status.HTTP_409_CONFLICT,
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            general_keys = ("non_field_errors", "__all__")  # DRF's and Django's name for "the whole object"
            fields = {name: _texts(value) for name, value in detail.items() if name not in general_keys}
            general = [text for key in general_keys for text in _texts(detail.get(key, []))]
        else:
            fields, general = {}, _texts(detail)
        message = " ".join(general) or "Some fields are not right: see fields."
        response.data = {"error": "invalid", "message": message, "fields": fields}
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
        text = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        response.data = {"error": code, "message": str(text), "fields": {}}
    return response


def _texts(value):
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    if isinstance(value, dict):
        return [f"{key}: {text}" for key, item in value.items() for text in _texts(item)]
    return [str(value)]
