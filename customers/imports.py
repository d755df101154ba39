"""Master-data imports: files read in chunks, checked (every bad row listed) and then written in
one transaction; large files as ImportJobs run by customers.tasks, retried and cleaned up."""

import codecs
import csv
import io
import logging
import re
import secrets
import zipfile
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from itertools import batched

import openpyxl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.queue import publish_on_commit

from .cells import UncomputedFormula, unescape_formula
from .kinds import resource_for
from .models import (
    Contact,
    Customer,
    Equipment,
    ImportJob,
    ProductModel,
    Tag,
)

logger = logging.getLogger(__name__)


# -- Import / export -------------------------------------------------------------------------
#
# An import is read from a stored file in chunks, twice: a check that writes nothing and lists
# every bad row, then, once the user confirms, the import itself in one transaction. Small files
# are checked in the request; larger ones (settings.IMPORT_BACKGROUND_ROWS) by Celery tasks that
# an ImportJob tracks. Both run check_import and commit_import.

# Rows per chunk: per chunk, one query per looked-up column, one for existing rows, bulk writes.
IMPORT_CHUNK_ROWS = 2000
# Bad rows kept for the report (all are counted); the preview shows the first rows of the file.
MAX_LISTED_PROBLEMS = 1000
PREVIEW_ROWS = 20

_UPLOAD_DIR = "imports"
_EXTENSIONS = {".xlsx": "xlsx", ".csv": "csv"}


class ImportFileError(Exception):
    """The file cannot be read; its message is for the user."""


def file_format(name):
    ext = re.search(r"\.[A-Za-z0-9]+$", name or "")
    fmt = _EXTENSIONS.get(ext.group(0).lower()) if ext else None
    if fmt is None:
        raise ImportFileError(_("Upload an Excel (.xlsx) or CSV (.csv) file."))
    return fmt


def keep_upload(upload):
    """Store an uploaded file (streamed, not read into memory); returns a server-chosen path."""
    suffix = "." + file_format(upload.name)
    return default_storage.save(f"{_UPLOAD_DIR}/{secrets.token_hex(16)}{suffix}", upload)


def is_kept_upload(path):
    return (
        isinstance(path, str)
        and path.startswith(_UPLOAD_DIR + "/")
        and ".." not in path
        and default_storage.exists(path)
    )


def discard_upload(path):
    if is_kept_upload(path):
        default_storage.delete(path)


@contextmanager
def open_rows(name, path, *, formulas=True):
    """(column titles, rows, declared) of a stored file; rows yields (line, cells) as needed.

    Line 1 is the header. Rows that are entirely empty (Excel pads sheets with them) are
    skipped; short rows are padded to the header's width. `declared` is the number of rows an
    Excel sheet says it has (empty ones included), or None.

    An Excel cell holding a formula gives the result that Excel saved with it. A formula saved
    without its result (a program wrote the file) gives an UncomputedFormula, unless
    formulas=False (counting rows), rather than an empty cell.
    """
    fmt = file_format(name)
    unreadable = ImportFileError(
        _("The file could not be read as %(format)s.") % {"format": fmt.upper()}
    )
    with ExitStack() as stack:
        f = stack.enter_context(default_storage.open(path, "rb"))
        book = None
        try:
            if fmt == "csv":
                encoding = _csv_encoding(f)
                text = io.TextIOWrapper(f, encoding=encoding, newline="")
                records = csv.reader(text)
                declared = None
            else:
                # Read-only mode streams the sheet instead of loading every cell.
                book = openpyxl.load_workbook(f, read_only=True, data_only=True)
                stack.callback(book.close)
                records = book.active.iter_rows(values_only=True)
                declared = book.active.max_row and book.active.max_row - 1
                if formulas and _has_formulas(f):
                    # The formulas themselves, read alongside: the results alone cannot tell a
                    # formula without its result from an empty cell. (This reads the file twice,
                    # the results as cells, which have their types: about three times as long.)
                    g = stack.enter_context(default_storage.open(path, "rb"))
                    formula_book = openpyxl.load_workbook(g, read_only=True, data_only=False)
                    stack.callback(formula_book.close)
                    records = _with_formulas(
                        book.active.iter_rows(), formula_book.active.iter_rows(values_only=True)
                    )
            titles = list(next(records, None) or [])
        except ImportFileError:
            raise
        except Exception:
            raise unreadable from None
        if not any(t not in (None, "") for t in titles):
            raise ImportFileError(_("The file is empty."))

        def rows():
            width = len(titles)
            try:
                for line, cells in enumerate(records, start=2):
                    cells = list(cells[:width])
                    if all(v in (None, "") for v in cells):
                        continue
                    yield line, cells + [None if book else ""] * (width - len(cells))
            except Exception:
                raise unreadable from None

        yield titles, rows(), declared


