"""Import and export of knowledge articles and fault codes (Excel/CSV), through the master-data
machinery of customers (customers.resources, customers.imports, customers.exports): the same
page, preview, bad-row report and all-or-nothing import, registered as two more kinds of data
that service managers (knowledge.review_article) may import and export.

Fault codes are matched by product line and code, and written in bulk. Articles are matched by
their number (the id column; empty: a new article) and written one by one through
`knowledge.services.save_article`, so that each change keeps a revision and refreshes the
search columns; a new article is published (the importer is a reviewer) and the log says so.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, widgets

from aftersales.models import ProductLine
from customers.cells import ChoiceWidget, LookupWidget, among
from customers.kinds import OtherKind, register_kind
from customers.models import ProductModel
from customers.resources import MasterDataResource
from tickets.models import ProblemType

from . import services
from .access import visible_articles
from .models import Article, FaultCode, State
from .search import normalise_code

SEPARATOR = "|"


class CodeWidget(widgets.CharWidget):
    """A fault code as people write it (e-1, Ｅ１), stored normalised (E1)."""

    def clean(self, value, row=None, **kwargs):
        return normalise_code(str(super().clean(value, row, **kwargs) or ""))


class NumberWidget(widgets.IntegerWidget):
    """An article's number: a whole number, or empty for a new article."""

    def clean(self, value, row=None, **kwargs):
        text = str(value if value is not None else "").strip()
        if not text:
            return None
        if not text.isdigit() or len(text) > 10:
            raise ValueError(_("“%(value)s” is not an article number.") % {"value": text})
        return int(text)


class FaultCodeResource(MasterDataResource):
    product_line = fields.Field(
        attribute="product_line",
        widget=LookupWidget(ProductLine, "name", gettext_lazy("Product line")),
    )
    code = fields.Field(attribute="code", widget=CodeWidget())
    meaning = fields.Field(attribute="meaning")

    class Meta(MasterDataResource.Meta):
        model = FaultCode
        import_id_fields = ["product_line", "code"]
        fields = ["product_line", "code", "meaning"]

    def get_export_queryset(self, request=None):
        return FaultCode.objects.select_related("product_line").order_by("pk")


def _split(value):
    text = str(value or "")
    for sep in (",", "，", "、", ";"):
        text = text.replace(sep, SEPARATOR)
    return list(dict.fromkeys(part.strip() for part in text.split(SEPARATOR) if part.strip()))


