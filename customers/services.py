import re
import secrets
from dataclasses import dataclass, field

import tablib
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Customer
from .resources import RESOURCES, rename_headers

# -- Customers -------------------------------------------------------------------------------


def next_customer_code():
    """The next free code of the form C<yyyymmdd><nnnn> (gaps are fine, collisions are not)."""
    prefix = "C" + timezone.localdate().strftime("%Y%m%d")
    last = (
        Customer.objects.filter(code__startswith=prefix)
        .order_by("-code")
        .values_list("code", flat=True)
        .first()
    )
    seq = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return f"{prefix}{seq:04d}"


@transaction.atomic
def save_customer(form, contacts):
    """Save a customer and its contact formset together; either both or neither."""
    customer = form.save(commit=False)
    if not customer.code:
        customer.code = next_customer_code()
    customer.save()
    form.save_m2m()
    contacts.instance = customer
    # Unset a primary contact before setting another, so the partial unique index
    # (one primary per customer) is never violated half-way through the formset.
    demoted = [
        f.instance.pk
        for f in contacts.forms
        if f.instance.pk and not f.cleaned_data.get("is_primary")
    ]
    customer.contacts.filter(pk__in=demoted).update(is_primary=False)
    contacts.save()
    return customer


# -- Import / export -------------------------------------------------------------------------

_UPLOAD_DIR = "imports"


def keep_upload(name, content):
    """Store a checked file until it is confirmed; returns a server-chosen path."""
    suffix = re.sub(r"[^.A-Za-z0-9]", "", name[-6:]) if "." in name else ""
    path = f"{_UPLOAD_DIR}/{secrets.token_hex(16)}{suffix}"
    return default_storage.save(path, ContentFile(content))


def take_upload(path):
    """Read and delete a kept file; None when it is gone or the path is not ours."""
    if not path.startswith(_UPLOAD_DIR + "/") or ".." in path or not default_storage.exists(path):
        return None
    with default_storage.open(path, "rb") as f:
        content = f.read()
    default_storage.delete(path)
    return content


_EXTENSIONS = {".xlsx": "xlsx", ".csv": "csv"}


class ImportFileError(Exception):
    """The file cannot be read; its message is for the user."""


def read_dataset(name, content: bytes):
    ext = re.search(r"\.[A-Za-z0-9]+$", name or "")
    fmt = _EXTENSIONS.get(ext.group(0).lower()) if ext else None
    if fmt is None:
        raise ImportFileError(_("Upload an Excel (.xlsx) or CSV (.csv) file."))
    try:
        if fmt == "csv":
            dataset = tablib.Dataset().load(_decode_csv(content), format="csv")
        else:
            dataset = tablib.Dataset().load(content, format="xlsx")
    except ImportFileError:
        raise
    except Exception:
        raise ImportFileError(
            _("The file could not be read as %(format)s.") % {"format": fmt.upper()}
        ) from None
    if not dataset.headers:
        raise ImportFileError(_("The file is empty."))
    if len(dataset) > settings.IMPORT_MAX_ROWS:
        raise ImportFileError(
            _("The file has %(rows)s rows; at most %(max)s can be imported at once.")
            % {"rows": len(dataset), "max": settings.IMPORT_MAX_ROWS}
        )
    # Excel pads with empty rows at the end; drop rows that are entirely empty.
    empty = [i for i, row in enumerate(dataset) if all(v in (None, "") for v in row)]
    for i in reversed(empty):
        del dataset[i]
    if not len(dataset):
        raise ImportFileError(_("The file has no data rows."))
    return dataset


def _decode_csv(content):
    # Chinese Excel saves CSV as GB18030; everything else is UTF-8 (with or without BOM).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The CSV file is neither UTF-8 nor GB18030 encoded."))


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
    problems: list = field(default_factory=list)
    ignored_columns: list = field(default_factory=list)
    preview: list = field(default_factory=list)
    headers: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems


def import_masterdata(kind, dataset, *, commit):
    """Dry-run (commit=False) or import a dataset. Any bad row → nothing is written."""
    resource = RESOURCES[kind][1]()
    report = ImportReport(kind=kind, total=len(dataset))
    try:
        report.ignored_columns = rename_headers(dataset, resource)
    except ValidationError as e:
        report.problems.append(RowProblem(1, e.messages, {}))
        return report
    titles = {name: str(resource.title_for(name)) for name in resource.fields}
    with transaction.atomic():
        try:
            result = resource.import_data(
                dataset,
                dry_run=not commit,
                raise_errors=False,
                use_transactions=True,
                rollback_on_validation_errors=True,
            )
        except IntegrityError as e:  # a conflict only the database saw
            transaction.set_rollback(True)
            report.problems.append(RowProblem(1, [str(e)], {}))
            return report
        for number, errors in result.row_errors():
            report.problems.append(
                RowProblem(
                    number + 1,
                    [_error_text(err.error) for err in errors],
                    dict(zip(dataset.headers, dataset[number - 1], strict=False)),
                )
            )
        for invalid in result.invalid_rows:
            messages = []
            for name, errs in invalid.error_dict.items():
                prefix = "" if name == NON_FIELD_ERRORS else f"{titles.get(name, name)}: "
                messages += [prefix + str(m) for m in errs]
            report.problems.append(RowProblem(invalid.number + 1, messages, invalid.values))
        report.problems.sort(key=lambda p: p.line)
        totals = result.totals
        report.new, report.updated, report.unchanged = (
            totals["new"],
            totals["update"],
            totals["skip"],
        )
        if report.problems:
            transaction.set_rollback(True)
    report.headers = [titles[n] for n in resource.fields if n in dataset.headers]
    names = [n for n in resource.fields if n in dataset.headers]
    report.preview = [[row.get(n, "") for n in names] for row in dataset.dict[:20]]
    return report


def _error_text(error):
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    if isinstance(error, IntegrityError):
        return _("This row conflicts with data already saved (a duplicate key).")
    return str(error)


def export_masterdata(kind, fmt):
    """Return (bytes, content type) of every row of a master-data table."""
    resource = RESOURCES[kind][1]()
    dataset = resource.export()
    # Values are escaped per field by the resource; headers are ours and safe.
    data = dataset.export(fmt)
    if fmt == "csv":
        # A BOM lets Excel open UTF-8 CSV with Chinese text correctly.
        return ("\ufeff" + data).encode("utf-8"), "text/csv; charset=utf-8"
    return data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@transaction.atomic
def save_agreement(form, targets):
    """Save an agreement with its four SLA targets; either all or nothing."""
    agreement = form.save()
    targets.instance = agreement
    targets.save()
    return agreement