# A formula element in a sheet's XML (<f>, <f t="shared" …>, <f/>, or with a namespace prefix).
_FORMULA_ELEMENT = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _has_formulas(f):
    """Whether an Excel file's sheets hold any formula: a scan of their XML, which costs far
    less than reading the cells a second time when there is none (most files)."""
    with zipfile.ZipFile(f) as archive:
        for member in archive.namelist():
            if not (member.startswith("xl/worksheets/") and member.endswith(".xml")):
                continue
            with archive.open(member) as sheet:
                tail = b""
                while block := sheet.read(1 << 20):
                    if _FORMULA_ELEMENT.search(tail + block):
                        return True
                    tail = block[-16:]
    return False


def _with_formulas(cells, formulas):
    """Rows of values from rows of cells (their results) and of formulas, where a cell that has
    a formula but no saved result holds an UncomputedFormula instead of None."""
    for row, row_formulas in zip(cells, formulas, strict=False):
        yield tuple(
            # An array formula is an object; its text is the formula. A formula whose result is
            # empty text has the result's type ("str") saved with it: that cell is empty.
            UncomputedFormula(getattr(formula, "text", formula))
            if cell.value is None and formula not in (None, "") and cell.data_type != "str"
            else cell.value
            for cell, formula in zip(row, row_formulas, strict=False)
        )


def _csv_encoding(f):
    # Chinese Excel saves CSV as GB18030; everything else is UTF-8 (with or without BOM).
    # Checked over the whole file, block by block, before the first row is read.
    for encoding in ("utf-8-sig", "gb18030"):
        f.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while block := f.read(1 << 16):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        f.seek(0)
        return encoding
    raise ImportFileError(_("The CSV file is neither UTF-8 nor GB18030 encoded."))


def count_rows(name, path):
    """The data rows of a stored file, to choose between the request and a background job.

    Refuses files that are unreadable, empty or too long. For Excel, the size the sheet
    declares (with trailing empty rows) is taken when it is within bounds: reading a large
    sheet only to count its rows would keep the request waiting.
    """
    with open_rows(name, path, formulas=False) as (_titles, rows, declared):
        if declared is not None and declared <= settings.IMPORT_MAX_ROWS:
            total = declared
        else:
            total = sum(1 for _row in rows)
    if not total:
        raise ImportFileError(_("The file has no data rows."))
    if total > settings.IMPORT_MAX_ROWS:
        raise ImportFileError(
            _("The file has %(rows)s rows; at most %(max)s can be imported at once.")
            % {"rows": total, "max": settings.IMPORT_MAX_ROWS}
        )
    return total


@dataclass
class RowProblem:
    line: int  # the spreadsheet line: the header is line 1
    messages: list
    values: dict


@dataclass
class ImportReport:
    kind: str
    total: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    problem_count: int = 0
    problems: list = field(default_factory=list)  # the first MAX_LISTED_PROBLEMS
    ignored_columns: list = field(default_factory=list)
    preview: list = field(default_factory=list)
    headers: list = field(default_factory=list)
    # {line: its RowProblem, or None when not listed} while the file is read.
    _lines: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def ok(self):
        return not self.problem_count

    @property
    def unlisted_problems(self):
        return self.problem_count - len(self.problems)

    def add_problem(self, line, messages, values):
        """Count a bad row and list it (the first MAX_LISTED_PROBLEMS); a row found bad again
        (a duplicate key, known at the end of the file) gets the messages added."""
        messages = [str(m) for m in messages]
        if line in self._lines:
            listed = self._lines[line]
            if listed is not None:
                listed.messages += messages
            return
        self.problem_count += 1
        listed = None
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            values = {str(k): _plain(v) for k, v in values.items()}
            listed = RowProblem(line, messages, values)
            self.problems.append(listed)
        self._lines[line] = listed

    def as_dict(self):
        data = asdict(self)
        del data["_lines"]
        return data

    @classmethod
    def from_dict(cls, data):
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "_lines"}
        known["problems"] = [RowProblem(**p) for p in known.get("problems", [])]
        return cls(**known)


