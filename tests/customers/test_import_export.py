import io

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Contact, Customer, Equipment

from ..factories import (
    CustomerFactory,
    EquipmentFactory,
    ProductModelFactory,
    RegionFactory,
    TagFactory,
)
from .test_exports import export_file

pytestmark = pytest.mark.django_db

CUSTOMER_CSV = (
    "客户编码,名称,类型,等级,地区,电话,地址,标签\n"
    "C-9001,杭州湖滨餐饮有限公司,公司,VIP,杭州,0571-87001234,"
    "杭州市上城区湖滨路 1 号,连锁门店|重点客户\n"
    "C-9002,张先生,个人,普通,杭州,13700001234,杭州市西湖区文三路 8 号,\n"
)


def upload(client, kind, name, content):
    return client.post(
        reverse("customers:transfer"),
        {"kind": kind, "file": SimpleUploadedFile(name, content)},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )


@pytest.fixture
def hangzhou():
    return RegionFactory(name="杭州")


def test_preview_writes_nothing_and_confirm_imports(client, dispatcher, hangzhou):
    client.force_login(dispatcher)
    response = upload(client, "customers", "customers.csv", CUSTOMER_CSV.encode("utf-8"))
    report = response.context["report"]
    assert report.ok
    assert (report.total, report.new) == (2, 2)
    assert not Customer.objects.exists()

    response = client.post(reverse("customers:transfer_confirm"))
    assert response.status_code == 302
    vip = Customer.objects.get(code="C-9001")
    assert (vip.level, vip.kind, vip.region) == ("vip", "company", hangzhou)
    assert sorted(vip.tags.values_list("name", flat=True)) == ["连锁门店", "重点客户"]
    assert Customer.objects.get(code="C-9002").kind == "individual"


def test_one_bad_row_refuses_the_whole_file_and_lists_every_bad_row(client, dispatcher, hangzhou):
    bad = CUSTOMER_CSV + "C-9003,坏数据公司,公司,钻石,火星,,,\nC-9004,另一家,公司,普通,杭州,,,\n"
    client.force_login(dispatcher)
    response = upload(client, "customers", "customers.csv", bad.encode("utf-8"))
    report = response.context["report"]
    html = response.content.decode()
    assert not report.ok
    assert [p.line for p in report.problems] == [4]
    assert "钻石" in html and "火星" in html
    assert "confirm-import" not in html
    assert not Customer.objects.exists()
    # Nothing is kept for confirmation either.
    client.post(reverse("customers:transfer_confirm"))
    assert not Customer.objects.exists()


def test_gb18030_csv_from_chinese_excel_is_read(client, dispatcher, hangzhou):
    client.force_login(dispatcher)
    response = upload(client, "customers", "客户.csv", CUSTOMER_CSV.encode("gb18030"))
    assert response.context["report"].ok
    client.post(reverse("customers:transfer_confirm"))
    assert Customer.objects.get(code="C-9001").name == "杭州湖滨餐饮有限公司"


def test_contacts_import_validates_mobiles_and_writes_nothing_on_error(client, dispatcher):
    customer = CustomerFactory(code="C-1")
    Contact.objects.all().delete()
    csv = (
        "customer code,name,title,mobile,e-mail,primary contact\n"
        "C-1,李雷,经理,13811112222,lilei@example.com,是\n"
        "C-1,韩梅梅,,12345,,否\n"
        "C-404,无名,,13811113333,,否\n"
    )
    client.force_login(dispatcher)
    report = upload(client, "contacts", "contacts.csv", csv.encode()).context["report"]
    assert [p.line for p in report.problems] == [3, 4]
    assert "手机号" in " ".join(report.problems[0].messages)
    assert "C-404" in " ".join(report.problems[1].messages)
    assert not customer.contacts.exists()