class ArticleResource(MasterDataResource):
    id = fields.Field(attribute="id", widget=NumberWidget())
    product_line = fields.Field(
        attribute="product_line",
        widget=LookupWidget(ProductLine, "name", gettext_lazy("Product line")),
    )
    problem_type = fields.Field(
        attribute="problem_type",
        widget=LookupWidget(ProblemType, "name", gettext_lazy("Problem type")),
    )
    title = fields.Field(attribute="title")
    symptom = fields.Field(attribute="symptom")
    cause = fields.Field(attribute="cause")
    solution = fields.Field(attribute="solution")
    fault_codes = fields.Field(
        attribute="fault_codes",
        widget=widgets.ManyToManyWidget(FaultCode, separator=SEPARATOR, field="code"),
    )
    product_models = fields.Field(
        attribute="product_models",
        widget=widgets.ManyToManyWidget(ProductModel, separator=SEPARATOR, field="code"),
    )
    parts = fields.Field(attribute="parts")
    tools = fields.Field(attribute="tools")
    labour_hours = fields.Field(attribute="labour_hours", widget=widgets.DecimalWidget())
    tags = fields.Field(attribute="tags")
    # Shown in the export, never imported: the lifecycle and the version are the services'.
    state = fields.Field(attribute="state", widget=ChoiceWidget(State), readonly=True)
    version = fields.Field(attribute="version", readonly=True)

    titles = {"id": gettext_lazy("article number"), "title": services.TITLE_LABEL}
    EXPORT_ONLY = ("id", "state", "version")

    class Meta(MasterDataResource.Meta):
        model = Article
        import_id_fields = ["id"]
        fields = [
            "id",
            "product_line",
            "problem_type",
            "title",
            "symptom",
            "cause",
            "solution",
            "fault_codes",
            "product_models",
            "parts",
            "tools",
            "labour_hours",
            "tags",
            "state",
            "version",
        ]

    actor = None

    def get_export_queryset(self, request=None):
        return Article.objects.select_related("product_line", "problem_type").order_by("pk")

    def map_headers(self, titles):
        names, unknown = super().map_headers(titles)
        # The number is the key (not written); state and version are not the file's to change.
        self._present = [(f, m) for f, m in self._present if f.column_name not in self.EXPORT_ONLY]
        # The author and the source request are the importer's and none: not in the file, not
        # checked here. The state is django-fsm's (protected: validation may not set it).
        self._foreign_keys = [f for f in self._foreign_keys if f.name in self.fields]
        self.widget_validated = [*self.widget_validated, "author", "source_ticket", "state"]
        return names, unknown

    def prepare_chunk(self, rows, *, commit):
        super().prepare_chunk(rows, commit=commit)
        self._links = {}  # id(instance) → (instance, fault code ids or None, model ids or None)
        codes = {normalise_code(c) for _line, row in rows for c in _split(row.get("fault_codes"))}
        self._codes = {}
        if codes:
            found = FaultCode.objects.filter(among("code", codes)).values_list(
                "product_line_id", "code", "pk"
            )
            self._codes = {(line, code): pk for line, code, pk in found}
        names = {m for _line, row in rows for m in _split(row.get("product_models"))}
        self._models = {}
        if names:
            found = ProductModel.objects.filter(among("code", names)).values_list(
                "code", "pk", "line_id"
            )
            self._models = {code: (pk, line) for code, pk, line in found}

    def existing_queryset(self):
        return super().existing_queryset().prefetch_related("fault_codes", "product_models")

    def apply_row(self, instance, row):
        errors = super().apply_row(instance, row)
        if instance.pk is None and row.get("id") not in (None, ""):
            errors.setdefault("id", []).append(
                ValidationError(
                    _(
                        "There is no article %(number)s; leave the number empty to add a new "
                        "article."
                    )
                    % {"number": row.get("id")}
                )
            )
        line = instance.product_line_id
        code_ids = model_ids = None
        if "fault_codes" in self._columns:
            code_ids = []
            for code in _split(row.get("fault_codes")):
                pk = self._codes.get((line, normalise_code(code)))
                if pk is None:
                    errors.setdefault("fault_codes", []).append(
                        ValidationError(
                            _("“%(code)s” is not a fault code of the article's product line.")
                            % {"code": code}
                        )
                    )
                else:
                    code_ids.append(pk)
        if "product_models" in self._columns:
            model_ids = []
            for code in _split(row.get("product_models")):
                found = self._models.get(code)
                if found is None or (line is not None and found[1] != line):
                    errors.setdefault("product_models", []).append(
                        ValidationError(
                            _("“%(code)s” is not a product model of the article's product line.")
                            % {"code": code}
                        )
                    )
                else:
                    model_ids.append(found[0])
        self._links[id(instance)] = (instance, code_ids, model_ids)
        return errors

    def snapshot(self, instance):
        _instance, codes, models_ = self._links.get(id(instance), (None, None, None))
        current_codes = [c.pk for c in instance.fault_codes.all()] if instance.pk else []
        current_models = [m.pk for m in instance.product_models.all()] if instance.pk else []
        return (
            *super().snapshot(instance),
            frozenset(current_codes if codes is None else codes),
            frozenset(current_models if models_ is None else models_),
        )

    def check_row(self, instance):
        if instance.pk is not None and instance.state == State.ARCHIVED:
            return {
                "id": [ValidationError(_("Archived articles cannot be changed; restore it first."))]
            }
        return {}

    def write_chunk(self, creates, updates):
        # One by one through the service: each change keeps a revision and is searchable.
        note = _("Imported from a file")
        for instance in [*updates, *creates]:
            _instance, codes, models_ = self._links[id(instance)]
            saved = services.save_article(
                instance, self.actor, fault_codes=codes, product_models=models_, note=note
            )
            if instance.pk is None:
                services.perform(saved, "publish", self.actor, note)


def _may_export_articles(user, queryset):
    return visible_articles(user, queryset)


def _fault_codes_for(user, queryset):
    return queryset if user.has_perm("knowledge.view_faultcode") else queryset.none()


def register_kinds():
    register_kind(
        "fault_codes",
        OtherKind(
            gettext_lazy("Fault codes"),
            FaultCodeResource,
            import_permission="knowledge.add_faultcode",
            export_permission="knowledge.review_article",
            visible_rows=_fault_codes_for,
            hint=gettext_lazy(
                "Fault codes are matched by product line and code (e-1 and E1 are the same code)."
            ),
        ),
    )
    register_kind(
        "articles",
        OtherKind(
            gettext_lazy("Knowledge articles"),
            ArticleResource,
            import_permission="knowledge.review_article",
            export_permission="knowledge.review_article",
            visible_rows=_may_export_articles,
            hint=gettext_lazy(
                "Knowledge articles are matched by their number: a row with a number changes "
                "that article (a new version), a row without one adds a published article. "
                "Fault codes and models are separated by |."
            ),
        ),
    )
