"""Periodic camera job (Celery beat, or the embedded beat thread): cameras that went silent are marked offline."""

from celery import shared_task

from cameras import health


@shared_task(name="cameras.check_health", ignore_result=True, soft_time_limit=20, time_limit=30)
def check_health() -> int:
    return len(health.sweep_offline())
