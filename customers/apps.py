from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers and equipment")

    def ready(self):
        from .views.plans import register_panels

        # The maintenance plans on the customer's and the unit's pages (customers.slots).
        register_panels()
