"""Exports of master data, written by a Celery task to a file the person downloads when ready.

A page asks (`start_export_job`); the task (tasks.write_export_job → `run_export_job`) reads
the rows that person may see with a fixed number of queries, writes them to a file as they
come (CSV through the csv module, Excel through openpyxl's write-only mode), and the job page
shows the progress and then the download link (views.office.export_download: access-checked,
sent like the other private files). The hourly cleanup (`expire_export_jobs`) deletes files
after settings.EXPORT_KEEP_HOURS and fails jobs whose worker died.
"""

import csv
import io
import secrets
import tempfile
from collections import defaultdict
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from aftersales.queue import publish

from .access import visible_rows
from .kinds import resource_for
from .models import ExportJob

# Rows read per database round trip, and written between two progress updates.
EXPORT_CHUNK_ROWS = 2000

_EXPORT_DIR = "exports"
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

_NOT_QUEUED = gettext_lazy(
    "The export could not be started: the background worker's queue does not answer. "
    "Nothing was exported; try again in a few minutes."
)
_STALE = gettext_lazy(
    "The export stopped: no progress for %(minutes)s minutes (the background worker was "
    "probably restarted). Export again to get the file."
)
_NO_PERMISSION = gettext_lazy("You may no longer export master data.")
_INTERNAL = gettext_lazy("The export stopped because of an internal error.")


