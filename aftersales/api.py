"""The JSON API for other systems (/api/v1/): IoT platforms, the ERP, a WeChat service account.

The core owns the one `NinjaAPI`, its keys and its errors; the apps bring their endpoints (their
plugin.py: API_ROUTERS) and the scopes those need (API_SCOPES). Every endpoint names its scope
with `key_auth(scope)`: the caller's key is checked, then the scope, before the endpoint reads
anything — so a 401 or 403 says nothing about what the request names (a serial number, a
request number). The OpenAPI description is /api/v1/openapi.json, its page /api/v1/docs.

Errors are JSON, in the caller's language (Accept-Language; Chinese by default):
    {"detail": "…", "errors": {"field": ["…", …]}}   (errors only for 404/422 about fields)
"""

from functools import cache

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer
from ninja.security import APIKeyHeader, HttpBearer

from . import apikeys, registry

# The body of every error, for the OpenAPI description (`ErrorOut` in the apps' routers).
NOT_ALL = "__all__"


class ApiError(Exception):
    """An answer other than success: `status`, a `detail` text and, for fields, `errors`
    ({field: [message, …]}). Raised by endpoints; the API turns it into JSON."""

    def __init__(self, status, detail, errors=None):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors or {}


def field_error(field, message, status=422):
    """One field's error (404 for a field that names something that is not there)."""
    return ApiError(status, invalid_detail(), {field: [message]})


def invalid_detail():
    return _("The request was not accepted; nothing was changed.")


class MissingScope(AuthorizationError):
    def __init__(self, scope):
        super().__init__(message=scope)
        self.scope = scope


def _check(request, given, scope):
    key = apikeys.find_key(given)
    if key is None:
        return None  # the next way of sending a key is tried; none: 401
    if scope not in key.scopes:
        raise MissingScope(scope)
    apikeys.touch(key)
    return key


class BearerKey(HttpBearer):
    """`Authorization: Bearer ask_…`."""

    def __init__(self, scope):
        self.scope = scope
        super().__init__()

    def authenticate(self, request, token):
        return _check(request, token, self.scope)


class HeaderKey(APIKeyHeader):
    """`X-API-Key: ask_…`, for systems that cannot set an Authorization header."""

    param_name = "X-API-Key"

    def __init__(self, scope):
        self.scope = scope
        super().__init__()

    def authenticate(self, request, key):
        return _check(request, key, self.scope) if key else None


def key_auth(scope):
    """The `auth=` of an endpoint that needs `scope`: request.auth is then the `ApiKey`."""
    return [BearerKey(scope), HeaderKey(scope)]


# Pydantic's error types, as a person reads them (Django's own texts where it has them: its
# catalogue translates them).
def _message(error):
    kind, ctx = error["type"], error.get("ctx") or {}
    given = error.get("input")
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return _("This field is required.")
    if kind == "string_too_long":
        limit, count = ctx.get("max_length"), len(given) if isinstance(given, str) else 0
        return ngettext(
            "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
            "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
            limit,
        ) % {"limit_value": limit, "show_value": count}
    if kind in ("string_type", "string_unicode"):
        return _("Enter text.")
    if kind.startswith("date"):
        return _("Enter a valid date.")
    if kind.startswith("int"):
        return _("Enter a whole number.")
    if kind in ("enum", "literal_error"):
        return _("Select a valid choice. %(value)s is not one of the available choices.") % {
            "value": given
        }
    if kind == "greater_than_equal":
        return _("Ensure this value is greater than or equal to %(limit_value)s.") % {
            "limit_value": ctx.get("ge")
        }
    if kind == "less_than_equal":
        return _("Ensure this value is less than or equal to %(limit_value)s.") % {
            "limit_value": ctx.get("le")
        }
    if kind == "json_invalid":
        return _("The request body is not valid JSON.")
    if kind in ("model_attributes_type", "dict_type", "model_type"):
        return _("The request body must be a JSON object.")
    return _("Enter a valid value.")


def _field(loc):
    """The field an error is about: the last name of its location ("body", "payload", name)."""
    names = [part for part in loc[1:] if isinstance(part, str)]
    # A body error without a field (not JSON, not an object) is about the whole request.
    return names[-1] if len(names) > 1 or (names and loc[0] != "body") else NOT_ALL


class Renderer(JSONRenderer):
    # Chinese as UTF-8 (the content type says so), not as \uXXXX escapes.
    json_dumps_params = {"ensure_ascii": False}


class Api(NinjaAPI):
    def validation_error_from_error_contexts(self, error_contexts):
        """Field → messages in the caller's language, instead of pydantic's English."""
        errors = {}
        for context in error_contexts:
            model = context.model
            for error in context.pydantic_validation_error.errors(include_url=False):
                loc = (model.__ninja_param_source__,) + model.__ninja_flatten_map_reverse__.get(
                    error["loc"], error["loc"]
                )
                errors.setdefault(_field(loc), []).append(_message(error))
        return ValidationError(errors)


def _answer(api, request, status, detail, errors=None):
    body = {"detail": detail}
    if errors:
        body["errors"] = errors
    return api.create_response(request, body, status=status)


def _handlers(api):
    def unauthorised(request, exc):
        response = _answer(
            api,
            request,
            401,
            _(
                "A valid API key is needed: send it as “Authorization: Bearer <key>” or as "
                "“X-API-Key: <key>”. It may be wrong, rotated or revoked."
            ),
        )
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    def forbidden(request, exc):
        if isinstance(exc, MissingScope):
            detail = _("This API key may not do this: it lacks the scope “%(scope)s”.") % {
                "scope": exc.scope
            }
        else:
            detail = _("This API key may not do this.")
        return _answer(api, request, 403, detail)

    def invalid(request, exc):
        return _answer(api, request, 422, invalid_detail(), exc.errors)

    def refused(request, exc):
        return _answer(api, request, exc.status, exc.detail, exc.errors)

    def not_found(request, exc):
        return _answer(api, request, 404, _("Not found."))

    def http_error(request, exc):
        if exc.status_code == 400:  # ninja could not read the body
            errors = {NOT_ALL: [_("The request body is not valid JSON.")]}
            return _answer(api, request, 400, invalid_detail(), errors)
        return _answer(api, request, exc.status_code, str(exc))

    api.add_exception_handler(AuthenticationError, unauthorised)
    api.add_exception_handler(AuthorizationError, forbidden)
    api.add_exception_handler(ValidationError, invalid)
    api.add_exception_handler(ApiError, refused)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(HttpError, http_error)


@cache
def api():
    """The site's API with every app's routers mounted (built once: ninja freezes it when its
    URLs are read)."""
    site_api = Api(
        title="After-sales service API",
        version="1",
        description=(
            "Report faults and follow service requests from other systems. Every call carries "
            "an API key (`Authorization: Bearer <key>` or `X-API-Key: <key>`) that an "
            "administrator issues with the scopes it needs; answers and error messages are in "
            "the language of `Accept-Language` (zh-hans by default, en available)."
        ),
        urls_namespace="api",
        renderer=Renderer(),
    )
    _handlers(site_api)
    for prefix, router in registry.api_routers():
        site_api.add_router(prefix, router)
    return site_api
