"""Forms of the knowledge pages: they validate and convert; knowledge.services saves."""

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.lib.params import ParamsForm
from aftersales.models import ProductLine
from customers.models import ProductModel
from tickets.models import ProblemType, ServiceType

from .models import Article, FaultCode, RepairTemplate, State, Synonym
from .services import TITLE_LABEL

# Longest search text taken from the address bar (a longer one is cut, not refused).
MAX_QUERY = 100


class ArticleForm(forms.ModelForm):
    """An article's content. Fault codes and models are offered from the article's product line
    (all of them while no line is chosen); the service checks them again."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    note = forms.CharField(
        label=_("What changed"),
        max_length=200,
        required=False,
        help_text=_("A short note for the revision history."),
    )

    class Meta:
        model = Article
        fields = [
            "title",
            "product_line",
            "product_models",
            "problem_type",
            "symptom",
            "cause",
            "solution",
            "fault_codes",
            "parts",
            "tools",
            "labour_hours",
            "tags",
        ]
        labels = {"title": TITLE_LABEL}
        widgets = {
            "symptom": forms.Textarea(attrs={"rows": 3}),
            "cause": forms.Textarea(attrs={"rows": 3}),
            "solution": forms.Textarea(attrs={"rows": 6}),
            "parts": forms.Textarea(attrs={"rows": 3}),
            "tools": forms.Textarea(attrs={"rows": 2}),
            "fault_codes": forms.CheckboxSelectMultiple,
            "product_models": forms.SelectMultiple(attrs={"size": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        line = self._line()
        codes = FaultCode.objects.select_related("product_line")
        models_ = ProductModel.objects.select_related("line")
        if line:
            codes = codes.filter(product_line=line)
            models_ = models_.filter(line=line)
        self.fields["fault_codes"].queryset = codes
        self.fields["fault_codes"].label_from_instance = lambda c: (
            f"{c.code} {c.meaning}" if line else f"{c.code} {c.meaning} ({c.product_line})"
        )
        self.fields["product_models"].queryset = models_
        self.fields["problem_type"].queryset = ProblemType.objects.filter(active=True)
        if line:
            self.fields["fault_codes"].help_text = _("The fault codes of the product line.")
        else:
            self.fields["fault_codes"].help_text = _(
                "Choose a product line and save to see only its fault codes."
            )

    def _line(self):
        """The product line the form is about: the posted one, else the article's."""
        key = self.add_prefix("product_line")
        if self.is_bound:
            value = str(self.data.get(key) or "")
            return int(value) if value.isdigit() and len(value) < 10 else None
        if "product_line" in self.initial:
            initial = self.initial["product_line"]
            return getattr(initial, "pk", initial)
        return self.instance.product_line_id

    def clean(self):
        data = super().clean()
        line = data.get("product_line")
        if line is not None:
            wrong = [c for c in data.get("fault_codes") or [] if c.product_line_id != line.pk]
            if wrong:
                self.add_error(
                    "fault_codes", _("Choose fault codes of the article's product line.")
                )
            wrong = [m for m in data.get("product_models") or [] if m.line_id != line.pk]
            if wrong:
                self.add_error(
                    "product_models", _("Choose product models of the article's product line.")
                )
        return data


class ActionForm(forms.Form):
    """A lifecycle button: the version the page showed and, for some, a reason."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class VersionForm(forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("Image or PDF"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*,application/pdf"}),
    )


def _choices(rows, blank):
    return [("", blank), *((str(pk), str(name)) for pk, name in rows)]


class ArticleListParams(ParamsForm):
    """The list's GET parameters: a search, product line, problem type, state, often failing."""

    MINE = "mine"

    q = forms.CharField(label=_("Search"), max_length=MAX_QUERY, required=False, strip=True)
    product_line = forms.TypedChoiceField(
        label=_("Product line"), coerce=int, required=False, empty_value=None
    )
    problem_type = forms.TypedChoiceField(
        label=_("Problem type"), coerce=int, required=False, empty_value=None
    )
    state = forms.ChoiceField(label=_("State"), required=False)
    failing = forms.BooleanField(label=_("Often failing"), required=False)

    def __init__(self, data, *, user, lines, problem_types):
        super().__init__(data)
        self.fields["product_line"].choices = _choices(lines, _("All product lines"))
        self.fields["problem_type"].choices = _choices(problem_types, _("All problem types"))
        states = [("", _("Published"))]
        if user.has_perm("knowledge.propose_article") or user.has_perm("knowledge.review_article"):
            states.append((self.MINE, _("My drafts and proposals")))
        if user.has_perm("knowledge.review_article"):
            states += [(s.value, s.label) for s in State if s != State.PUBLISHED]
        self.fields["state"].choices = states
        for name in ("product_line", "problem_type", "state"):
            self.fields[name].widget.attrs["aria-label"] = self.fields[name].label

    def clean_q(self):
        # A NUL byte cannot reach PostgreSQL; other control characters mean nothing here.
        return "".join(ch for ch in self.cleaned_data["q"] if ch.isprintable())[:MAX_QUERY]


class LineParam(ParamsForm):
    """?product_line=<id>: the line chosen in the article form (htmx asks for its fields)."""

    product_line = forms.IntegerField(min_value=1, max_value=2**31 - 1, required=False)


class CompareParams(ParamsForm):
    a = forms.IntegerField(min_value=1, max_value=1_000_000, required=False)
    b = forms.IntegerField(min_value=1, max_value=1_000_000, required=False)


class FaultCodeForm(forms.ModelForm):
    class Meta:
        model = FaultCode
        fields = ["product_line", "code", "meaning"]

    def clean_code(self):
        from .search import normalise_code

        code = normalise_code(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(_("Enter the fault code."))
        return code


class FaultCodeListParams(ParamsForm):
    q = forms.CharField(max_length=MAX_QUERY, required=False)
    product_line = forms.TypedChoiceField(
        label=_("Product line"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, data, *, lines):
        super().__init__(data)
        self.fields["product_line"].choices = _choices(lines, _("All product lines"))
        self.fields["product_line"].widget.attrs["aria-label"] = _("Product line")

    def clean_q(self):
        return "".join(ch for ch in self.cleaned_data["q"] if ch.isprintable())


class SynonymForm(forms.ModelForm):
    class Meta:
        model = Synonym
        fields = ["word", "variants"]

    def clean_variants(self):
        words = [w for w in _split(self.cleaned_data["variants"]) if w]
        if not words:
            raise forms.ValidationError(_("Enter at least one other way of saying it."))
        return " ".join(dict.fromkeys(words))


def _split(text):
    for sep in ",，、;；":
        text = text.replace(sep, " ")
    return text.split()


class RepairTemplateForm(forms.ModelForm):
    class Meta:
        model = RepairTemplate
        fields = [
            "name",
            "service_type",
            "product_line",
            "steps",
            "parts",
            "labour_hours",
            "active",
        ]
        widgets = {
            "steps": forms.Textarea(attrs={"rows": 6}),
            "parts": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_type"].choices = [("", _("Every service type")), *ServiceType.choices]
        self.fields["product_line"].queryset = ProductLine.objects.all()
