"""Places on the tickets app's pages where the apps above it add their parts (registered in
their AppConfig.ready(); tickets never imports them)."""

from aftersales.registry import Slot

# Sections of the ticket page (knowledge's suggested articles and similar tickets …): `Panel`s.
ticket_panels = Slot("ticket_panels")
