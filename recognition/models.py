from django.db import models


class WorkerHeartbeat(models.Model):
    """A recognition worker that loaded its models and reported in (one row per host)."""

    hostname = models.CharField(max_length=200, unique=True)
    model_id = models.CharField(max_length=100)
    load_ms = models.FloatField()
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.hostname} ({self.model_id})"
