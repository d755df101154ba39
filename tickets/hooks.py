"""Hooks that the tickets app offers to the apps above it (parts, knowledge, complaints …),
which it must not import. Receivers connect in their AppConfig.ready().

visit_recorded(visit, parts, actor, corrected)
    Sent by `services.finish_visit` and `services.correct_visit` inside their transaction,
    after the visit and its part lines are saved: `parts` is the list of (name, quantity) as
    recorded, `corrected` True for a correction after a send-back. A receiver that cannot
    accept the record (the parts app: not enough stock in the engineer's van) raises
    `tickets.services.ActionRefused` with a message for the engineer; nothing is saved.

tickets_changed(ids)
    Sent by the every-minute timer inside its transaction after recording SLA breaches in one
    set-based UPDATE (no model is saved): what these requests count as (analytics) changed.
"""

from django.dispatch import Signal

visit_recorded = Signal()
tickets_changed = Signal()