def test_equipment_import_from_excel_computes_warranty(client, dispatcher):
    customer = CustomerFactory(code="C-77")
    model = ProductModelFactory(code="AC-35", warranty_months=36)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        ["型号编码", "序列号", "客户编码", "安装地址", "安装日期", "购买日期", "保修截止", "状态"]
    )
    sheet.append(
        [
            "AC-35",
            "AC35-0001",
            "C-77",
            "深圳市南山区科技园",
            "2025-05-02",
            "2025-05-01",
            "",
            "使用中",
        ]
    )
    sheet.append([None] * 8)  # Excel's trailing empty row
    buffer = io.BytesIO()
    book.save(buffer)
    client.force_login(dispatcher)
    report = upload(client, "equipment", "units.xlsx", buffer.getvalue()).context["report"]
    assert report.ok, [p.messages for p in report.problems]
    client.post(reverse("customers:transfer_confirm"))
    unit = Equipment.objects.get()
    assert (unit.customer, unit.product_model) == (customer, model)
    assert str(unit.warranty_end) == "2028-04-30"


def test_unreadable_file_gets_a_clear_message(client, dispatcher):
    client.force_login(dispatcher)
    response = upload(client, "customers", "data.xlsx", b"this is not excel")
    assert response.context["report"] is None
    assert "无法" in response.content.decode()
    response = upload(client, "customers", "data.pdf", b"%PDF")
    assert "xlsx" in response.content.decode()


def test_export_neutralises_spreadsheet_formulas(client_for, dispatcher, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    CustomerFactory(
        name='=HYPERLINK("http://evil","点我")', notes="+1+cmd|' /C calc'!A0", code="C-1"
    )
    client = client_for(dispatcher)
    sheet = openpyxl.load_workbook(io.BytesIO(export_file(client, "customers", "xlsx"))).active
    rows = list(sheet.values)
    assert rows[0][0] == "客户编码"
    data = dict(zip(rows[0], rows[1], strict=True))
    assert data["名称"].startswith("'=HYPERLINK")
    assert data["备注"].startswith("'+1")
    csv = export_file(client, "customers", "csv").decode("utf-8-sig")
    assert "'=HYPERLINK" in csv


@pytest.mark.parametrize("kind", ["customers", "contacts", "equipment", "products"])
def test_exported_file_imports_back_unchanged(client_for, dispatcher, kind, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    for unit in EquipmentFactory.create_batch(3):
        unit.customer.tags.set([TagFactory(name="连锁门店"), TagFactory(name="重点客户")])
        Contact.objects.create(customer=unit.customer, name="王", mobile=f"1370000{unit.pk:04d}")
    client = client_for(dispatcher)
    exported = export_file(client, kind, "xlsx")
    report = upload(client, kind, f"{kind}.xlsx", exported).context["report"]
    assert report.ok, [p.messages for p in report.problems]
    assert (report.new, report.updated) == (0, 0)
    assert report.unchanged == report.total > 0


def test_roles_without_import_permission_cannot_import(client, revisit_agent):
    client.force_login(revisit_agent)
    assert client.get(reverse("customers:transfer")).status_code == 403
    assert client.post(reverse("customers:transfer_confirm")).status_code == 403


@pytest.mark.parametrize("kind", ["customers", "contacts", "equipment", "products"])
def test_export_holds_only_rows_the_person_may_see(client_for, make_user, kind, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    EquipmentFactory(customer=CustomerFactory(code="C-1"))
    Contact.objects.create(customer=Customer.objects.get(), name="王", mobile="13700001234")
    # Allowed to export, but not to see customers, units or products (customers.access).
    user = make_user(username="exporter")
    user.user_permissions.add(Permission.objects.get(codename="export_masterdata"))
    rows = list(
        openpyxl.load_workbook(io.BytesIO(export_file(client_for(user), kind))).active.values
    )
    assert len(rows) == 1  # the column titles only


@pytest.mark.parametrize("kind", ["customers", "contacts", "equipment", "products"])
def test_export_holds_every_row_for_finance(client_for, finance, kind, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    EquipmentFactory(customer=CustomerFactory(code="C-1"))
    Contact.objects.create(customer=Customer.objects.get(), name="王", mobile="13700001234")
    rows = list(
        openpyxl.load_workbook(io.BytesIO(export_file(client_for(finance), kind))).active.values
    )
    assert len(rows) == 2
