"""Form helpers shared by the dashboard's pages."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, QueryDict


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's field errors under the form's fields of the same name; the others above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, messages in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


# --- Post/Redirect/Get, errors included -------------------------------------------------------------------
# Every POST answers with a redirect, also when the form has errors: what was sent and the errors wait in the
# session for the page the redirect leads to, which shows them once. A reload then never sends the form again.

_KEPT = "dashboard.kept_forms"
_NOT_KEPT = frozenset({"csrfmiddlewaretoken", "once"})


def form_keep(request: HttpRequest, key: str, form: forms.Form) -> None:
    """Keep what ``form`` was sent and its errors, for ``form_kept(request, key, ...)`` on the next page."""
    data = {name: request.POST.getlist(name)[:100] for name in request.POST if name not in _NOT_KEPT}
    kept = request.session.get(_KEPT, {})
    kept[key] = {"data": data, "errors": form.errors.get_json_data()}
    request.session[_KEPT] = kept


def form_kept(request: HttpRequest, key: str, form_class: type[forms.Form], **kwargs) -> forms.Form | None:
    """The form kept under ``key``, bound to what was sent and showing the errors it had; None when none is."""
    kept = request.session.get(_KEPT) or {}
    if key not in kept:
        return None
    entry = kept.pop(key)
    request.session[_KEPT] = kept
    data = QueryDict(mutable=True)
    for name, values in entry["data"].items():
        data.setlist(name, values)
    form = form_class(data, **kwargs)
    form.is_valid()  # the form's own errors come back by themselves; a service's are added below
    for field, errors in entry["errors"].items():
        target = field if field in form.fields else None
        shown = form.errors.get(field if target else NON_FIELD_ERRORS, [])
        for error in errors:
            if error["message"] not in shown:
                form.add_error(target, error["message"])
    return form
