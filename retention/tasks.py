from celery import shared_task


@shared_task(name="retention.run", ignore_result=True, soft_time_limit=600, time_limit=900)
def run_retention() -> dict[str, int]:
    from retention.jobs import run_all

    return run_all()
