"""What the import's check says about a file's rows, in the user's language and with the line:
keys repeated within the file, Excel formulas, cells too long, required cells left empty, and
an exported file read back (its formula escaping undone)."""

import io
import re
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from aftersales.models import ProductLine
from customers import imports
from customers.cells import escape_formula, unescape_formula
from customers.kinds import RESOURCES
from customers.models import Customer, Equipment, ProductModel

from ..factories import CustomerFactory, ProductModelFactory, RegionFactory

pytestmark = pytest.mark.django_db

HEADER = "客户编码,名称,类型,等级,地区\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def hangzhou():
    return RegionFactory(name="杭州")


def upload(client, kind, name, content, language="zh-hans"):
    return client.post(
        reverse("customers:transfer"),
        {"kind": kind, "file": SimpleUploadedFile(name, content)},
        HTTP_ACCEPT_LANGUAGE=language,
    )


def check(kind, name, content, language="zh-hans"):
    path = imports.keep_upload(SimpleUploadedFile(name, content))
    with translation.override(language):
        return imports.check_import(kind, name, path)


def commit(kind, name, content, language="zh-hans"):
    path = imports.keep_upload(SimpleUploadedFile(name, content))
    with translation.override(language):
        return imports.commit_import(kind, name, path)


def problems(report):
    return {p.line: p.messages for p in report.problems}


