"""Places on the customers app's pages where the apps above it add their parts (registered in
their AppConfig.ready(); customers never imports them)."""

from aftersales.registry import Slot

# Sections of the customer 360° page (service requests, complaints …): `Panel`s.
customer_panels = Slot("customer_panels")
# Buttons on a unit's page ("New service request" …): `Link`s.
equipment_actions = Slot("equipment_actions")
# Sections of a unit's page (its service history …): `Panel`s.
equipment_panels = Slot("equipment_panels")
