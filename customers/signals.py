"""Hooks that the customers app offers to the apps above it (which it must not import).

plan_due(plan, date)
    Sent by the daily job inside the transaction that holds the maintenance plan's row lock,
    once per planned date. Receivers create the work the plan calls for; the tickets app
    creates a service request (`tickets.signals`). Whatever a receiver writes commits or rolls
    back with the plan's move to its next date.
"""

from django.dispatch import Signal

plan_due = Signal()
