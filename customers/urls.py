from django.urls import path

from .views import office, plans

app_name = "customers"
urlpatterns = [
    path("", office.CustomerListView.as_view(), name="list"),
    path("new/", office.customer_create, name="create"),
    path("<int:pk>/", office.customer_detail, name="detail"),
    path("<int:pk>/edit/", office.customer_edit, name="edit"),
    path("<int:customer_pk>/equipment/new/", office.equipment_create, name="equipment_create"),
    path("<int:customer_pk>/agreements/new/", office.agreement_create, name="agreement_create"),
    path("equipment/", office.EquipmentListView.as_view(), name="equipment_list"),
    path("equipment/<int:pk>/", office.equipment_detail, name="equipment_detail"),
    path("equipment/<int:pk>/edit/", office.equipment_edit, name="equipment_edit"),
    path("equipment/<int:pk>/qr.png", office.equipment_qr, name="equipment_qr"),
    path("equipment/<int:pk>/label/", office.equipment_label, name="equipment_label"),
    path("agreements/", office.AgreementListView.as_view(), name="agreement_list"),
    path("agreements/<int:pk>/", office.agreement_detail, name="agreement_detail"),
    path("agreements/<int:pk>/edit/", office.agreement_edit, name="agreement_edit"),
    path("products/", office.product_list, name="product_list"),
    path("transfer/", office.transfer, name="transfer"),
    path("transfer/confirm/", office.transfer_confirm, name="transfer_confirm"),
    path("transfer/jobs/<int:pk>/", office.import_job, name="import_job"),
    path("transfer/jobs/<int:pk>/status/", office.import_job_status, name="import_job_status"),
    path("transfer/jobs/<int:pk>/confirm/", office.import_job_confirm, name="import_job_confirm"),
    path("transfer/jobs/<int:pk>/retry/", office.import_job_retry, name="import_job_retry"),
    path("transfer/exports/", office.export_page, name="exports"),
    path("transfer/exports/<int:pk>/", office.export_job, name="export_job"),
    path("transfer/exports/<int:pk>/status/", office.export_job_status, name="export_job_status"),
    path("transfer/exports/<int:pk>/download/", office.export_download, name="export_download"),
    # Maintenance plans (customers.views.plans).
    path("plans/", plans.PlanListView.as_view(), name="plan_list"),
    path("plans/<int:pk>/", plans.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", plans.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/deactivate/", plans.plan_deactivate, name="plan_deactivate"),
    path("plans/<int:pk>/activate/", plans.plan_activate, name="plan_activate"),
    path("<int:customer_pk>/plans/new/", plans.plan_create, name="plan_create"),
]
