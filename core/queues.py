"""The Celery queues, named once. Two are delivery lanes (a notification waits in one: ``history/lanes.py``):
``deliveries`` for first attempts to healthy receivers, ``retries`` for retries and for receivers that fail or
are slow; ``maintenance`` runs the periodic work, bulk resends and receiver checks. A tenant may get a lane of
its own (``DISPATCHER_TENANT_QUEUES``)."""

DELIVERIES = "deliveries"
RETRIES = "retries"
MAINTENANCE = "maintenance"
QUEUES = (DELIVERIES, RETRIES, MAINTENANCE)
