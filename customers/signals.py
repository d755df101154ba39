"""Hooks that the customers app offers to the apps above it (which it must not import; they
import customers). Receivers are connected in their AppConfig.ready().

plan_due(plan, date)
    Sent by the daily job inside the transaction that holds the maintenance plan's row lock,
    once per planned date. Receivers create the work the plan calls for; the tickets app
    creates a service request (`tickets.signals`). Whatever a receiver writes commits or rolls
    back with the plan's move to its next date.

agreement_terms_changed(agreement_id, actor_id)
    An edited agreement's SLA terms changed (its targets, calendar, dates or units): sent inside
    the transaction that saves them (`actor_id` None: the system). Receivers only schedule their
    work for after the commit (`transaction.on_commit`, a task's `delay_on_commit`): until then
    the edit may roll back, and other connections cannot see it.
"""

from django.dispatch import Signal

plan_due = Signal()
agreement_terms_changed = Signal()
