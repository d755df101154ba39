from django import forms
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.caching import per_language, remembered
from aftersales.lib.params import ParamsForm
from aftersales.lib.validators import plain_text, validate_phone
from aftersales.models import EngineerProfile
from customers.models import Priority

from .filters import engineers
from .models import ProblemType, Revisit, ServiceType, Ticket


class TicketForm(forms.ModelForm):
    """The entry form; the customer is chosen first and fixed for the form."""

    suspend_reason = forms.CharField(
        label=_("Enter as suspended, because"),
        required=False,
        max_length=300,
        help_text=_("Leave empty to put the request in the queue for assignment."),
    )

    class Meta:
        model = Ticket
        fields = [
            "contact",
            "contact_name",
            "contact_phone",
            "address",
            "equipment",
            "service_type",
            "problem_type",
            "priority",
            "channel",
            "requested_date",
            "requested_window",
            "description",
            "analysis",
        ]
        widgets = {
            "requested_date": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 4}),
            "analysis": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.customer = customer
        self.fields["contact"].queryset = customer.contacts.all()
        self.fields["equipment"].queryset = customer.equipment.select_related("product_model__line")
        self._offer_problem_types()
        # A rushed entry must not become a repair (or an installation) by default: choose one.
        service_type = self.fields["service_type"]
        service_type.choices = [("", _("Choose the service type"))] + list(ServiceType.choices)
        service_type.initial = None
        if not self.is_bound and self.instance.pk is None:
            self.initial.pop("service_type", None)
        primary = next((c for c in customer.contacts.all() if c.is_primary), None)
        if not self.is_bound:
            self.initial.setdefault("contact", primary.pk if primary else None)
            self.initial.setdefault("address", customer.address)

    def _offer_problem_types(self):
        """Offer the problem types of the chosen unit's product line and the general ones.

        Any active type may be posted (the page may be older than the unit's choice): clean()
        refuses one that does not fit the unit, with a message that says so.
        """
        field = self.fields["problem_type"]
        field.queryset = ProblemType.objects.filter(active=True)
        self.unit = self._chosen_unit()
        if self.unit is None:
            return
        line = self.unit.product_model.line
        offered = field.queryset.for_line(line.pk)
        field.widget.choices = [("", field.empty_label)] + [(p.pk, str(p)) for p in offered]
        field.help_text = _("Those of %(line)s equipment, and the general ones.") % {"line": line}

    def _chosen_unit(self):
        """The unit the form is filled for (posted, or given as the initial one), or None."""
        field = self.fields["equipment"]
        try:
            return field.clean(self["equipment"].value())
        except forms.ValidationError:
            return None

    # Free texts are bounded (the columns are not) and lose bidirectional control characters.
    TEXT_LIMITS = {"description": 2000, "analysis": 2000, "contact_name": 50, "address": 200}

    def clean_contact_phone(self):
        phone = plain_text(self.cleaned_data.get("contact_phone", "")).strip()
        validate_phone(phone)
        return phone

    def _clean_text(self, name):
        text = plain_text(self.cleaned_data.get(name) or "")
        limit = self.TEXT_LIMITS[name]
        if len(text) > limit:
            raise forms.ValidationError(
                _("At most %(limit)s characters (this has %(count)s).")
                % {"limit": limit, "count": len(text)}
            )
        return text

    def clean_description(self):
        return self._clean_text("description")

    def clean_analysis(self):
        return self._clean_text("analysis")

    def clean_contact_name(self):
        return self._clean_text("contact_name")

    def clean_address(self):
        return self._clean_text("address")

    def clean_requested_date(self):
        day = self.cleaned_data.get("requested_date")
        if day and day < timezone.localdate():
            raise forms.ValidationError(_("The requested date cannot be in the past."))
        return day

    def clean(self):
        data = super().clean()
        contact = data.get("contact")
        if contact:
            data["contact_name"] = data.get("contact_name") or contact.name
            data["contact_phone"] = data.get("contact_phone") or contact.mobile
            self.instance.contact_name = data["contact_name"]
            self.instance.contact_phone = data["contact_phone"]
        if not data.get("contact_phone"):
            self.add_error("contact_phone", _("Give a phone number the engineer can call."))
        unit = data.get("equipment")
        if unit:
            self.instance.product_id = unit.product_model_id
        problem = data.get("problem_type")
        if unit and problem and not problem.applies_to(unit.product_model.line_id):
            self.add_error(
                "problem_type",
                _(
                    "“%(problem)s” is not a problem of %(line)s equipment: choose one offered "
                    "for this unit."
                )
                % {"problem": problem, "line": unit.product_model.line},
            )
        return data


