"""The web kits every app's pages and API share: the API's authentication, error format, parsers and schema,
and the dashboard's forms that act once, Post/Redirect/Get helpers, live-page helpers and template tags.

Nothing here knows an app: apps import these kits, never the other way round."""
