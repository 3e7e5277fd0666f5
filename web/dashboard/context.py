"""What every dashboard page knows: the mode, and which section of the navigation is current."""

from django.conf import settings

# URL namespace or name -> the navigation section it belongs to.
_SECTIONS = {
    "overview": "overview",
    "configurations": "configurations",
    "documentation": "documentation",
    "documentation_event": "documentation",
    "history": "history",
    "credentials": "credentials",
    "simulator": "simulator",
    "inboxes": "inboxes",
    "receiver_checks": "receiver_checks",
    "products": "products",
    "affiliates": "affiliates",
}


def dashboard(request):
    match = getattr(request, "resolver_match", None)
    section = ""
    if match is not None:
        section = _SECTIONS.get(match.namespace) or _SECTIONS.get(match.url_name or "", "")
    return {"sandbox_mode": settings.SANDBOX, "nav_section": section}