def _plain(value):
    """A cell as JSON can store it (Excel gives dates and times)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def receive_import(user, kind, upload):
    """Store and count an uploaded file: a large one becomes a job, a small one is checked now.

    Returns (job, None, None) for a job, else (None, report, path), where path is the kept
    file (for the confirmation step) or None when a row is bad. Raises ImportFileError when
    the file cannot be imported at all; nothing is kept then.
    """
    path = keep_upload(upload)
    try:
        rows = count_rows(upload.name, path)
        if rows > settings.IMPORT_BACKGROUND_ROWS:
            return start_import_job(user, kind, upload.name, path, rows), None, None
        report = check_import(kind, upload.name, path)
    except Exception:
        discard_upload(path)
        raise
    if not report.ok:
        discard_upload(path)
        path = None
    return None, report, path


def check_import(kind, name, path, *, progress=None):
    """Check every row of a stored file; nothing is written. progress(rows) after each chunk."""
    return _import_file(kind, name, path, commit=False, progress=progress)


class _Refused(Exception):
    def __init__(self, report):
        self.report = report


def commit_import(kind, name, path, *, progress=None, on_success=None, actor=None):
    """Import a stored file in one transaction: every row, or none when any row is bad.

    The file was checked before, but the data may have changed since: the rows are checked
    again as they are written, and the first bad chunk rolls everything back.
    `on_success(report)` runs inside the transaction, so what it writes commits with the rows.
    `actor`: the person importing (resources that keep a history name them).
    """
    try:
        with transaction.atomic():
            report = _import_file(kind, name, path, commit=True, progress=progress, actor=actor)
            if not report.ok:
                raise _Refused(report)
            if on_success is not None:
                on_success(report)
    except _Refused as refused:
        return refused.report
    return report


def _import_file(kind, name, path, *, commit, progress, actor=None):
    # The commit pass does not repeat the check's field validation, which depends on the cells
    # alone: the file is the one that was checked (stored under a name the server chose).
    resource = resource_for(kind)[1]()
    resource.actor = actor
    report = ImportReport(kind=kind)
    with open_rows(name, path) as (titles, rows, _declared):
        try:
            names, report.ignored_columns = resource.map_headers(titles)
        except ValidationError as e:
            report.add_problem(1, e.messages, {})
            return report
        shown = [n for n in resource.fields if n in names]
        report.headers = [str(resource.title_for(n)) for n in shown]
        for chunk in batched(rows, IMPORT_CHUNK_ROWS):
            # Text that the export escaped as a formula reads back as it was stored.
            records = [
                (line, dict(zip(names, map(unescape_formula, cells), strict=True)))
                for line, cells in chunk
            ]
            for _line, row in records[: PREVIEW_ROWS - len(report.preview)]:
                report.preview.append([_plain(row.get(n, "")) for n in shown])
            if report.total + len(records) > settings.IMPORT_MAX_ROWS:
                total = report.total + len(records) + sum(1 for _row in rows)
                raise ImportFileError(
                    _("The file has %(rows)s rows; at most %(max)s can be imported at once.")
                    % {"rows": total, "max": settings.IMPORT_MAX_ROWS}
                )
            try:
                result = resource.import_chunk(records, commit=commit, validate_fields=not commit)
            except (IntegrityError, DataError) as e:
                # A conflict only the database saw (another user's change since the check);
                # the transaction is broken, so stop here: the caller rolls it back.
                if not commit:
                    raise
                report.add_problem(
                    records[0][0],
                    [
                        _database_error_text(e),
                        _("The conflict is in lines %(first)s–%(last)s.")
                        % {"first": records[0][0], "last": records[-1][0]},
                    ],
                    {},
                )
                return report
            report.total += len(records)
            report.new += result.new
            report.updated += result.updated
            report.unchanged += result.unchanged
            for line, messages, row in result.problems:
                report.add_problem(line, messages, row)
            if commit and not report.ok:
                return report  # nothing will be written: no need to read on
            if progress is not None:
                progress(report.total)
    for line, messages in resource.duplicate_problems():
        report.add_problem(line, messages, {})
    report.problems.sort(key=lambda problem: problem.line)
    if not report.total and report.ok:
        raise ImportFileError(_("The file has no data rows."))
    return report


def _database_error_text(error):
    """The violated constraint's own message when the database names it."""
    name = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    for model in (Customer, Contact, Equipment, ProductModel, Tag):
        for constraint in model._meta.constraints:
            if name and constraint.name == name:
                return str(constraint.get_violation_error_message())
    return _("This row conflicts with data already saved (a duplicate key).")


