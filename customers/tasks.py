from celery import shared_task

from aftersales.services import record_heartbeat

from . import exports, imports, timers

# The import tasks are acknowledged late: a worker that dies before it takes the job leaves the
# message to the broker, which hands it to the next worker. They are safe to run twice (a job is
# taken with a compare-and-set); one that died holding its job is failed by the hourly cleanup,
# and the user may run it again (imports.retry_import_job).


@shared_task(acks_late=True, reject_on_worker_lost=True)
def check_import_job(job_id):
    """Check a large import file in the background (see imports.run_import_check)."""
    imports.run_import_check(job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def commit_import_job(job_id):
    """Import a checked and confirmed file in the background (see imports.run_import_commit)."""
    imports.run_import_commit(job_id)


@shared_task(name="customers.expire_import_jobs", ignore_result=True)
def expire_import_jobs():
    """Hourly from beat: fail import jobs whose worker died, expire unconfirmed ones, and
    delete checked files that no job names and nobody confirmed."""
    counts = imports.expire_import_jobs()
    record_heartbeat("import-cleanup")
    return counts


@shared_task(acks_late=True)
def write_export_job(job_id):
    """Write an export's file in the background (see exports.run_export_job).

    Acknowledged once done: a worker that dies while writing leaves the message to be
    delivered again, and the job, silent by then, is taken again (or failed by the cleanup).
    """
    exports.run_export_job(job_id)


@shared_task(name="customers.expire_export_jobs", ignore_result=True)
def expire_export_jobs():
    """Hourly from beat: delete export files past their time and fail exports whose worker
    died."""
    counts = exports.expire_export_jobs()
    record_heartbeat("export-cleanup")
    return counts


@shared_task(name="customers.daily", ignore_result=True)
def daily():
    """Every morning from beat: maintenance plans, renewal and warranty reminders."""
    counts = timers.daily()
    record_heartbeat("daily-jobs")
    return counts
