"""Import and export of master data (django-import-export), used by the dashboard pages.

Columns are addressed by field name inside; files carry the column titles in the user's
language, and either language's titles (or the field names) are accepted on import.
Cell values that a spreadsheet would run as a formula are neutralised on export, and read back
as they were on import (customers.cells: the widgets that read and write the cells).

The dashboard imports in chunks (`MasterDataResource.import_chunk`): the resources' fields and
widgets read the cells, but instances are loaded and looked-up rows fetched once per chunk, and
written with bulk_create/bulk_update. import-export's own row-by-row import (the admin's) costs
several queries per row, which a 100,000-row file cannot afford.

Exports are written by a background job (customers.exports) from `MasterDataResource.export_rows`:
the same widgets render the cells, fed from one query of plain values instead of model instances,
so the file is the one import-export's `export()` gives, at a fixed number of queries.
"""

import dataclasses
from itertools import chain

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from import_export import fields, resources, widgets

from aftersales.lib.phones import phone_digits
from aftersales.models import ProductLine, Region

from .cells import (
    BoolWidget,
    ChoiceWidget,
    DateWidget,
    LookupWidget,
    MobileWidget,
    PhoneWidget,
    UncomputedFormula,
    among,
    escape_formula,
    listing,
)
from .models import Contact, Customer, Equipment, ProductModel, Tag


