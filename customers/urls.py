from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.CustomerListView.as_view(), name="list"),
    path("new/", views.customer_create, name="create"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:customer_pk>/equipment/new/", views.equipment_create, name="equipment_create"),
    path("<int:customer_pk>/agreements/new/", views.agreement_create, name="agreement_create"),
    path("equipment/", views.EquipmentListView.as_view(), name="equipment_list"),
    path("equipment/<int:pk>/", views.equipment_detail, name="equipment_detail"),
    path("equipment/<int:pk>/edit/", views.equipment_edit, name="equipment_edit"),
    path("equipment/<int:pk>/qr.png", views.equipment_qr, name="equipment_qr"),
    path("equipment/<int:pk>/label/", views.equipment_label, name="equipment_label"),
    path("agreements/", views.AgreementListView.as_view(), name="agreement_list"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement_detail"),
    path("agreements/<int:pk>/edit/", views.agreement_edit, name="agreement_edit"),
    path("products/", views.product_list, name="product_list"),
    path("transfer/", views.transfer, name="transfer"),
    path("transfer/confirm/", views.transfer_confirm, name="transfer_confirm"),
    path("transfer/jobs/<int:pk>/", views.import_job, name="import_job"),
    path("transfer/jobs/<int:pk>/status/", views.import_job_status, name="import_job_status"),
    path("transfer/jobs/<int:pk>/confirm/", views.import_job_confirm, name="import_job_confirm"),
    path("transfer/export/<str:kind>.<str:fmt>", views.export, name="export"),
]