# -- Import jobs (large files, run by customers.tasks) ---------------------------------------


def start_import_job(user, kind, name, path, rows):
    """Record a job for a stored file and have a worker check it (after this transaction)."""
    from . import tasks  # tasks imports this module

    job = ImportJob.objects.create(
        user=user,
        kind=kind,
        file_name=name[-200:],
        file_path=path,
        total_rows=rows,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    publish_on_commit(tasks.check_import_job, job.pk)  # lost: the cleanup fails it
    return job


def run_import_check(job_id):
    """Check a queued job's file and store the report (tasks.check_import_job).

    Only a queued job is taken, so a task delivered twice does nothing the second time.
    Side effects: the job's progress, state and report; the file is deleted if a row is bad.
    """
    taken = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(
        state=ImportJob.State.CHECKING, rows_done=0, progress_at=timezone.now()
    )
    if not taken:
        return
    job = ImportJob.objects.get(pk=job_id)

    def progress(rows):
        ImportJob.objects.filter(pk=job_id).update(rows_done=rows, progress_at=timezone.now())

    with translation.override(job.language):
        try:
            report = check_import(job.kind, job.file_name, job.file_path, progress=progress)
        except ImportFileError as e:
            _fail_job(job, ImportJob.State.CHECKING, str(e))
            return
        except Exception:
            # Perhaps passing (the database restarted): the file stays for a retry.
            _fail_job(
                job,
                ImportJob.State.CHECKING,
                _("The check stopped because of an internal error."),
                keep_file=True,
            )
            raise
    now = timezone.now()
    checked = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.CHECKING).update(
        state=ImportJob.State.CHECKED,
        total_rows=report.total,
        rows_done=report.total,
        bad_rows=report.problem_count,
        report=report.as_dict(),
        checked_at=now,
        progress_at=now,
    )
    # Not checked: the cleanup failed the job meanwhile; its file stays for a retry.
    if checked and not report.ok:
        discard_upload(job.file_path)


def confirm_import_job(job):
    """The user's go-ahead for a checked job; False when it was given before or rows are bad."""
    from . import tasks  # tasks imports this module

    now = timezone.now()
    confirmed = ImportJob.objects.filter(
        pk=job.pk, state=ImportJob.State.CHECKED, bad_rows=0, confirmed_at=None
    ).update(confirmed_at=now, progress_at=now)
    if confirmed:
        publish_on_commit(tasks.commit_import_job, job.pk)
    return bool(confirmed)


def run_import_commit(job_id):
    """Import a confirmed job's file in one transaction (tasks.commit_import_job).

    Only a confirmed, checked job is taken, so a repeated task does nothing. The job is marked
    done in the import's own transaction: either the rows and "done" are saved, or neither and
    the job is marked failed with the reason. A job the cleanup failed meanwhile (this worker
    looked dead) is not marked done: its import is rolled back, so a retry cannot import the
    file twice. The file is deleted once imported, or when retrying cannot help.
    """
    taken = ImportJob.objects.filter(
        pk=job_id, state=ImportJob.State.CHECKED, bad_rows=0, confirmed_at__isnull=False
    ).update(state=ImportJob.State.IMPORTING, rows_done=0, progress_at=timezone.now())
    if not taken:
        return
    job = ImportJob.objects.get(pk=job_id)

    def finish(report):
        finished = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.IMPORTING).update(
            state=ImportJob.State.DONE,
            rows_done=report.total,
            report=report.as_dict(),
            finished_at=timezone.now(),
        )
        if not finished:
            raise _Superseded

    importing = ImportJob.State.IMPORTING
    progress = _ProgressWriter(job_id)
    try:
        with translation.override(job.language):
            try:
                report = commit_import(
                    job.kind,
                    job.file_name,
                    job.file_path,
                    progress=progress,
                    on_success=finish,
                    actor=job.user,
                )
            except _Superseded:
                return  # the file is the job's, failed (to retry) or running again
            except ImportFileError as e:
                _fail_job(job, importing, str(e))
                return
            except Exception:
                # Perhaps passing (the database restarted): the file stays for a retry.
                reason = _("The import stopped because of an internal error.")
                _fail_job(job, importing, reason, keep_file=True)
                raise
            if not report.ok:
                reason = _("The data changed since the check; nothing was imported.")
                _fail_job(job, importing, reason, report)
                return
    finally:
        progress.close()
    discard_upload(job.file_path)  # imported


