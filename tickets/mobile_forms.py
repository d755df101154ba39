"""Forms of the engineer's phone pages: actions, check-in, the visit record and its correction.

Forms validate and convert; `tickets.services` saves. Uploaded images never reach storage as
sent: each photo is checked by Pillow and re-encoded (a new JPEG with a server-made name, so no
EXIF location, no polyglot file, no user-chosen name), the signature likewise as a new PNG.
"""

import base64
import binascii
import uuid
import warnings
from decimal import Decimal, InvalidOperation
from io import BytesIO

from django import forms
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from aftersales.lib.validators import refuse_oversized
from customers.models import WarrantyStatus

from .models import ChargeType, Visit

# Photos are stored at most this many pixels on their long side.
PHOTO_MAX_SIDE = 1600
PHOTO_JPEG_QUALITY = 85
MAX_PHOTOS = 12
# Refuse images whose pixel count would take too much memory to decode (a "decompression bomb"):
# 40 Mpx is above any phone camera of today and far below Pillow's own limit.
MAX_IMAGE_PIXELS = 40_000_000
# A signature drawn on a phone is a few tens of KB; the limit is generous.
SIGNATURE_MAX_BYTES = 512 * 1024
SIGNATURE_MAX_SIDE = 4000
SIGNATURE_PREFIX = "data:image/png;base64,"


def _image_name(extension):
    return f"{uuid.uuid4().hex}.{extension}"


