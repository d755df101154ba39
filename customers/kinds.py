"""The kinds of master data the import and export pages offer: customers' own (`RESOURCES`)
and those of the apps above customers (knowledge articles, fault codes), which register
themselves from their AppConfig.ready() (`register_kind`); customers imports none of them."""

import dataclasses

from django.utils.translation import gettext_lazy

from .resources import ContactResource, CustomerResource, EquipmentResource, ProductModelResource

RESOURCES = {
    "customers": (gettext_lazy("Customers"), CustomerResource),
    "contacts": (gettext_lazy("Contacts"), ContactResource),
    "products": (gettext_lazy("Products"), ProductModelResource),
    "equipment": (gettext_lazy("Equipment"), EquipmentResource),
}


@dataclasses.dataclass(frozen=True)
class OtherKind:
    """Master data of an app above customers (knowledge articles, fault codes) that the same
    pages import and export: its own permissions, its own rule for the rows a person may export
    (`visible_rows(user, queryset)`), and a line for the import page's hints."""

    label: str
    resource: type
    import_permission: str
    export_permission: str
    visible_rows: object
    hint: str = ""


# Added by those apps (`register_kind`).
OTHER_KINDS = {}


def register_kind(kind, other):
    if kind in RESOURCES:
        raise ValueError(f"{kind} is one of customers' own kinds")
    OTHER_KINDS[kind] = other


def resource_for(kind):
    """(label, resource class) of any kind: customers' own or another app's."""
    if kind in RESOURCES:
        return RESOURCES[kind]
    other = OTHER_KINDS[kind]
    return other.label, other.resource


def kinds_for(user, *, export=False):
    """[(kind, label)] this person may import (or export): customers' own with the master-data
    permission, the other apps' with theirs."""
    own = "customers.export_masterdata" if export else "customers.import_masterdata"
    kinds = [(key, label) for key, (label, _r) in RESOURCES.items() if user.has_perm(own)]
    for key, other in OTHER_KINDS.items():
        if user.has_perm(other.export_permission if export else other.import_permission):
            kinds.append((key, other.label))
    return kinds
