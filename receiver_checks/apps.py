from django.apps import AppConfig


class ReceiverChecksConfig(AppConfig):
    name = "receiver_checks"
    verbose_name = "Receiver checks (grading a receiver against Hotmart's contract)"