class _Superseded(Exception):
    """The job is no longer this worker's to finish."""


def _fail_job(job, state, reason, report=None, *, keep_file=False):
    """Mark a job failed if it is still in `state` (this worker's); its import, if any, has been
    rolled back. Its file is deleted, or with keep_file kept for a retry (retry_import_job) until
    the cleanup removes it. Returns whether the job was failed here."""
    changes = {"state": ImportJob.State.FAILED, "error": reason, "finished_at": timezone.now()}
    if report is not None:
        changes |= {"report": report.as_dict(), "bad_rows": report.problem_count}
    failed = ImportJob.objects.filter(pk=job.pk, state=state).update(**changes)
    if failed and not keep_file:
        discard_upload(job.file_path)
    return bool(failed)


def retry_horizon(now=None):
    """Failed jobs that ended after this may be run again: their files are kept until then."""
    return (now or timezone.now()) - timedelta(hours=settings.IMPORT_UNCONFIRMED_HOURS)


def can_retry_import_job(job):
    """Whether a job may be run again: failed lately, its stored file still there."""
    return (
        job.state == ImportJob.State.FAILED
        and job.finished_at is not None
        and job.finished_at >= retry_horizon()
        and is_kept_upload(job.file_path)
    )


def retry_import_job(job):
    """Queue a failed job again with the same stored file, from its check: the user sees the
    report again and confirms the import. False when the job is not failed or its file is gone.

    Side effects: the job back to queued (its error, report and progress cleared), the check
    task sent after the commit.
    """
    from . import tasks  # tasks imports this module

    if not can_retry_import_job(job):
        return False
    now = timezone.now()
    # Compare-and-set: two clicks (or two administrators) queue it once.
    retried = ImportJob.objects.filter(
        pk=job.pk, state=ImportJob.State.FAILED, finished_at__gte=retry_horizon(now)
    ).update(
        state=ImportJob.State.QUEUED,
        error="",
        report={},
        rows_done=0,
        bad_rows=0,
        checked_at=None,
        confirmed_at=None,
        finished_at=None,
        progress_at=now,
    )
    if retried:
        publish_on_commit(tasks.check_import_job, job.pk)  # lost: the cleanup fails it again
    return bool(retried)


