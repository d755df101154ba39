"""Articles and fault codes through the master-data import / export page: the same preview,
bad-row report and all-or-nothing import as customers' data, for service managers only."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from knowledge import search, services
from knowledge.models import Article, ArticleRevision, FaultCode, State
from tests.customers.test_exports import export_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MEDIA_ACCEL_REDIRECT = ""
    return tmp_path


def upload(client, kind, content, name="data.csv"):
    return client.post(
        reverse("customers:transfer"),
        {"kind": kind, "file": SimpleUploadedFile(name, content.encode("utf-8"))},
    )


def test_fault_codes_preview_then_import(client_for, service_manager, codes, line):
    client = client_for(service_manager)
    csv = "product_line,code,meaning\n空调,e-5,排水故障\n空调,E1,室内温度传感器开路\n"

    report = upload(client, "fault_codes", csv).context["report"]

    assert report.ok
    assert (report.total, report.new, report.updated) == (2, 1, 1)
    assert not FaultCode.objects.filter(code="E5").exists()  # a preview writes nothing

    client.post(reverse("customers:transfer_confirm"))

    assert FaultCode.objects.get(code="E5").meaning == "排水故障"
    assert FaultCode.objects.get(code="E1").meaning == "室内温度传感器开路"


def test_a_bad_fault_code_row_refuses_the_whole_file(client_for, service_manager, codes, line):
    client = client_for(service_manager)
    csv = "product_line,code,meaning\n空调,E7,好的一行\n火星,E8,没有这条产品线\n空调,E9,\n"

    response = upload(client, "fault_codes", csv)

    report = response.context["report"]
    assert [p.line for p in report.problems] == [3, 4]
    assert "火星" in response.text
    client.post(reverse("customers:transfer_confirm"))
    assert not FaultCode.objects.filter(code__in=["E7", "E8", "E9"]).exists()


def test_articles_export_and_import_back_unchanged(
    client_for, service_manager, write, codes, line, ac_model
):
    first = write(service_manager, State.PUBLISHED, product_line=line, fault_codes=[codes["E4"]])
    services.save_article(
        Article.objects.get(pk=first.pk),
        service_manager,
        product_models=[ac_model],
        version=first.version,
    )
    write(service_manager, title="第二篇，=SUM(1) 开头不算公式", product_line=line)
    client = client_for(service_manager)

    data = export_file(client, "articles", "csv")
    text = data.decode("utf-8-sig")
    assert "E4" in text and ac_model.code in text

    report = upload(client, "articles", text).context["report"]
    assert report.ok, report.problems
    assert (report.total, report.unchanged) == (2, 2)


def test_articles_import_adds_published_and_changes_with_a_new_version(
    client_for, service_manager, write, codes, line
):
    existing = write(service_manager, State.PUBLISHED, product_line=line)
    client = client_for(service_manager)
    csv = (
        "id,product_line,title,symptom,solution,fault_codes\n"
        f"{existing.pk},空调,改过的标题,开机后不制冷,检查通信线,E1|e-4\n"
        ",空调,新文章：E1 传感器,显示 E1,更换传感器,E1\n"
    )

    report = upload(client, "articles", csv).context["report"]
    assert (report.new, report.updated) == (1, 1), report.problems
    assert Article.objects.count() == 1
    client.post(reverse("customers:transfer_confirm"))

    changed = Article.objects.get(pk=existing.pk)
    assert changed.title == "改过的标题"
    assert changed.version == 2
    assert sorted(changed.fault_codes.values_list("code", flat=True)) == ["E1", "E4"]
    assert ArticleRevision.objects.get(article=changed, number=2).author == service_manager
    new = Article.objects.exclude(pk=existing.pk).get()
    assert new.state == State.PUBLISHED
    assert new.author == service_manager
    assert [hit.article for hit in search.search("新文章 传感器")] == [new]  # indexed
    assert list(new.log.values_list("action", flat=True)) == ["create", "publish"]


def test_bad_article_rows_are_listed_and_nothing_is_written(
    client_for, service_manager, write, codes, line
):
    archived = write(service_manager, State.ARCHIVED, product_line=line)
    kept = write(service_manager, State.PUBLISHED, product_line=line, title="原标题")
    client = client_for(service_manager)
    csv = (
        "id,product_line,title,symptom,solution,fault_codes\n"
        f"{kept.pk},空调,会被改的标题,x,y,E1\n"
        ",空调,不存在的故障代码,x,y,E99\n"
        "424242,空调,不存在的文章,x,y,\n"
        f"{archived.pk},空调,归档的文章,x,y,\n"
        ",空调,,没有标题,y,\n"
        "abc,空调,编号不是数字,x,y,\n"
    )

    report = upload(client, "articles", csv).context["report"]

    assert [p.line for p in report.problems] == [3, 4, 5, 6, 7]
    client.post(reverse("customers:transfer_confirm"))
    assert Article.objects.get(pk=kept.pk).title == "原标题"
    assert Article.objects.count() == 2


def test_dispatchers_import_master_data_but_not_articles(client_for, dispatcher):
    client = client_for(dispatcher)

    page = client.get(reverse("customers:transfer"))
    response = upload(client, "articles", ",title\n,x\n")

    assert 'value="articles"' not in page.text
    assert response.context["report"] is None
    assert not Article.objects.exists()


def test_a_service_manager_is_offered_both_kinds(client_for, service_manager):
    page = client_for(service_manager).get(reverse("customers:transfer")).text

    assert 'value="articles"' in page
    assert 'value="fault_codes"' in page
