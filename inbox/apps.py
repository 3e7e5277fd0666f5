from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Built-in inbox (request catcher)"

    def ready(self):
        from inbox import checks  # noqa: F401 - registers the settings checks