def expire_import_jobs(now=None):
    """End the import jobs nobody will finish (hourly, tasks.expire_import_jobs); delete files.

    - Stale: a job a worker should be moving (queued, checking, importing, or confirmed and
      waiting for its import) with no progress for settings.IMPORT_STALE_MINUTES. Its worker
      died or its task was lost: failed, with the reason on the job page, its file kept so
      that the user may run it again (retry_import_job). An import is one transaction, so a
      dead worker imported nothing. (A worker still alive finds the job taken: its check's
      result is dropped, its import rolled back.)
    - Unconfirmed: checked without problems but not confirmed within
      settings.IMPORT_UNCONFIRMED_HOURS: expired, its file deleted; confirming is refused.
    - The file of a job that failed more than settings.IMPORT_UNCONFIRMED_HOURS ago: deleted
      (the job page then says to upload it again), as are small files nobody confirmed.

    Each kind is one locking read of the rows (skip_locked: a second cleanup at the same time
    takes the others) and one UPDATE per uploader language, whose compare-and-set repeats the
    conditions; running it twice changes nothing the second time. Returns the counts.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(minutes=settings.IMPORT_STALE_MINUTES)
    unconfirmed_before = now - timedelta(hours=settings.IMPORT_UNCONFIRMED_HOURS)
    waiting = Q(state=ImportJob.State.CHECKED, confirmed_at__isnull=False)
    stale = ImportJob.objects.filter(
        Q(state__in=ImportJob.RUNNING_STATES) | waiting, progress_at__lt=stale_before
    )
    # A check that found bad rows kept no file and stays as it is: its page lists the rows.
    unconfirmed = ImportJob.objects.filter(
        state=ImportJob.State.CHECKED,
        bad_rows=0,
        confirmed_at=None,
        progress_at__lt=unconfirmed_before,
    )
    failed = _end_jobs(
        stale,
        ImportJob.State.FAILED,
        _STALE,
        {"minutes": settings.IMPORT_STALE_MINUTES},
        now,
        keep_files=True,
    )
    expired = _end_jobs(
        unconfirmed,
        ImportJob.State.EXPIRED,
        _UNCONFIRMED,
        {"hours": settings.IMPORT_UNCONFIRMED_HOURS},
        now,
    )
    orphans = _delete_unclaimed_uploads(unconfirmed_before, retry_horizon(now))
    return {"failed": failed, "expired": expired, "files": orphans}


def _delete_unclaimed_uploads(before, retry_after):
    """Files stored before `before` that nothing will use any more: deleted.

    Those are the files of small imports, checked in the request and kept for the confirmation
    in the uploader's session only (no job names them), that nobody confirmed in time, and the
    files of jobs that failed before `retry_after` and were not retried. Files an unfinished
    job names are left to the rules above.
    """
    try:
        _dirs, names = default_storage.listdir(_UPLOAD_DIR)
    except FileNotFoundError:
        return 0
    unfinished = ~Q(state__in=ImportJob.FINISHED_STATES)
    retryable = Q(state=ImportJob.State.FAILED, finished_at__gte=retry_after)
    claimed = set(
        ImportJob.objects.filter(unfinished | retryable).values_list("file_path", flat=True)
    )
    deleted = 0
    for name in names:
        path = f"{_UPLOAD_DIR}/{name}"
        if path not in claimed and default_storage.get_modified_time(path) < before:
            default_storage.delete(path)
            deleted += 1
    return deleted


_STALE = gettext_lazy(
    "The work stopped: no progress for %(minutes)s minutes (the background worker was probably "
    "restarted)."
)
_UNCONFIRMED = gettext_lazy(
    "Not confirmed within %(hours)s hours: the uploaded file was deleted and nothing was "
    "imported. Upload the file again to import it."
)


def _end_jobs(due, state, reason, params, now, *, keep_files=False):
    with transaction.atomic():
        rows = list(
            due.select_for_update(skip_locked=True).values_list("pk", "language", "file_path")
        )
        by_language = defaultdict(list)
        for pk, language, _path in rows:
            by_language[language].append(pk)
        ended = 0
        for language, pks in by_language.items():
            # The reason in the uploader's language, as the worker writes its own reasons.
            with translation.override(language):
                error = str(reason) % params
            ended += due.filter(pk__in=pks).update(state=state, error=error, finished_at=now)
    if not keep_files:
        for _pk, _language, path in rows:
            discard_upload(path)
    return ended


class _ProgressWriter:
    """Writes a job's rows_done from a second database connection while it imports.

    The import is one transaction: progress written on its own connection would stay invisible
    to the job page until the end. Only PostgreSQL lets a second connection write meanwhile
    (SQLite locks the whole file); elsewhere, and inside an outer transaction (whose row locks
    would make the second connection wait), the bar jumps to done at the end. Best effort:
    a failed progress write never stops the import.
    """

    def __init__(self, job_id):
        self.job_id = job_id
        self.connection = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self.connection = connection.copy()
            self.table = connection.ops.quote_name(ImportJob._meta.db_table)

    def __call__(self, rows):
        if self.connection is None:
            return
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
                cursor.execute(
                    f"UPDATE {self.table} SET rows_done = %s, progress_at = %s WHERE id = %s",
                    [rows, timezone.now(), self.job_id],
                )
        except DatabaseError:
            logger.warning("Import job %s: progress not recorded", self.job_id, exc_info=True)
            self.close()

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None