def engineer_label(user):
    """An engineer as the select boxes show them: name, service point, availability."""
    profile = getattr(user, "engineer_profile", None)
    if profile is None:
        return str(user)
    label = f"{user} · {profile.service_point.name}"
    if profile.availability != EngineerProfile.Availability.ON_DUTY:
        label += f" ({profile.get_availability_display()})"
    return label


class EngineerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return engineer_label(user)


# The cache entry of the engineer select box of the ticket page; aftersales.signals forgets it
# when an engineer, a profile or a service point changes. (Not "engineer-choices": that entry
# held a plain string, which the template would now escape.)
ENGINEER_CHOICES = "engineer-options"


def engineer_options():
    """The engineer select box's options (templates/includes/options.html), grouped by service
    point, the blank one chosen.

    Kept in the cache per language: written by the form's widget for ~200 engineers, they took
    longer than everything else on the ticket page.
    """
    return remembered(per_language(ENGINEER_CHOICES), _engineer_options)


def _engineer_options():
    groups = {}
    for user in engineers():
        profile = getattr(user, "engineer_profile", None)
        point = profile.service_point.name if profile else ""
        groups.setdefault(point, []).append((str(user.pk), engineer_label(user)))
    context = {"groups": list(groups.items()), "blank": _("Choose an engineer"), "current": ""}
    return render_to_string("includes/options.html", context)


class ActionForm(forms.Form):
    """What a ticket action posts: the version the page showed, and a reason or an engineer."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=300,
        error_messages={"required": _("Please give a reason.")},
    )
    engineer = EngineerChoiceField(
        label=_("Engineer"),
        queryset=None,
        required=False,
        error_messages={"required": _("Choose an engineer.")},
    )

    def __init__(self, *args, action=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        self.fields["engineer"].queryset = engineers()
        if action is not None:
            self.fields["reason"].required = action.needs_reason
            self.fields["engineer"].required = action.needs_engineer
            self.fields["engineer"].empty_label = _("Choose an engineer")


class RevisitForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Revisit
        fields = ["outcome", "score", "comment"]
        widgets = {
            "outcome": forms.RadioSelect,
            "score": forms.Select(choices=[("", "—")] + [(i, str(i)) for i in range(5, 0, -1)]),
            "comment": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self):
        data = super().clean()
        outcome = data.get("outcome")
        scored = (Revisit.Outcome.SATISFIED, Revisit.Outcome.UNSATISFIED)
        if outcome in scored and not data.get("score"):
            self.add_error("score", _("Record the customer's satisfaction score (1–5)."))
        if outcome == Revisit.Outcome.UNSATISFIED and not data.get("comment"):
            self.add_error("comment", _("Say why the customer is not satisfied."))
        return data


class PriorityForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)


class EntryStartForm(ParamsForm):
    """What the entry page is opened with: a customer's or unit's id, or a search for the
    customer."""

    customer = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    equipment = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    # The problem type chosen so far, kept when the unit changes (if the new unit has it).
    problem_type = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    q = forms.CharField(required=False, max_length=100)
    # A portal request being matched (tickets.views.intake): entered with its details.
    intake = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


class ManagerQueuesForm(ParamsForm):
    """The service manager's queues: each list's page number (anything else: the first page)."""

    locked_page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)
    closed_page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)


class IntakeRejectForm(forms.Form):
    """Turning down a portal request that is no service request."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        error_messages={"required": _("Please give a reason.")},
    )


class RatingForm(forms.Form):
    """The customer's rating on the tracking page: a score of 1–5 and an optional comment."""

    SCORE_MESSAGE = _("Choose a score from 1 to 5.")

    score = forms.TypedChoiceField(
        label=_("Your rating"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        error_messages={"required": SCORE_MESSAGE, "invalid_choice": SCORE_MESSAGE},
    )
    comment = forms.CharField(label=_("Comment (optional)"), max_length=500, required=False)

    def clean_comment(self):
        # Direction controls would make the comment read differently on the revisit queue.
        return plain_text(self.cleaned_data["comment"]).strip()
