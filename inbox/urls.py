from django.urls import path, register_converter

from inbox import views


class InboxToken:
    """What ``secrets.token_urlsafe`` makes (an inbox's token is 24 of these): anything else is a 404."""

    regex = r"[A-Za-z0-9_-]{1,40}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(InboxToken, "inbox_token")

app_name = "inbox"
urlpatterns = [
    path("<inbox_token:token>/", views.catch, name="catch"),
    path("<inbox_token:token>/<path:rest>", views.catch, name="catch-path"),
]