def _open_checked(data):
    """Open image bytes (or a file) with Pillow, refusing oversized pixel counts."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(data)
    if image.width * image.height > MAX_IMAGE_PIXELS:
        raise forms.ValidationError(
            _("This image is too large (%(pixels)s megapixels); the limit is %(limit)s.")
            % {
                "pixels": (image.width * image.height) // 1_000_000,
                "limit": MAX_IMAGE_PIXELS // 1_000_000,
            },
            code="too_many_pixels",
        )
    return image


def resized_jpeg(upload):
    """A new JPEG of the uploaded image, turned upright, at most PHOTO_MAX_SIDE px long."""
    upload.seek(0)
    image = _open_checked(upload)
    # A JPEG can be decoded straight at a smaller scale: far less memory for 12 Mpx photos.
    image.draft("RGB", (PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    # Phones store photos sideways and say so in EXIF; the re-encoded file keeps no EXIF.
    image = ImageOps.exif_transpose(image)
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    elif image.mode != "RGB":
        image = image.convert("RGB")
    out = BytesIO()
    image.save(out, "JPEG", quality=PHOTO_JPEG_QUALITY, optimize=True)
    return ContentFile(out.getvalue(), name=_image_name("jpg"))


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.ImageField):
    """Several photos in one input (Django's documented MultipleFileField, over ImageField).

    Each file must be within UPLOAD_MAX_BYTES and a real image (Pillow opens and verifies it);
    the cleaned value is a list of re-encoded JPEG files ready to save.
    """

    default_error_messages = {
        "too_big": _("the file is %(size)s; a photo may be at most %(limit)s."),
        "named": _("“%(name)s”: %(error)s"),
        "too_many": _("Attach at most %(limit)d photos."),
    }

    def __init__(self, *args, max_photos=MAX_PHOTOS, **kwargs):
        self.max_photos = max_photos
        kwargs.setdefault(
            "widget", MultiplePhotoInput(attrs={"accept": "image/*", "class": "form-control"})
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def to_python(self, data):
        if data in self.empty_values:
            return None
        # Checked before Pillow reads anything: an oversized file is refused unopened.
        refuse_oversized(data, self.error_messages["too_big"])
        checked = super().to_python(data)
        try:
            return resized_jpeg(checked)
        except forms.ValidationError:
            raise
        except Exception as exc:  # Pillow raises many kinds of error on a broken file
            raise forms.ValidationError(
                self.error_messages["invalid_image"], code="invalid_image"
            ) from exc

    def clean(self, data, initial=None):
        if not isinstance(data, list | tuple):
            data = [data] if data not in self.empty_values else []
        if len(data) > self.max_photos:
            raise forms.ValidationError(
                self.error_messages["too_many"], code="too_many", params={"limit": self.max_photos}
            )
        single = super().clean
        photos = []
        errors = []
        for item in data:
            try:
                photo = single(item, initial)
            except forms.ValidationError as error:
                # Say which of the chosen files is wrong.
                errors.extend(
                    forms.ValidationError(
                        self.error_messages["named"],
                        code=e.code,
                        params={"name": getattr(item, "name", ""), "error": message},
                    )
                    for e in error.error_list
                    for message in e
                )
            else:
                if photo is not None:
                    photos.append(photo)
        if errors:
            raise forms.ValidationError(errors)
        if self.required and not photos:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return photos


class SignatureField(forms.CharField):
    """The customer's signature: a PNG data URL from signature_pad, checked and re-encoded."""

    widget = forms.HiddenInput
    default_error_messages = {
        "invalid_signature": _("The signature could not be read. Please sign again."),
        "too_big": _("The signature is too large. Please clear it and sign again."),
        "empty": _("The signature is empty. Please ask the customer to sign."),
    }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", True)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        # Base64 is 4/3 of the bytes: refuse before decoding anything oversized.
        if len(value) > len(SIGNATURE_PREFIX) + SIGNATURE_MAX_BYTES * 4 // 3 + 4:
            raise forms.ValidationError(self.error_messages["too_big"], code="too_big")
        if not value.startswith(SIGNATURE_PREFIX):
            raise forms.ValidationError(
                self.error_messages["invalid_signature"], code="invalid_signature"
            )
        try:
            raw = base64.b64decode(value[len(SIGNATURE_PREFIX) :], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise forms.ValidationError(
                self.error_messages["invalid_signature"], code="invalid_signature"
            ) from exc
        if len(raw) > SIGNATURE_MAX_BYTES:
            raise forms.ValidationError(self.error_messages["too_big"], code="too_big")
        try:
            image = _open_checked(BytesIO(raw))
            image.verify()  # checks the PNG chunks; the image must be opened again after it
            if image.format != "PNG" or max(image.size) > SIGNATURE_MAX_SIDE:
                raise ValueError(image.format)
            image = Image.open(BytesIO(raw)).convert("RGBA")
        except forms.ValidationError:
            raise
        except Exception as exc:
            raise forms.ValidationError(
                self.error_messages["invalid_signature"], code="invalid_signature"
            ) from exc
        # signature_pad draws dark strokes on a transparent canvas: no opaque pixel, no ink.
        if image.getchannel("A").getbbox() is None:
            raise forms.ValidationError(self.error_messages["empty"], code="empty")
        out = BytesIO()
        image.save(out, "PNG", optimize=True)
        return ContentFile(out.getvalue(), name=_image_name("png"))


class CoordinateField(forms.CharField):
    """A latitude or longitude from the browser; anything unusable becomes "no location".

    Check-in must never fail because a phone gave no or an odd position.
    """

    widget = forms.HiddenInput

    def __init__(self, *args, limit, **kwargs):
        self.limit = Decimal(limit)
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        try:
            number = Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            return None
        if not number.is_finite() or abs(number) > self.limit:
            return None
        return number.quantize(Decimal("0.000001"))


class ActionForm(forms.Form):
    """Accept, decline or check in: the ticket version the page showed, a reason when needed."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    latitude = CoordinateField(limit=90)
    longitude = CoordinateField(limit=180)

    def __init__(self, *args, action=None, **kwargs):
        self.action = action
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if self.action is not None and self.action.needs_reason and not data.get("reason"):
            self.add_error("reason", _("Please give a reason."))
        if data.get("latitude") is None or data.get("longitude") is None:
            data["latitude"] = data["longitude"] = None
        return data


class PartForm(forms.Form):
    name = forms.CharField(
        label=_("Part"),
        max_length=100,
        required=False,
        widget=forms.TextInput(
            attrs={
                "class": "form-control part-name",
                "placeholder": _("Part name and model"),
                "aria-label": _("Part"),
            }
        ),
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("0.01"),
        initial=Decimal("1"),
        required=False,
        widget=forms.NumberInput(
            attrs={
                "class": "form-control part-qty",
                "step": "any",
                "min": "0.01",
                "inputmode": "decimal",
                "aria-label": _("Quantity"),
            }
        ),
    )

    def clean(self):
        data = super().clean()
        if data.get("name") and data.get("quantity") is None and "quantity" not in self.errors:
            self.add_error("quantity", _("Give the quantity used."))
        return data


class BasePartFormSet(forms.BaseFormSet):
    def lines(self):
        """The filled rows as (name, Decimal quantity); empty rows are ignored."""
        return [
            (form.cleaned_data["name"], form.cleaned_data["quantity"])
            for form in self.forms
            if form.cleaned_data.get("name")
        ]


PartFormSet = forms.formset_factory(
    PartForm, formset=BasePartFormSet, extra=2, max_num=30, validate_max=True, absolute_max=30
)


def part_formset(data=None, visit=None):
    initial = None
    if visit is not None:
        initial = [{"name": p.name, "quantity": p.quantity} for p in visit.parts.all()]
    return PartFormSet(data, initial=initial, prefix="parts")


_MONEY = {"step": "0.01", "min": "0", "inputmode": "decimal"}


class _VisitCostsForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Visit
        fields = ["labour_hours", "labour_fee", "travel_fee", "other_fee", "charge"]
        widgets = {
            "labour_hours": forms.NumberInput(
                attrs={"step": "0.1", "min": "0", "max": "99", "inputmode": "decimal"}
            ),
            "labour_fee": forms.NumberInput(attrs=_MONEY),
            "travel_fee": forms.NumberInput(attrs=_MONEY),
            "other_fee": forms.NumberInput(attrs=_MONEY),
        }

    def record(self):
        """The visit's cleaned values by field name, for the services (which save them)."""
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class VisitForm(_VisitCostsForm):
    """The visit record at the end of a visit; the button pressed says resolved or not."""

    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"

    result = forms.ChoiceField(
        choices=[(RESOLVED, _("Resolved")), (UNRESOLVED, _("Not resolved"))],
        widget=forms.HiddenInput,
        error_messages={"required": _("Choose “Resolved” or “Not resolved”.")},
    )
    reason = forms.CharField(
        label=_("Why not resolved"),
        max_length=300,
        required=False,
        help_text=_("Required when the problem is not resolved (e.g. a part is missing)."),
    )
    photos = MultiplePhotoField(
        label=_("Photos"),
        help_text=_(
            "Several photos may be chosen; each is stored at most 1600 px on its long side."
        ),
    )
    signature = SignatureField(label=_("Customer's signature"))

    class Meta(_VisitCostsForm.Meta):
        fields = ["work_done", *_VisitCostsForm.Meta.fields]
        widgets = {
            **_VisitCostsForm.Meta.widgets,
            "work_done": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)
        if ticket is not None and not self.is_bound and not self.instance.work_done:
            self.initial["charge"] = default_charge(ticket)

    @property
    def resolved(self):
        return self.cleaned_data.get("result") == self.RESOLVED

    def clean(self):
        data = super().clean()
        result = data.get("result")
        if result == self.RESOLVED and not (data.get("work_done") or "").strip():
            self.add_error("work_done", _("Describe the work done before reporting it resolved."))
        if result == self.UNRESOLVED and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the problem is not resolved."))
        return data


class CorrectionForm(_VisitCostsForm):
    """Hours, fees and charging of the last resolved visit, after a manager sent it back."""


def default_charge(ticket):
    """Work on a unit under warranty is free by default; the engineer may change it."""
    unit = ticket.equipment
    if unit is not None and unit.warranty_status in (
        WarrantyStatus.IN_WARRANTY,
        WarrantyStatus.EXPIRING,
    ):
        return ChargeType.WARRANTY
    return ChargeType.CHARGED
