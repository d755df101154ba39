import logging

from django.db import transaction
from django.utils import timezone

from .models import (
    Contact,
    Customer,
    ServiceAgreement,
    SlaTarget,
)
from .signals import agreement_terms_changed

logger = logging.getLogger(__name__)

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


# Keys of a formset row's cleaned values that are not the row's own fields.
_FORMSET_KEYS = {"id", "DELETE", "customer", "agreement"}


@transaction.atomic
def save_customer(customer, data, contacts):
    """Save a customer and its contacts together; either all or nothing.

    `customer` is the customer being edited, or None for a new one; `data` are the customer's
    cleaned values (CustomerForm's, `tags` among them). `contacts` are the cleaned values of
    the contact rows that changed: an existing contact under "id", "DELETE" to remove it.
    """
    customer = customer if customer is not None else Customer()
    for name, value in data.items():
        if name != "tags":
            setattr(customer, name, value)
    if not customer.code:
        customer.code = next_customer_code()
    customer.save()
    if "tags" in data:
        customer.tags.set(data["tags"])
    removed = [row["id"].pk for row in contacts if row.get("DELETE") and row.get("id")]
    kept = [row for row in contacts if not row.get("DELETE")]
    customer.contacts.filter(pk__in=removed).delete()
    # Unset a primary contact before setting another, so the partial unique index
    # (one primary per customer) is never violated half-way through the rows.
    demoted = [row["id"].pk for row in kept if row.get("id") and not row.get("is_primary")]
    customer.contacts.filter(pk__in=demoted).update(is_primary=False)
    for row in kept:
        contact = row.get("id") or Contact()
        for name, value in row.items():
            if name not in _FORMSET_KEYS:
                setattr(contact, name, value)
        contact.customer = customer
        contact.save()
    return customer


# The agreement's fields that the SLA clocks of its service requests depend on.
CLOCK_FIELDS = {"start_date", "end_date", "calendar", "equipment"}


@transaction.atomic
def save_agreement(agreement, data, targets, actor=None):
    """Save an agreement with its four SLA targets; either all or nothing.

    `agreement` is the agreement being edited, or a new one (unsaved, its customer set);
    `data` are its cleaned values (AgreementForm's, `equipment` among them when it has a
    customer); `targets` the cleaned values of the four target rows (priority and minutes).

    Side effect: when an existing agreement's targets or clock fields change, sends
    `signals.agreement_terms_changed` (tickets re-plans the open requests under it, in a task
    after the commit, each with a log row by `actor`).
    """
    terms_changed = False
    existing = {}
    if agreement.pk is not None:
        # Compared with the saved row, locked: the edited instance may already hold new values.
        saved = ServiceAgreement.objects.select_for_update().get(pk=agreement.pk)
        existing = {t.priority: t for t in saved.targets.all()}
        terms_changed = _clock_changed(saved, data) or any(
            _target_changed(existing.get(row["priority"]), row) for row in targets
        )
    for name, value in data.items():
        if name != "equipment":
            setattr(agreement, name, value)
    agreement.save()
    if "equipment" in data:
        agreement.equipment.set(data["equipment"])
    for row in targets:
        target = existing.get(row["priority"])
        if target is not None and not _target_changed(target, row):
            continue
        target = target or SlaTarget(agreement=agreement)
        for name, value in row.items():
            if name not in _FORMSET_KEYS:
                setattr(target, name, value)
        target.save()
    if terms_changed:
        agreement_terms_changed.send(
            sender=type(agreement),
            agreement_id=agreement.pk,
            actor_id=actor.pk if actor is not None else None,
        )
    return agreement


def _clock_changed(saved, data):
    for name in CLOCK_FIELDS & set(data):
        if name == "equipment":
            before = set(saved.equipment.values_list("pk", flat=True))
            if before != {unit.pk for unit in data[name]}:
                return True
            continue
        field = ServiceAgreement._meta.get_field(name)
        if field.value_from_object(saved) != getattr(data[name], "pk", data[name]):
            return True
    return False


def _target_changed(target, row):
    return target is None or any(
        getattr(target, name) != value for name, value in row.items() if name not in _FORMSET_KEYS
    )
