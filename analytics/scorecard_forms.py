"""Forms of the self-assessment pages: the period of a new assessment, an item's score with its
evidence, and the items' weights. Forms validate and convert; `analytics.scorecard` saves.

Evidence files are checked by their content, never by their name or the type the browser
claims: an image Pillow can read is re-encoded as a new JPEG (as the visit photos are, by
`tickets.mobile_forms.resized_jpeg`: no EXIF, no polyglot, a server-made name); a PDF must begin
with the PDF header and end with its end-of-file marker, and is stored under a new name (and
only ever sent as a download). Anything else is refused.
"""

import re
import uuid
from datetime import timedelta
from pathlib import PurePath

from django import forms
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.lib.validators import plain_text, refuse_oversized
from tickets.mobile_forms import resized_jpeg

from .models import Evidence
from .models.scorecard import Metric
from .reports import LONGEST
from .scorecard import points_text

# Files one upload may add to an item (the service also caps the files an item keeps).
MAX_FILES_PER_UPLOAD = 5
PDF_HEADER = b"%PDF-"
PDF_END = b"%%EOF"
# Incremental saves may leave a few bytes (a newline, a scanner's padding) after the marker.
PDF_TAIL = 2048
NOTE_MAX = 2000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def last_twelve_months(today=None):
    """The last twelve whole months before today's: the usual period of a self-assessment."""
    today = today or timezone.localdate()
    end = today.replace(day=1) - timedelta(days=1)
    start = end.replace(year=end.year - 1) + timedelta(days=1)
    return start, end


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=_date_input())
    end = forms.DateField(label=_("To"), widget=_date_input())

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            return data
        if start > end:
            self.add_error("end", _("The end of the period comes before its start."))
        elif end > timezone.localdate():
            self.add_error("end", _("The period cannot end after today."))
        elif end - start > LONGEST:
            self.add_error("start", _("A period of at most five years, please."))
        return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


def original_name(name):
    """The uploaded file's own name, as a label only: no folders, no control or direction
    characters, at most 120 characters."""
    name = PurePath(str(name or "").replace("\\", "/")).name
    name = plain_text(_CONTROL.sub("", name)).strip()
    return name[-120:] or "file"


class EvidenceField(forms.FileField):
    """Photos or PDF files, several in one input; the cleaned value is a list of
    (content to save, kind, original name, size)."""

    default_error_messages = {
        "too_big": _("the file is %(size)s; a file may be at most %(limit)s."),
        "kind": _("only photos (JPEG, PNG …) or PDF files can be attached."),
        "broken_pdf": _("this PDF file is incomplete or damaged."),
        "named": _("“%(name)s”: %(error)s"),
        "too_many": _("Attach at most %(limit)d files at a time."),
    }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(
                attrs={"accept": "image/*,application/pdf,.pdf", "class": "form-control"}
            ),
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def to_python(self, data):
        if data in self.empty_values:
            return None
        # Checked before anything reads the file: an oversized file is refused unopened.
        refuse_oversized(data, self.error_messages["too_big"])
        data = super().to_python(data)
        data.seek(0)
        head = data.read(len(PDF_HEADER))
        if head == PDF_HEADER:
            content, kind = self._pdf(data), Evidence.Kind.PDF
        else:
            content, kind = self._image(data), Evidence.Kind.IMAGE
        return (content, kind, original_name(data.name), content.size)

    def _pdf(self, data):
        data.seek(0)
        raw = data.read()
        if PDF_END not in raw[-PDF_TAIL:]:
            raise forms.ValidationError(self.error_messages["broken_pdf"], code="broken_pdf")
        return ContentFile(raw, name=f"{uuid.uuid4().hex}.pdf")

    def _image(self, data):
        data.seek(0)
        try:
            checked = forms.ImageField().to_python(data)
        except forms.ValidationError:
            raise forms.ValidationError(self.error_messages["kind"], code="kind") from None
        try:
            return resized_jpeg(checked)
        except forms.ValidationError:
            raise
        except Exception as exc:  # Pillow raises many kinds of error on a broken file
            raise forms.ValidationError(self.error_messages["kind"], code="kind") from exc

    def clean(self, data, initial=None):
        if not isinstance(data, list | tuple):
            data = [data] if data not in self.empty_values else []
        if len(data) > MAX_FILES_PER_UPLOAD:
            raise forms.ValidationError(
                self.error_messages["too_many"],
                code="too_many",
                params={"limit": MAX_FILES_PER_UPLOAD},
            )
        single = super().clean
        files, errors = [], []
        for item in data:
            try:
                checked = single(item, initial)
            except forms.ValidationError as error:
                # Say which of the chosen files is wrong.
                errors.extend(
                    forms.ValidationError(
                        self.error_messages["named"],
                        code=e.code,
                        params={"name": original_name(getattr(item, "name", "")), "error": m},
                    )
                    for e in error.error_list
                    for m in e
                )
            else:
                if checked is not None:
                    files.append(checked)
        if errors:
            raise forms.ValidationError(errors)
        return files


class ScoreForm(forms.Form):
    """One item of a draft: its points (items scored by hand), the evidence note, files to add
    and files to remove."""

    note = forms.CharField(
        label=_("Evidence"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    files = EvidenceField(label=_("Attach photos or PDF files"))
    remove = forms.TypedMultipleChoiceField(
        label=_("Remove"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, score, **kwargs):
        kwargs.setdefault("prefix", f"s{score.pk}")
        kwargs.setdefault("initial", {"points": score.points, "note": score.note})
        super().__init__(*args, **kwargs)
        self.score = score
        if not score.measured:
            self.fields["points"] = forms.DecimalField(
                label=_("Score (at most %(max)s)") % {"max": points_text(score.max_points)},
                required=False,
                min_value=0,
                max_value=score.max_points,
                max_digits=4,
                decimal_places=1,
                widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
            )
            self.order_fields(["points"])
        # The item's files (prefetched by the view).
        self.fields["remove"].choices = [(e.pk, e.original_name) for e in score.evidence.all()]

    def clean_note(self):
        return plain_text(self.cleaned_data["note"]).strip()

    def entry(self):
        data = self.cleaned_data
        entry = {
            "note": data["note"],
            "files": data.get("files") or [],
            "remove": data.get("remove") or [],
        }
        if "points" in self.fields:
            entry["points"] = data.get("points")
        return entry


class ItemForm(forms.Form):
    """An item's points, and for a measured item the value that earns them all (target) and
    the value that earns none (floor)."""

    max_points = forms.DecimalField(
        label=_("Points"), min_value=0, max_value=100, max_digits=4, decimal_places=1
    )

    def __init__(self, *args, item, **kwargs):
        kwargs.setdefault("prefix", f"i{item.pk}")
        kwargs.setdefault(
            "initial",
            {"max_points": item.max_points, "target": item.target, "floor": item.floor},
        )
        super().__init__(*args, **kwargs)
        self.item = item
        if item.metric:
            low, high = (1, 5) if item.metric == Metric.SATISFACTION else (0, 100)
            for name, label in (("target", _("Full points at")), ("floor", _("No points at"))):
                self.fields[name] = forms.DecimalField(
                    label=label, min_value=low, max_value=high, max_digits=5, decimal_places=2
                )

    def clean(self):
        data = super().clean()
        target, floor = data.get("target"), data.get("floor")
        if target is not None and floor is not None and floor >= target:
            self.add_error("floor", _("Below the value that earns full points, please."))
        return data

    def row(self):
        data = self.cleaned_data
        return {
            "max_points": data["max_points"],
            "target": data.get("target"),
            "floor": data.get("floor"),
        }
