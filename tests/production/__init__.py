"""Production behaviour: cache, data refresh, health, gunicorn and faults."""