class MasterDataResource(resources.ModelResource):
    """Common behaviour: localized titles, clean model instances, all-or-nothing."""

    class Meta:
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True
        # skip_diff would also disable skip_unchanged (it needs the original to compare).
        skip_html_diff = True

    def get_export_headers(self, selected_fields=None):
        return [str(self.title_for(name)) for name in super().get_export_headers(selected_fields)]

    def title_for(self, name):
        model_field = self._meta.model._meta.get_field(self.fields[name].attribute.split("__")[0])
        return getattr(self, "titles", {}).get(name) or model_field.verbose_name

    def header_aliases(self):
        """Every accepted title (both languages, field names) → field name."""
        aliases = {}
        for name in self.fields:
            aliases[name] = name
            for lang in ("zh-hans", "en"):
                with translation.override(lang):
                    aliases[str(self.title_for(name)).strip().lower()] = name
        return aliases

    def export_field(self, field, instance, **kwargs):
        return escape_formula(super().export_field(field, instance, **kwargs))

    # -- Streamed export -----------------------------------------------------------------------

    def export_columns(self):
        """(values_list path, render) of each exported column, in the file's order.

        The fields' own widgets render the values, as `export_field` does: a foreign key as
        the related row's natural key (read through the join), a many-to-many column (path
        None) from `export_links`.
        """
        columns = []
        for field in self.get_export_fields():
            widget = field.widget
            if isinstance(widget, widgets.ManyToManyWidget):
                columns.append((None, None))
            elif isinstance(widget, widgets.ForeignKeyWidget):
                columns.append((f"{field.attribute}__{widget.field}", _related_key))
            elif isinstance(widget, ChoiceWidget | BoolWidget):
                # A few values, each translated once rather than once per cell.
                columns.append((field.attribute, _memoized(widget.render)))
            else:
                columns.append((field.attribute, widget.render))
        return columns

    def export_rows(self, queryset, *, chunk_size):
        """The cells of each row of `queryset`, rendered and escaped as `export_field` would.

        One query reads the plain columns (streamed in chunks: no model instances, no query per
        row); each many-to-many column is one more query, ordered like the rows and merged as
        both are read. So a file of any length costs the same number of queries.
        """
        columns = self.export_columns()
        fields = self.get_export_fields()
        paths = ["pk", *(path for path, _render in columns if path is not None)]
        many = [i for i, (path, _render) in enumerate(columns) if path is None]
        if many:
            queryset = queryset.order_by("pk")  # the order export_links reads in
        rows = queryset.prefetch_related(None).values_list(*paths).iterator(chunk_size=chunk_size)
        links = {i: self.export_links(fields[i], queryset, chunk_size=chunk_size) for i in many}
        for pk, *values in rows:
            plain = iter(values)
            cells = []
            for i, (path, render) in enumerate(columns):
                cells.append(links[i].values_of(pk) if path is None else render(next(plain)))
            yield [escape_formula(cell) for cell in cells]

    def export_links(self, field, queryset, *, chunk_size):
        """The rendered many-to-many column `field` of `queryset`'s rows, read in one query."""
        widget = field.widget
        relation = self._meta.model._meta.get_field(field.attribute)
        through = relation.remote_field.through
        source = relation.m2m_field_name()  # the through table's key to this resource's model
        target = relation.m2m_reverse_field_name()
        # Ordered within a row as the widget's `value.all()` is: by the related model's ordering.
        ordering = [
            f"-{target}__{name[1:]}" if name.startswith("-") else f"{target}__{name}"
            for name in widget.model._meta.ordering
        ]
        links = (
            through.objects.filter(**{f"{source}__in": queryset.order_by().values("pk")})
            .order_by(source, *ordering)
            .values_list(source, f"{target}__{widget.field}")
            .iterator(chunk_size=chunk_size)
        )
        return _MergedLinks(links, widget.separator)

    # -- Chunked import ------------------------------------------------------------------------

    # Fields before_save_instance may fill in without a column for them in the file.
    derived_fields = ()
    # Fields whose widget does all of the model field's validation (the import skips the latter).
    widget_validated_fields = ()
    # Set by map_headers: the file's columns that are fields of this resource.
    _columns = frozenset()
    _present = ()
    _foreign_keys = ()
    _key_lines = None

    def map_headers(self, titles):
        """The file's column titles → field names, and the titles of ignored columns.

        Raises ValidationError when a column that identifies rows is missing.
        """
        aliases = self.header_aliases()
        names, unknown = [], []
        for title in titles:
            key = str(title or "").strip()
            name = aliases.get(key.lower()) or aliases.get(key)
            if name is None:
                if key:
                    unknown.append(key)
                name = key
            names.append(name)
        missing = [str(self.title_for(n)) for n in self._meta.import_id_fields if n not in names]
        if missing:
            raise ValidationError(
                _("The file lacks the column(s): %(columns)s.") % {"columns": "、".join(missing)}
            )
        self._columns = {n for n in names if n in self.fields}
        self.widget_validated = [n for n in self.widget_validated_fields if n in self._columns]
        # (resource field, model field) of the file's columns, except many-to-many ones.
        self._present = [
            (field, self._model_field(field))
            for field in self.get_import_fields()
            if field.column_name in self._columns
            and not isinstance(field.widget, widgets.ManyToManyWidget)
        ]
        self._foreign_keys = [f for f in self._meta.model._meta.concrete_fields if f.is_relation]
        # {row key: the lines that have it}, over the whole file (duplicate_problems).
        self._key_lines = {}
        return names, unknown

    def import_chunk(self, rows, *, commit, validate_fields=True):
        """Check a chunk of rows and, with commit=True and no bad row, write it.

        `rows` is a list of (line, {field name: cell}). The checks are those of the row-by-row
        import: the widgets, the model's field validation and, as `check_row`, the rules the
        database enforces beyond the row's key. The cost is one query per looked-up column and
        one for the chunk's existing rows, then bulk writes. A key seen twice in a chunk updates
        the instance of its first row here; duplicate_problems, once the file is read, refuses
        every row whose key another row repeats.

        validate_fields=False skips the model's field validation, which depends on the cells
        alone: for a file that passed the check unchanged. Everything that depends on the
        database (looked-up rows, existing rows, check_row) is checked again.
        """
        result = ChunkResult()
        for field in self.fields.values():
            if hasattr(field.widget, "validating"):
                field.widget.validating = validate_fields
        self.prepare_chunk(rows, commit=commit)
        keyed = []
        for line, row in rows:
            if formulas := self.formula_problems(line, row):
                result.problems.append((line, formulas, row))
                continue
            try:
                key = self.row_key(row)
            except ValidationError as e:
                result.problems.append((line, self.problem_messages(line, e), row))
                continue
            if key:
                self._key_lines.setdefault(key, []).append(line)
            keyed.append((line, row, key))
        existing = self.existing_instances({key for _line, _row, key in keyed if key})
        seen, creates, updates = {}, {}, {}
        for line, row, key in keyed:
            instance = (seen.get(key) or existing.get(key)) if key else None
            before = None if instance is None else self.snapshot(instance)
            if instance is None:
                instance = self.init_instance(row)
            errors = self.apply_row(instance, row)
            if not errors and before is not None and self.snapshot(instance) == before:
                result.unchanged += 1
                if key:
                    seen[key] = instance
                continue
            errors = self.validate_row(instance, errors, validate_fields=validate_fields)
            if errors:
                result.problems.append(
                    (line, self.problem_messages(line, ValidationError(errors)), row)
                )
                continue
            self.before_save_instance(instance, row)
            if key:
                seen[key] = instance
            if before is None:
                result.new += 1
            else:
                result.updated += 1
            (updates if instance.pk else creates)[id(instance)] = instance
        result.problems.sort(key=lambda problem: problem[0])
        if commit and not result.problems:
            self.write_chunk(list(creates.values()), list(updates.values()))
        return result

    def prepare_chunk(self, rows, *, commit):
        """Fetch the rows that the chunk's looked-up columns name, one query per column."""
        for field in self.fields.values():
            if isinstance(field.widget, LookupWidget) and field.column_name in self._columns:
                values = {
                    str(row[field.column_name]).strip()
                    for _line, row in rows
                    if row.get(field.column_name) not in (None, "")
                }
                field.widget.cache = field.widget.fetch(values) if values else {}

    def row_key(self, row):
        """The row's import key as database values, or None when part of it is empty."""
        key, errors = [], {}
        for name in self._meta.import_id_fields:
            field = self.fields[name]
            try:
                value = field.clean(row)
                if isinstance(value, models.Model):
                    value = value.pk
                elif value not in (None, ""):
                    value = self._model_field(field).to_python(value)
            except ValueError as e:
                errors[field.attribute] = [ValidationError(str(e))]
                continue
            except ValidationError as e:
                errors[field.attribute] = e.error_list
                continue
            key.append(value)
        if errors:
            raise ValidationError(errors)
        if any(value in (None, "") for value in key):
            return None  # a new row; the model's validation names the empty column
        return tuple(key)

    def existing_queryset(self):
        return self._meta.model._default_manager.all()

    def existing_instances(self, keys):
        """{key: instance} of the rows in the database that the chunk's keys match."""
        if not keys:
            return {}
        attnames = [self._model_field(self.fields[n]).attname for n in self._meta.import_id_fields]
        found = self.existing_queryset()
        for i, attname in enumerate(attnames):
            # Per column, a superset for composite keys; matched exactly below.
            found = found.filter(among(attname, {key[i] for key in keys}))
        instances = ((tuple(getattr(o, a) for a in attnames), o) for o in found)
        return {key: obj for key, obj in instances if key in keys}

    def snapshot(self, instance):
        """The values the file can change, to tell an unchanged row from an updated one."""
        return tuple(getattr(instance, model_field.attname) for _f, model_field in self._present)

    def apply_row(self, instance, row):
        """Set the row's cells on the instance; {attribute: [ValidationError]} for bad cells."""
        errors = {}
        for field, model_field in self._present:
            try:
                if field.attribute == field.column_name and self._plain(field):
                    # Field.save() without its generality (nested attributes, defaults):
                    # this runs for every cell of the file.
                    setattr(instance, field.attribute, field.widget.clean(row[field.column_name]))
                else:
                    field.save(instance, row)
            except (ValueError, ArithmeticError) as e:
                # IntegerWidget lets decimal's errors through, with no useful message.
                message = str(e) if isinstance(e, ValueError) else _("Enter a whole number.")
                errors[field.attribute] = [ValidationError(message, code="invalid")]
                continue
            if (
                getattr(instance, model_field.attname) is None
                and isinstance(model_field, models.CharField | models.TextField)
                and not model_field.null
            ):
                # An empty Excel cell reads as None; the column stores "".
                setattr(instance, model_field.attname, "")
        return errors

    def validate_row(self, instance, errors, *, validate_fields=True):
        """The model's field validation, without its queries (foreign keys, unique checks)."""
        foreign_keys = self._foreign_keys
        if validate_fields:
            try:
                instance.full_clean(
                    exclude={*errors, *(f.name for f in foreign_keys), *self.widget_validated},
                    validate_unique=False,
                    validate_constraints=False,
                )
            except ValidationError as e:
                errors = e.update_error_dict(errors)
        for fk in foreign_keys:
            # The looked-up columns were found in the chunk's query; what remains is "required".
            # (A cached unsaved instance is a product line that the import will create.)
            missing = getattr(instance, fk.attname) is None
            if missing and fk.get_cached_value(instance, None) is None and not fk.null:
                errors.setdefault(
                    fk.name, [ValidationError(fk.error_messages["null"], code="null")]
                )
        if not errors:
            errors = self.check_row(instance)
        return errors

    def check_row(self, instance):
        """Rules the database enforces beyond the key ({name: [errors]}); none by default."""
        return {}

    def write_chunk(self, creates, updates):
        model = self._meta.model
        if updates:
            # auto_now fields are set by save() and bulk_create, not by bulk_update.
            now = timezone.now()
            auto_now = [f for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
            for instance in updates:
                for f in auto_now:
                    setattr(instance, f.attname, now)
            keys = set(self._meta.import_id_fields)
            names = [m.name for field, m in self._present if field.column_name not in keys]
            names += [*self.derived_fields, *(f.name for f in auto_now)]
            if names:
                model.objects.bulk_update(updates, list(dict.fromkeys(names)), batch_size=500)
        if creates:
            model.objects.bulk_create(creates, batch_size=1000)

    def formula_problems(self, line, row):
        """A message per cell of the row's columns that holds a formula without its result."""
        return [
            _(
                "Line %(line)s: the %(column)s cell holds a formula (%(formula)s) whose result "
                "the file does not contain. Open the file in Excel and save it again, or paste "
                "the values instead of the formulas."
            )
            % {"line": line, "column": self.title_for(name), "formula": value}
            for name, value in row.items()
            if isinstance(value, UncomputedFormula) and name in self.fields
        ]

    def duplicate_problems(self):
        """(line, [message]) for every row of the file whose key another row repeats: which of
        two rows was meant is the user's to say, so neither is imported."""
        columns = listing(self.title_for(name) for name in self._meta.import_id_fields)
        for lines in self._key_lines.values():
            if len(lines) < 2:
                continue
            for line in lines:
                others = [other for other in lines if other != line]
                shown = listing(others[:10]) + ("…" if len(others) > 10 else "")
                message = ngettext(
                    "Line %(line)s has the same %(columns)s as line %(others)s.",
                    "Line %(line)s has the same %(columns)s as lines %(others)s.",
                    len(others),
                ) % {"line": line, "columns": columns, "others": shown}
                yield line, [message]

    def problem_messages(self, line, error):
        """The row's errors ({name: [ValidationError]}) as messages that name the column."""
        messages = []
        for name, errors in error.error_dict.items():
            title = None if name == NON_FIELD_ERRORS else self._title_of(name)
            messages += [self._problem_text(line, title, e) for e in errors]
        return messages

    def _problem_text(self, line, title, error):
        [text] = error  # the message, its parameters filled in
        params = error.params or {}
        if title is None:
            return text
        if error.code in ("blank", "null", "required"):
            return _("Line %(line)s: %(column)s cannot be empty.") % {
                "line": line,
                "column": title,
            }
        if error.code == "max_length" and {"limit_value", "show_value"} <= params.keys():
            return _(
                "Line %(line)s: %(column)s has %(length)s characters; at most %(limit)s are "
                "allowed."
            ) % {
                "line": line,
                "column": title,
                "length": params["show_value"],
                "limit": params["limit_value"],
            }
        return f"{title}{pgettext('between a label and its value', ': ')}{text}"

    def _title_of(self, name):
        if name in self.fields:
            return self.title_for(name)
        try:
            return self._meta.model._meta.get_field(name).verbose_name
        except FieldDoesNotExist:
            return name

    def _model_field(self, field):
        return self._meta.model._meta.get_field(field.attribute.split("__")[0])

    @staticmethod
    def _plain(field):
        return not field.readonly and field.default is NOT_PROVIDED and field.saves_null_values


def _related_key(value):
    # ForeignKeyWidget.render: "" when there is no related row.
    return "" if value is None else value


def _memoized(render):
    cache = {}

    def cached(value):
        if value not in cache:
            cache[value] = render(value)
        return cache[value]

    return cached


class _MergedLinks:
    """The (row pk, value) pairs of a many-to-many column, ordered by row pk, read alongside
    the rows (also ordered by pk): `values_of(pk)` joins the values of row `pk`."""

    def __init__(self, pairs, separator):
        self.pairs = pairs
        self.separator = separator
        self.next = next(pairs, None)

    def values_of(self, pk):
        values = []
        while self.next is not None and self.next[0] <= pk:
            if self.next[0] == pk:
                values.append(str(self.next[1]))
            self.next = next(self.pairs, None)
        return self.separator.join(values)


@dataclasses.dataclass
class ChunkResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list = dataclasses.field(default_factory=list)  # (line, [messages], row)


class CustomerResource(MasterDataResource):
    code = fields.Field(attribute="code")
    name = fields.Field(attribute="name")
    kind = fields.Field(attribute="kind", widget=ChoiceWidget(Customer.Kind))
    level = fields.Field(attribute="level", widget=ChoiceWidget(Customer.Level))
    region = fields.Field(
        attribute="region", widget=LookupWidget(Region, "name", gettext_lazy("Region"))
    )
    address = fields.Field(attribute="address")
    phone = fields.Field(attribute="phone", widget=PhoneWidget())
    tags = fields.Field(
        attribute="tags", widget=widgets.ManyToManyWidget(Tag, separator="|", field="name")
    )
    notes = fields.Field(attribute="notes")

    widget_validated_fields = ("phone",)
    # The phone's digits for the searches: bulk_update skips the field's own pre_save.
    derived_fields = ("phone_digits",)

    class Meta(MasterDataResource.Meta):
        model = Customer
        import_id_fields = ["code"]
        fields = ["code", "name", "kind", "level", "region", "address", "phone", "tags", "notes"]

    def before_import_row(self, row, **kwargs):
        # Tags are a free vocabulary: a new tag in a file is created (inside the import's
        # transaction, so a refused file leaves none behind).
        for name in str(row.get("tags") or "").split("|"):
            if name.strip():
                Tag.objects.get_or_create(name=name.strip())

    def before_save_instance(self, instance, row, **kwargs):
        super().before_save_instance(instance, row, **kwargs)
        instance.phone_digits = phone_digits(instance.phone)

    def get_export_queryset(self, request=None):
        # By primary key: the order export_rows merges the tags in (and import-export's
        # paginated export of a prefetching queryset used).
        return Customer.objects.select_related("region").prefetch_related("tags").order_by("pk")

    # Chunked import: tags are read here, not by the ManyToManyWidget (a query per row).

    def prepare_chunk(self, rows, *, commit):
        super().prepare_chunk(rows, commit=commit)
        self._tags = {}  # id(instance) → (instance, the tag names its row sets)
        if "tags" not in self._columns:
            return
        names = {name for _line, row in rows for name in _tag_names(row.get("tags"))}
        if commit:
            # A new tag in a file is created, inside the import's transaction.
            valid = [n for n in names if len(n) <= Tag._meta.get_field("name").max_length]
            Tag.objects.bulk_create([Tag(name=n) for n in valid], ignore_conflicts=True)
        self._tag_ids = dict(Tag.objects.filter(among("name", names)).values_list("name", "pk"))

    def existing_queryset(self):
        queryset = super().existing_queryset()
        return queryset.prefetch_related("tags") if "tags" in self._columns else queryset

    def snapshot(self, instance):
        if "tags" not in self._columns:
            return super().snapshot(instance)
        if id(instance) in self._tags:
            tags = self._tags[id(instance)][1]
        else:
            tags = [t.name for t in instance.tags.all()] if instance.pk else []
        return (*super().snapshot(instance), frozenset(tags))

    def apply_row(self, instance, row):
        errors = super().apply_row(instance, row)
        if "tags" in row:
            names = _tag_names(row["tags"])
            name_field = Tag._meta.get_field("name")
            for name in names:
                try:
                    name_field.run_validators(name)
                except ValidationError as e:
                    errors.setdefault("tags", []).extend(e.error_list)
            # Keyed by identity; holding the instance keeps its id from being reused.
            self._tags[id(instance)] = (instance, names)
        return errors

    def write_chunk(self, creates, updates):
        super().write_chunk(creates, updates)
        tagged = [o for o in chain(updates, creates) if id(o) in self._tags]
        if not tagged:
            return
        through = Customer.tags.through
        changed = [o.pk for o in updates if id(o) in self._tags]
        if changed:
            through.objects.filter(among("customer_id", changed)).delete()
        through.objects.bulk_create(
            [
                through(customer_id=o.pk, tag_id=self._tag_ids[name])
                for o in tagged
                for name in self._tags[id(o)][1]
            ],
            batch_size=1000,
        )


def _tag_names(value):
    names = (name.strip() for name in str(value or "").split("|"))
    return list(dict.fromkeys(name for name in names if name))


class ContactResource(MasterDataResource):
    customer = fields.Field(
        attribute="customer",
        widget=LookupWidget(Customer, "code", gettext_lazy("Customer"), only=["code"]),
    )
    name = fields.Field(attribute="name")
    title = fields.Field(attribute="title")
    mobile = fields.Field(attribute="mobile", widget=MobileWidget())
    email = fields.Field(attribute="email")
    is_primary = fields.Field(attribute="is_primary", widget=BoolWidget())

    titles = {"customer": gettext_lazy("customer code")}

    class Meta(MasterDataResource.Meta):
        model = Contact
        import_id_fields = ["customer", "mobile"]
        fields = ["customer", "name", "title", "mobile", "email", "is_primary"]

    def get_export_queryset(self, request=None):
        return Contact.objects.select_related("customer").order_by("customer__code", "pk")

    def prepare_chunk(self, rows, *, commit):
        super().prepare_chunk(rows, commit=commit)
        # One primary contact per customer (a partial unique index): the chunk's customers'
        # primary contacts now, updated row by row below as the row-by-row import would see them.
        customers = [c.pk for c in self.fields["customer"].widget.cache.values()]
        primaries = Contact.objects.filter(among("customer_id", customers), is_primary=True)
        self._primary = dict(primaries.values_list("customer_id", "pk"))

    def check_row(self, instance):
        holder = self._primary.get(instance.customer_id)
        me = instance.pk or ("new", id(instance))
        if instance.is_primary and holder not in (None, me):
            constraint = next(
                c for c in Contact._meta.constraints if c.name == "contact_one_primary_per_customer"
            )
            return {"is_primary": [ValidationError(constraint.get_violation_error_message())]}
        if instance.is_primary:
            self._primary[instance.customer_id] = me
        elif holder == me:
            self._primary[instance.customer_id] = None
        return {}


class ProductModelResource(MasterDataResource):
    line = fields.Field(
        attribute="line", widget=LookupWidget(ProductLine, "name", gettext_lazy("Product line"))
    )
    code = fields.Field(attribute="code")
    name = fields.Field(attribute="name")
    warranty_months = fields.Field(attribute="warranty_months", widget=widgets.IntegerWidget())

    class Meta(MasterDataResource.Meta):
        model = ProductModel
        import_id_fields = ["code"]
        fields = ["line", "code", "name", "warranty_months"]

    def before_import_row(self, row, **kwargs):
        # A new product line named in the file is created with a code derived from its name.
        name = str(row.get("line") or "").strip()
        if name and not ProductLine.objects.filter(name=name).exists():
            code = f"L{ProductLine.objects.count() + 1:03d}"
            ProductLine.objects.create(code=code, name=name)

    def get_export_queryset(self, request=None):
        return ProductModel.objects.select_related("line")

    def prepare_chunk(self, rows, *, commit):
        super().prepare_chunk(rows, commit=commit)
        if "line" not in self._columns:
            return
        lines = self.fields["line"].widget.cache
        missing = {name for name in self._line_names(rows) if name not in lines}
        if not missing:
            return
        if not commit:
            # Checking only: the line would be created, so the row is fine.
            lines.update({name: ProductLine(name=name) for name in missing})
            return
        taken = set(ProductLine.objects.values_list("code", flat=True))
        number, new = ProductLine.objects.count(), []
        # A name too long to store is not created: apply_row refuses its rows.
        limit = ProductLine._meta.get_field("name").max_length
        for name in sorted(n for n in missing if len(n) <= limit):
            number += 1
            while f"L{number:03d}" in taken:
                number += 1
            new.append(ProductLine(code=f"L{number:03d}", name=name))
        for line in ProductLine.objects.bulk_create(new):
            lines[line.name] = line

    def apply_row(self, instance, row):
        errors = super().apply_row(instance, row)
        if "line" in self._columns:
            # The line is created by the import: its name must fit, or the import would fail
            # in the database, after a check that let it pass.
            try:
                ProductLine._meta.get_field("name").run_validators(
                    str(row.get("line") or "").strip()
                )
            except ValidationError as e:
                errors["line"] = e.error_list
        return errors

    def _line_names(self, rows):
        return {str(row.get("line") or "").strip() for _line, row in rows} - {""}


class EquipmentResource(MasterDataResource):
    product_model = fields.Field(
        attribute="product_model",
        widget=LookupWidget(ProductModel, "code", gettext_lazy("Product model")),
    )
    serial_no = fields.Field(attribute="serial_no")
    customer = fields.Field(
        attribute="customer",
        widget=LookupWidget(Customer, "code", gettext_lazy("Customer"), only=["code"]),
    )
    install_address = fields.Field(attribute="install_address")
    install_date = fields.Field(attribute="install_date", widget=DateWidget())
    purchase_date = fields.Field(attribute="purchase_date", widget=DateWidget())
    warranty_end = fields.Field(attribute="warranty_end", widget=DateWidget())
    status = fields.Field(attribute="status", widget=ChoiceWidget(Equipment.Status))

    titles = {
        "customer": gettext_lazy("customer code"),
        "product_model": gettext_lazy("model code"),
    }

    class Meta(MasterDataResource.Meta):
        model = Equipment
        import_id_fields = ["product_model", "serial_no"]
        fields = [
            "product_model",
            "serial_no",
            "customer",
            "install_address",
            "install_date",
            "purchase_date",
            "warranty_end",
            "status",
        ]

    derived_fields = ("warranty_end", "status")

    def before_save_instance(self, instance, row, **kwargs):
        if not instance.warranty_end:
            instance.warranty_end = instance.default_warranty_end()
        if not instance.status:
            instance.status = Equipment.Status.IN_USE

    def get_export_queryset(self, request=None):
        return Equipment.objects.select_related("product_model", "customer").order_by("pk")
