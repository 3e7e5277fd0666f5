from django.apps import AppConfig


class DispatcherConfig(AppConfig):
    name = "dispatcher"
    verbose_name = "Delivery engine"

    def ready(self) -> None:
        from dispatcher import checks  # noqa: F401  (registers the startup checks)
