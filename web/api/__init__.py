"""The REST API's wiring: authentication, the error format, the OpenAPI schema, the token endpoint, the URLs.

Resources live with the app that owns their objects (``configurations/api.py``, ``history/api.py``) and stay
thin: parse with a serializer, call one service or selector, render. ``docs/api.md`` is the guide.
"""
