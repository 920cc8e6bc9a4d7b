from celery import shared_task

from retention.jobs import run_all


@shared_task(name="retention.run", ignore_result=True, soft_time_limit=600, time_limit=900)
def run_retention() -> dict[str, object]:
    return run_all()
