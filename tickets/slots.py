"""Places on the tickets app's pages where the apps above it add their parts (registered in
their AppConfig.ready(); tickets never imports them)."""

from aftersales.registry import Slot

# Sections of the ticket page (knowledge's suggested articles and similar tickets …): `Panel`s.
ticket_panels = Slot("ticket_panels")
# Beside the entry form (knowledge's suggestions while the description is typed): `Panel`s
# given the form.
entry_panels = Slot("entry_panels")
# Sections of the engineer's job page (knowledge's suggestions): `Panel`s given the ticket.
job_panels = Slot("job_panels")
# At the top of the visit record's form (knowledge's repair templates): `Panel`s given the ticket.
visit_panels = Slot("visit_panels")
