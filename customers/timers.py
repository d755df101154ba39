"""The customers app's daily timers, run by Celery beat (customers.tasks.daily).

Maintenance plans fall due (their work is created by the apps listening to `plan_due`),
agreements near their end remind the office, and units near the end of their warranty remind
their owners by SMS (automated: they go out after the quiet hours, see aftersales.sms). Each
job reads only what is due through an index and is idempotent: running it twice, or on two
workers at once, changes nothing the second time.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.models import Delivery
from aftersales.notifications import Row, Text, notify_many, people_with_role, send_sms
from aftersales.roles import Role

from .models import Contact, Equipment, MaintenancePlan, ServiceAgreement
from .signals import plan_due

log = logging.getLogger(__name__)

# Plans handled per run; the rest waits for the next run (bounded work per run).
BATCH = 500


def run_due_plans(today=None):
    """Each due maintenance plan announces its planned date once (`plan_due`) and moves on to
    its next date, in one transaction per plan. Returns what the receivers returned (the
    tickets app: the new service request, or None when one already existed)."""
    today = today or timezone.localdate()
    results = []
    due = MaintenancePlan.objects.filter(active=True, create_on__lte=today).order_by(
        "create_on", "id"
    )
    for pk in due.values_list("pk", flat=True)[:BATCH]:
        with transaction.atomic():
            # skip_locked: another worker running the same job has this plan.
            plan = (
                MaintenancePlan.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=pk, active=True, create_on__lte=today)
                .select_related("equipment__customer", "agreement__customer")
                .first()
            )
            if plan is None:
                continue
            for _receiver, result in plan_due.send(MaintenancePlan, plan=plan, date=plan.next_date):
                if result is not None:
                    results.append(result)
            plan.last_date = plan.next_date
            plan.next_date = plan.following_date()
            plan.save()
    return results


def remind_renewals(today=None):
    """Agreements ending within the reminder window: one notice per agreement and end date."""
    today = today or timezone.localdate()
    ending = list(
        ServiceAgreement.objects.filter(
            end_date__gte=today,
            end_date__lte=today + timedelta(days=settings.RENEWAL_REMINDER_DAYS),
            customer__isnull=False,
        ).select_related("customer")
    )
    people = people_with_role(Role.SERVICE_MANAGER) + people_with_role(Role.DISPATCHER)
    rows = [
        Row(
            person.pk,
            None,
            Text(
                _("Agreement %(number)s of %(customer)s ends on %(end)s"),
                number=a.number,
                customer=a.customer.name,
                end=a.end_date,
            ),
            "",
            a.get_absolute_url(),
            f"renewal:{a.pk}:{a.end_date}",
        )
        for a in ending
        for person in people
    ]
    notify_many("agreement_renewal", rows)
    return ending


def remind_warranties(today=None):
    """Units whose warranty ends within the window: an SMS to the customer's primary contact,
    once per unit and warranty end (the outbox row's key says it was written). The messages are
    automated: written in quiet hours (the job runs at 06:05), they go out when those end.
    Returns how many were written by this run."""
    today = today or timezone.localdate()
    units = list(
        Equipment.objects.filter(
            warranty_end__gte=today,
            warranty_end__lte=today + timedelta(days=settings.WARRANTY_REMINDER_DAYS),
        ).select_related("product_model", "customer")
    )
    keys = {unit.pk: f"warranty:{unit.pk}:{unit.warranty_end}" for unit in units}
    # Reminded on an earlier day (the key leads the outbox's unique index).
    written = set(
        Delivery.objects.filter(channel=Delivery.Channel.SMS, key__in=keys.values()).values_list(
            "key", flat=True
        )
    )
    units = [unit for unit in units if keys[unit.pk] not in written]
    contacts = {
        c.customer_id: c
        for c in Contact.objects.filter(
            customer__in={u.customer_id for u in units}, is_primary=True
        )
    }
    sent = 0
    for unit in units:
        contact = contacts.get(unit.customer_id)
        if contact is None or not contact.mobile:
            continue
        send_sms(
            contact.mobile,
            _(
                "[After-sales] The warranty of your %(model)s (S/N %(serial)s) ends on "
                "%(end)s. Reply or call us to extend it."
            )
            % {
                "model": unit.product_model.name,
                "serial": unit.serial_no,
                "end": unit.warranty_end,
            },
            key=keys[unit.pk],
            automated=True,
        )
        sent += 1
    return sent


def daily(today=None):
    today = today or timezone.localdate()
    counts = {
        "plan_work": len(run_due_plans(today)),
        "renewals": len(remind_renewals(today)),
        "warranty_sms": remind_warranties(today),
    }
    log.info("daily jobs: %s", counts)
    return counts