def start_export_job(user, kind, fmt):
    """Record an export job and have a worker write the file (after this transaction).

    When the broker cannot take the task (Redis down), the job is marked failed at once with
    the reason, for the page to say so: no job waits in vain, and no file is half-written.
    """
    job = ExportJob.objects.create(
        user=user,
        kind=kind,
        format=fmt,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    transaction.on_commit(partial(_queue, job.pk))
    return job


def _queue(job_id):
    from . import tasks  # tasks imports this module

    if publish(tasks.write_export_job, job_id):
        return
    job = ExportJob.objects.get(pk=job_id)
    with translation.override(job.language):
        _fail(job_id, str(_NOT_QUEUED), states=[ExportJob.State.QUEUED])


def run_export_job(job_id):
    """Write a job's file (tasks.write_export_job).

    A queued job is taken with a compare-and-set update, so a task delivered twice does
    nothing the second time; a running one only when its worker has been silent for
    settings.EXPORT_STALE_MINUTES (a task redelivered after its worker died, acks_late).
    Side effects: the job's progress and state; the file, kept until `expires_at`.
    """
    now = timezone.now()
    stale_before = now - timedelta(minutes=settings.EXPORT_STALE_MINUTES)
    takeable = Q(state=ExportJob.State.QUEUED) | Q(
        state=ExportJob.State.RUNNING, progress_at__lt=stale_before
    )
    taken = ExportJob.objects.filter(takeable, pk=job_id).update(
        state=ExportJob.State.RUNNING, rows_done=0, progress_at=now
    )
    if not taken:
        return
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    with translation.override(job.language):
        if not (job.user.is_active and job.user.has_perm("customers.export_masterdata")):
            _fail(job_id, str(_NO_PERMISSION))
            return
        try:
            path, size, rows = _write_file(job)
        except Exception:
            _fail(job_id, str(_INTERNAL))
            raise
    now = timezone.now()
    done = ExportJob.objects.filter(pk=job_id, state=ExportJob.State.RUNNING).update(
        state=ExportJob.State.DONE,
        file_path=path,
        file_size=size,
        total_rows=rows,
        rows_done=rows,
        finished_at=now,
        progress_at=now,
        expires_at=now + timedelta(hours=settings.EXPORT_KEEP_HOURS),
    )
    if not done:
        # The cleanup failed the job meanwhile (its page says so): keep no file.
        default_storage.delete(path)


def _fail(job_id, reason, states=ExportJob.RUNNING_STATES):
    return ExportJob.objects.filter(pk=job_id, state__in=states).update(
        state=ExportJob.State.FAILED, error=reason, finished_at=timezone.now()
    )


def _write_file(job):
    """Write the job's rows to a new stored file; returns (path, size in bytes, rows)."""
    label, resource_class = resource_for(job.kind)
    resource = resource_class()
    queryset = visible_rows(job.user, job.kind, resource.get_export_queryset())
    total = queryset.count()
    ExportJob.objects.filter(pk=job.pk).update(total_rows=total)

    def progress(rows):
        ExportJob.objects.filter(pk=job.pk).update(rows_done=rows, progress_at=timezone.now())

    headers = resource.get_export_headers()
    rows = resource.export_rows(queryset, chunk_size=EXPORT_CHUNK_ROWS)
    write = _write_csv if job.format == ExportJob.Format.CSV else _write_xlsx
    # Written to a temporary file first: the stored file appears only when it is complete.
    with tempfile.TemporaryFile() as out:
        count = write(out, str(label), headers, _counted(rows, progress))
        size = out.tell()
        out.seek(0)
        name = f"{_EXPORT_DIR}/{secrets.token_hex(16)}.{job.format}"
        path = default_storage.save(name, File(out, name=name))
    return path, size, count


def _counted(rows, progress):
    """The rows, with progress(n) after every EXPORT_CHUNK_ROWS of them."""
    for n, row in enumerate(rows, start=1):
        yield row
        if n % EXPORT_CHUNK_ROWS == 0:
            progress(n)


def _write_csv(out, title, headers, rows):
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    # A BOM lets Excel open UTF-8 CSV with Chinese text correctly.
    text.write("\ufeff")
    writer = csv.writer(text)
    writer.writerow(headers)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    text.flush()
    text.detach()  # the caller closes the file
    return count


def _write_xlsx(out, title, headers, rows):
    # Write-only mode streams rows to a temporary file instead of keeping every cell.
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    for i, header in enumerate(headers):
        sheet.column_dimensions[get_column_letter(i + 1)].width = max(12, 2 * len(header) + 2)
    bold = Font(bold=True)
    heading = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        heading.append(cell)
    sheet.append(heading)
    count = 0
    for row in rows:
        # Control characters cannot be stored in a workbook (openpyxl refuses the cell).
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
        count += 1
    book.save(out)
    return count


def is_export_file(path):
    return isinstance(path, str) and path.startswith(_EXPORT_DIR + "/") and ".." not in path


# -- The hourly cleanup (tasks.expire_export_jobs) -------------------------------------------


def expire_export_jobs(now=None):
    """End the export jobs nobody will finish and delete the files nobody may download.

    - Stale: queued or running with no progress for settings.EXPORT_STALE_MINUTES: its worker
      died or its task was lost. Failed, with the reason (in the asker's language) on its page.
    - Done and past `expires_at`: expired, the file deleted.
    - Files in the export folder that no done job names (a worker that stopped between saving
      the file and marking the job done), older than the stale delay: deleted.

    Each step is a compare-and-set; running it twice changes nothing the second time.
    Returns the counts.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(minutes=settings.EXPORT_STALE_MINUTES)
    stale = ExportJob.objects.filter(
        state__in=ExportJob.RUNNING_STATES, progress_at__lt=stale_before
    )
    by_language = defaultdict(list)
    for pk, language in stale.values_list("pk", "language"):
        by_language[language].append(pk)
    failed = 0
    for language, pks in by_language.items():
        with translation.override(language):
            error = str(_STALE) % {"minutes": settings.EXPORT_STALE_MINUTES}
        failed += stale.filter(pk__in=pks).update(
            state=ExportJob.State.FAILED, error=error, finished_at=now
        )

    due = ExportJob.objects.filter(state=ExportJob.State.DONE, expires_at__lt=now)
    expired = 0
    for pk, path in list(due.values_list("pk", "file_path")):
        # The row first: from then on the download is refused, then the file goes.
        if due.filter(pk=pk).update(state=ExportJob.State.EXPIRED, file_path=""):
            expired += 1
            _delete(path)
    return {"failed": failed, "expired": expired, "files": _delete_unclaimed(stale_before)}


def _delete_unclaimed(before):
    try:
        _dirs, names = default_storage.listdir(_EXPORT_DIR)
    except FileNotFoundError:
        return 0
    claimed = set(
        ExportJob.objects.filter(state=ExportJob.State.DONE).values_list("file_path", flat=True)
    )
    deleted = 0
    for name in names:
        path = f"{_EXPORT_DIR}/{name}"
        if path not in claimed and default_storage.get_modified_time(path) < before:
            _delete(path)
            deleted += 1
    return deleted


def _delete(path):
    if is_export_file(path):
        default_storage.delete(path)
