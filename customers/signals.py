"""What customers tells the apps above it, which it must not import (they import customers)."""

from django.dispatch import Signal

# An edited agreement's SLA terms changed (its targets, calendar, dates or units): sent inside
# the transaction that saves them, with `agreement_id` and `actor_id` (None: the system).
# Receivers only schedule their work for after the commit (`transaction.on_commit`, a task's
# `delay_on_commit`): until then the edit may roll back, and other connections cannot see it.
agreement_terms_changed = Signal()