def xlsx(rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- Keys repeated within one file ------------------------------------------------------------


def test_every_row_of_a_repeated_customer_code_is_listed_and_nothing_imported(
    client, dispatcher, hangzhou
):
    csv = HEADER + (
        "C-1,甲公司,公司,普通,杭州\n"
        "C-2,乙公司,公司,普通,杭州\n"
        "C-1,甲公司（新）,公司,普通,杭州\n"
        "C-3,丙公司,公司,普通,杭州\n"
        "C-1,甲公司（旧）,公司,普通,杭州\n"
    )
    client.force_login(dispatcher)
    response = upload(client, "customers", "customers.csv", csv.encode())
    report = response.context["report"]
    assert problems(report) == {
        2: ["第 2 行与第 4、6 行的客户编码重复。"],
        4: ["第 4 行与第 2、6 行的客户编码重复。"],
        6: ["第 6 行与第 2、4 行的客户编码重复。"],
    }
    assert report.problem_count == 3
    html = response.content.decode()
    assert "第 4 行与第 2、6 行的客户编码重复。" in html
    assert "confirm-import" not in html
    client.post(reverse("customers:transfer_confirm"))
    assert not Customer.objects.exists()


def test_a_key_repeated_across_chunks_is_found_and_the_import_refused(hangzhou, monkeypatch):
    monkeypatch.setattr(imports, "IMPORT_CHUNK_ROWS", 2)
    rows = ["C-1,甲,公司,普通,杭州", "C-2,乙,公司,普通,杭州", "C-3,丙,公司,普通,火星"]
    content = (
        HEADER + "\n".join([*rows, "C-4,丁,公司,普通,杭州", "C-3,丙,公司,普通,杭州"])
    ).encode()
    report = check("customers", "c.csv", content)
    assert problems(report) == {
        # A row with a problem of its own gets the repetition added.
        4: ["地区：地区“火星”不存在。", "第 4 行与第 6 行的客户编码重复。"],
        6: ["第 6 行与第 4 行的客户编码重复。"],
    }
    assert report.problem_count == 2

    fixed = content.replace("火星".encode(), "杭州".encode())
    report = commit("customers", "c.csv", fixed)
    assert sorted(problems(report)) == [4, 6]
    assert not Customer.objects.exists()  # the first chunks were rolled back


def test_a_repeated_serial_number_is_listed_in_english_too():
    CustomerFactory(code="C-77")
    ProductModelFactory(code="AC-35")
    csv = (
        b"model code,serial number,customer code\n"
        b"AC-35,DUP-1,C-77\n"
        b"AC-35,DUP-2,C-77\n"
        b"AC-35,DUP-1,C-77\n"
    )
    report = check("equipment", "units.csv", csv, "en")
    assert problems(report) == {
        2: ["Line 2 has the same model code, serial number as line 4."],
        4: ["Line 4 has the same model code, serial number as line 2."],
    }
    assert problems(check("equipment", "units.csv", csv))[4] == [
        "第 4 行与第 2 行的型号编码、序列号重复。"
    ]
    assert not commit("equipment", "units.csv", csv).ok
    assert not Equipment.objects.exists()


def test_the_same_mobile_for_two_customers_is_no_repetition():
    CustomerFactory(code="C-1")
    CustomerFactory(code="C-2")
    csv = ("customer code,name,mobile\nC-1,李雷,13811112222\nC-2,李雷,13811112222\n").encode()
    assert check("contacts", "contacts.csv", csv).ok


# --- Excel formulas -----------------------------------------------------------------------------


def with_results(content, results):
    """The xlsx `content` with each formula's result saved, as Excel saves them ({cell: text})."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                for cell, result in results.items():
                    text, found = re.subn(
                        rf'<c r="{cell}"><f>(.*?)</f><v ?/>',
                        rf'<c r="{cell}" t="str"><f>\1</f><v>{result}</v>',
                        text,
                    )
                    assert found == 1, text
                data = text.encode()
            target.writestr(item, data)
    return out.getvalue()


FORMULA_SHEET = [
    ["客户编码", "名称", "类型", "地区"],
    ["X-1", '="杭州"&"甲公司"', "个人", "杭州"],
    ["X-2", "乙公司", "个人", "杭州"],
]


def test_a_formula_without_its_result_is_refused_with_the_line(hangzhou):
    content = xlsx(FORMULA_SHEET)  # openpyxl saves formulas without results
    assert problems(check("customers", "c.xlsx", content)) == {
        2: [
            '第 2 行：名称 单元格是公式（="杭州"&"甲公司"），文件中没有它的计算结果。'
            "请用 Excel 打开并重新保存该文件，或将公式粘贴为数值。"
        ]
    }
    [message] = problems(check("customers", "c.xlsx", content, "en"))[2]
    assert message.startswith('Line 2: the name cell holds a formula (="杭州"&"甲公司")')
    assert not commit("customers", "c.xlsx", content).ok
    assert not Customer.objects.exists()


def test_a_formula_with_its_saved_result_imports_the_result(hangzhou):
    content = with_results(xlsx(FORMULA_SHEET), {"B2": "杭州甲公司"})
    report = commit("customers", "c.xlsx", content)
    assert report.ok, report.problems
    assert Customer.objects.get(code="X-1").name == "杭州甲公司"


def test_a_formula_whose_saved_result_is_empty_text_is_an_empty_cell(hangzhou):
    sheet = [[*FORMULA_SHEET[0], "地址"], ["X-1", "甲公司", "个人", "杭州", '=IF(1=1,"","x")']]
    content = xlsx(sheet)
    assert not check("customers", "c.xlsx", content).ok
    report = commit("customers", "c.xlsx", with_results(content, {"E2": ""}))
    assert report.ok, report.problems
    assert Customer.objects.get(code="X-1").address == ""


def test_a_formula_in_a_column_that_is_not_imported_does_not_matter(hangzhou):
    content = xlsx([[*FORMULA_SHEET[0], "合计"], ["X-1", "甲公司", "个人", "杭州", "=1+1"]])
    assert check("customers", "c.xlsx", content).ok


# --- An exported file read back -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["=SUM(1)", "+86", "-x", "@a", "\tx", "'=x", "''+x", "'abc", "'", "abc", "", "中'="]
)
def test_escaping_makes_the_round_trip(text):
    assert unescape_formula(escape_formula(text)) == text
    assert unescape_formula(5) == escape_formula(5) == 5


def test_a_leading_quote_the_export_did_not_add_is_kept(hangzhou):
    content = (HEADER + "C-1,'s-Hertogenbosch 贸易,公司,普通,杭州\n").encode()
    commit("customers", "c.csv", content)
    assert Customer.objects.get().name == "'s-Hertogenbosch 贸易"


def exported(kind, fmt):
    """The file the export gives (customers.resources: the escaping is the resource's)."""
    resource = RESOURCES[kind][1]()
    dataset = resource.export(queryset=resource.get_export_queryset())
    if fmt == "csv":
        return dataset.csv, dataset.export("csv").encode("utf-8-sig")
    return dataset.csv, dataset.export("xlsx")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_unchanged_export_imports_back_unchanged(fmt):
    CustomerFactory(code="C-1", name="=SUM(1)", address="-1 号", notes="@全体")
    CustomerFactory(code="C-2", name="'=不是公式", address="'撇号开头", notes="+1")
    CustomerFactory(code="C-3")
    ProductModelFactory(code="-M1", name="=A1")
    text, content = exported("customers", fmt)
    assert "'=SUM(1)" in text and "''=不是公式" in text and "'@全体" in text
    before = list(Customer.objects.order_by("code").values())

    report = commit("customers", f"customers.{fmt}", content)
    assert (report.new, report.updated, report.unchanged) == (0, 0, 3)
    assert list(Customer.objects.order_by("code").values()) == before

    _text, content = exported("products", fmt)
    report = commit("products", f"products.{fmt}", content)
    assert (report.new, report.updated, report.unchanged) == (0, 0, 1)
    assert ProductModel.objects.get().name == "=A1"


# --- Cells too long, required cells empty -------------------------------------------------------


def test_a_cell_too_long_names_the_line_the_column_and_the_limit(hangzhou):
    content = (
        HEADER.replace("\n", ",地址\n") + f"C-1,{'长' * 121},公司,普通,杭州,{'址' * 201}\n"
    ).encode()
    assert problems(check("customers", "c.csv", content)) == {
        2: [
            "第 2 行：名称 有 121 个字符，最多允许 120 个。",
            "第 2 行：地址 有 201 个字符，最多允许 200 个。",
        ]
    }
    assert problems(check("customers", "c.csv", content, "en"))[2][0] == (
        "Line 2: name has 121 characters; at most 120 are allowed."
    )


def test_a_new_product_line_too_long_is_refused_by_the_check_not_by_the_database():
    limit = ProductLine._meta.get_field("name").max_length
    csv = (
        "product line,model code,name,warranty (months)\n"
        "商用空调,AC-1,一拖一,24\n"
        f"{'长' * (limit + 1)},AC-2,一拖二,24\n"
    ).encode()
    expected = {3: [f"第 3 行：产品线 有 {limit + 1} 个字符，最多允许 {limit} 个。"]}
    assert problems(check("products", "products.csv", csv)) == expected
    assert problems(commit("products", "products.csv", csv)) == expected
    assert not ProductLine.objects.exists()


def test_an_empty_required_cell_says_which_one_in_the_users_language(hangzhou):
    content = (HEADER + "C-1,,公司,普通,\nC-2,乙公司,,普通,杭州\n").encode()
    assert problems(check("customers", "c.csv", content)) == {
        2: ["第 2 行：名称 不能为空。", "第 2 行：地区 不能为空。"],
        3: ["第 3 行：类型 不能为空。"],
    }
    english = problems(check("customers", "c.csv", content, "en"))
    assert english[2] == ["Line 2: name cannot be empty.", "Line 2: region cannot be empty."]
    assert "null" not in str(english)
