"""The shape of every action a page posts: form → service → message → redirect.

A view builds the bound form(s), names the service call and says what to tell the person and
where to send them; `run_action` does the rest the same way everywhere:

- a form not valid: its errors become error messages and the person goes back (or `invalid`
  answers instead: a message, or a response such as the page again with the marked fields);
- the service refuses (`Refused`, a domain error carrying a translated message): that message,
  and back; nothing was changed;
- else the success message, and on to where the result says.

Apps subclass `Refused` for their domain error (tickets.services.ActionRefused).
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


class Refused(Exception):
    """An action that cannot be taken now; the message is for the person, in their language."""


def run_action(request, forms, service, *, success, after, invalid=None):
    """Validate `forms` (a form or a sequence of them), call `service(cleaned_data)` with the
    first one's cleaned data, and answer with a message and a redirect.

    `success(result)` gives the message: a text (a success message) or (level, text).
    `after(result)` gives where to go, anything `redirect()` takes; `result` is None when the
    form was not valid or the service refused. `invalid` is a text (one error message instead
    of the form's own) or a callable(form) returning the response.
    """
    forms = (forms,) if not isinstance(forms, list | tuple) else forms
    # Every form validated (no short-circuit), so each shows its own errors.
    valid = [form.is_valid() for form in forms]
    if not all(valid):
        if callable(invalid):
            return invalid(forms[0])
        if invalid is not None:
            messages.error(request, invalid)
        else:
            for form in forms:
                errors_to_messages(request, form)
        return redirect(after(None))
    try:
        result = service(forms[0].cleaned_data)
    except Refused as refusal:
        messages.error(request, str(refusal))
        return redirect(after(None))
    said = success(result)
    level, text = said if isinstance(said, tuple) else (messages.SUCCESS, said)
    messages.add_message(request, level, text)
    response = after(result)
    return response if isinstance(response, HttpResponse) else redirect(response)


def errors_to_messages(request, form):
    """Each error of a form (the page showing it has no place for them) as an error message."""
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def is_own_page(request, url):
    """Whether `url` is a page of this site (the one test for every redirect to an address
    that came from outside the code: a posted `next`, a stored link)."""
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def safe_next(request, default):
    """The posted (or asked) `next` when it is a page of this site, else `default`: a tampered
    form must not send the person elsewhere (an open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if is_own_page(request, target) else default
