"""The knowledge pages as each role sees them: the list and its filters, an article, the forms,
lifecycle buttons, revisions, attachments, the review queue, the managed lists, the ticket
page's "make a draft article", query budgets and garbage parameters."""

import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from aftersales.roles import Role
from knowledge import services
from knowledge.models import Article, ArticleTransition, Attachment, FaultCode, State, Synonym
from tests.factories import EquipmentFactory, ticket_in_state
from tests.queries import count_queries

pytestmark = pytest.mark.django_db


def _messages(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def _follow_messages(client, response):
    return " ".join(str(m) for m in client.get(response["Location"]).context["messages"])


# -- Who sees what -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role",
    [
        Role.DISPATCHER,
        Role.ENGINEER,
        Role.SERVICE_MANAGER,
        Role.REVISIT_AGENT,
        Role.PARTS_CLERK,
        Role.FINANCE,
        Role.COMPLAINT_HANDLER,
        Role.MANAGER,
    ],
)
def test_every_staff_role_reads_published_articles(
    make_user, client_for, service_manager, write, role
):
    published = write(service_manager, State.PUBLISHED, title="净水器漏水")
    client = client_for(make_user(role, username=f"u-{role}"))

    listing = client.get(reverse("knowledge:list"))
    detail = client.get(published.get_absolute_url())

    assert listing.status_code == 200
    assert "净水器漏水" in listing.text
    assert reverse("knowledge:list") in listing.text  # the menu entry
    assert detail.status_code == 200


def test_drafts_are_their_authors_and_reviewers_only(
    make_user, client_for, engineer, service_manager, write
):
    draft = write(engineer, title="李工的滤网草稿")
    other = client_for(make_user(Role.ENGINEER, username="other-engineer"))
    reader = client_for(make_user(Role.FINANCE, username="reader"))

    assert client_for(engineer).get(draft.get_absolute_url()).status_code == 200
    assert client_for(service_manager).get(draft.get_absolute_url()).status_code == 200
    assert other.get(draft.get_absolute_url()).status_code == 404
    assert reader.get(draft.get_absolute_url()).status_code == 404
    assert other.get(reverse("knowledge:edit", args=[draft.pk])).status_code == 404
    assert "李工的滤网草稿" not in other.get(reverse("knowledge:list"), {"state": "mine"}).text
    mine = client_for(engineer).get(reverse("knowledge:list"), {"state": "mine"})
    assert "李工的滤网草稿" in mine.text


def test_archived_articles_are_for_reviewers_only(engineer, service_manager, client_for, write):
    archived = write(engineer, State.ARCHIVED, reviewer=service_manager)

    assert client_for(engineer).get(archived.get_absolute_url()).status_code == 404
    assert client_for(service_manager).get(archived.get_absolute_url()).status_code == 200


def test_an_author_cannot_edit_own_published_article(engineer, service_manager, client_for, write):
    published = write(engineer, State.PUBLISHED, reviewer=service_manager)

    response = client_for(engineer).get(reverse("knowledge:edit", args=[published.pk]))

    assert response.status_code == 403


def test_readers_cannot_write(finance, client_for):
    client = client_for(finance)
    assert client.get(reverse("knowledge:create")).status_code == 403
    assert client.get(reverse("knowledge:review_queue")).status_code == 403
    assert client.get(reverse("knowledge:faultcode_create")).status_code == 403
    assert client.get(reverse("knowledge:synonym_list")).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("knowledge:list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# -- An article's page -------------------------------------------------------------------------


def test_article_page_shows_steps_codes_parts_counters_and_counts_the_view(
    engineer, service_manager, client_for, write, codes, line
):
    article = write(
        service_manager,
        State.PUBLISHED,
        product_line=line,
        fault_codes=[codes["E4"]],
        parts="通信线 5m",
        tools="万用表",
    )
    Article.objects.filter(pk=article.pk).update(helped=3, failed=1)

    response = client_for(engineer).get(article.get_absolute_url())

    html = response.text
    assert re.search(r"<ol[^>]*id=\"steps\">\s*<li>检查通信线</li><li>更换室外主板</li>", html)
    assert "E4" in html and "室外机通信故障" in html
    assert "通信线 5m" in html and "万用表" in html
    assert "75%" in html  # success rate
    assert Article.objects.get(pk=article.pk).views == 1


def test_lifecycle_buttons_follow_the_role(engineer, service_manager, client_for, write):
    draft = write(engineer)
    url = draft.get_absolute_url()

    mine = client_for(engineer).get(url).text
    theirs = client_for(service_manager).get(url).text

    assert reverse("knowledge:act", args=[draft.pk, "submit"]) in mine
    assert reverse("knowledge:act", args=[draft.pk, "publish"]) not in mine
    assert reverse("knowledge:act", args=[draft.pk, "publish"]) in theirs
    assert reverse("knowledge:act", args=[draft.pk, "archive"]) in theirs


def test_manager_publishes_from_the_page(engineer, service_manager, client_for, write):
    article = write(engineer, State.REVIEW)

    response = client_for(service_manager).post(
        reverse("knowledge:act", args=[article.pk, "publish"]), {"version": article.version}
    )

    assert response.status_code == 302
    assert Article.objects.get(pk=article.pk).state == State.PUBLISHED
    assert ArticleTransition.objects.filter(article=article, action="publish").exists()


def test_engineer_cannot_publish_by_posting(engineer, client_for, write):
    article = write(engineer, State.REVIEW)
    client = client_for(engineer)

    response = client.post(
        reverse("knowledge:act", args=[article.pk, "publish"]), {"version": article.version}
    )

    assert "无权" in _follow_messages(client, response)
    assert Article.objects.get(pk=article.pk).state == State.REVIEW


def test_a_stale_form_saves_nothing_and_says_so(engineer, client_for, write, line):
    article = write(engineer, product_line=line)
    client = client_for(engineer)
    other = Article.objects.get(pk=article.pk)
    other.title = "别人先改了"
    services.save_article(other, engineer, version=1)

    response = client.post(
        reverse("knowledge:edit", args=[article.pk]),
        {
            "version": 1,
            "title": "我的修改",
            "product_line": line.pk,
            "symptom": "x",
            "solution": "y",
        },
    )

    assert "被他人修改" in _follow_messages(client, response)
    assert Article.objects.get(pk=article.pk).title == "别人先改了"


def test_new_article_through_the_form(engineer, client_for, codes, line, ac_model):
    client = client_for(engineer)

    response = client.post(
        reverse("knowledge:create"),
        {
            "title": "显示 E1 的处理",
            "product_line": line.pk,
            "product_models": [ac_model.pk],
            "symptom": "面板显示 E1",
            "solution": "检查传感器\n更换传感器",
            "fault_codes": [codes["E1"].pk],
            "labour_hours": "1.0",
        },
    )

    article = Article.objects.get()
    assert response["Location"] == article.get_absolute_url()
    assert article.author == engineer
    assert article.state == State.DRAFT
    assert list(article.fault_codes.all()) == [codes["E1"]]
    assert article.labour_hours == Decimal("1.0")


def test_the_form_offers_only_the_lines_fault_codes(
    engineer, client_for, codes, line, other_line, write
):
    FaultCode.objects.create(product_line=other_line, code="E9", meaning="别的产品线")
    article = write(engineer, product_line=line)

    html = client_for(engineer).get(reverse("knowledge:edit", args=[article.pk])).text

    assert "室外机通信故障" in html
    assert "别的产品线" not in html


# -- Revisions ---------------------------------------------------------------------------------


def test_compare_and_restore_pages(service_manager, client_for, write):
    article = write(service_manager)
    article.solution = "新的一步"
    services.save_article(article, service_manager, version=1)
    client = client_for(service_manager)

    page = client.get(reverse("knowledge:compare", args=[article.pk]), {"a": 1, "b": 2})
    assert page.status_code == 200
    assert "<del>检查通信线</del>" in page.text
    assert "<ins>新的一步</ins>" in page.text

    client.post(reverse("knowledge:restore", args=[article.pk, 1]), {"version": 2})
    restored = Article.objects.get(pk=article.pk)
    assert restored.version == 3
    assert restored.solution == "检查通信线\n更换室外主板"


@pytest.mark.parametrize(
    "params", [{"a": "x", "b": "\x00"}, {"a": "99", "b": "-1"}, {"a": "1" * 30}]
)
def test_compare_with_garbage_numbers_shows_the_latest_two(
    service_manager, client_for, write, params
):
    article = write(service_manager)
    response = client_for(service_manager).get(
        reverse("knowledge:compare", args=[article.pk]), params
    )
    assert response.status_code == 200


# -- Attachments -------------------------------------------------------------------------------


def _png():
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(out, "PNG")
    return out.getvalue()


def test_upload_and_open_an_attachment(
    engineer, finance, service_manager, client_for, write, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    article = write(engineer)
    client = client_for(engineer)

    client.post(
        reverse("knowledge:attachment_add", args=[article.pk]),
        {"file": SimpleUploadedFile("现场.png", _png(), "image/png")},
    )
    attachment = Attachment.objects.get()
    url = reverse("knowledge:attachment_file", args=[article.pk, attachment.pk])

    assert client.get(url).status_code == 200
    # A draft's attachment is as private as the draft.
    assert client_for(finance).get(url).status_code == 404
    assert client_for(service_manager).get(url).status_code == 200


def test_a_fake_image_is_refused_on_the_page(engineer, client_for, write, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    article = write(engineer)
    client = client_for(engineer)

    response = client.post(
        reverse("knowledge:attachment_add", args=[article.pk]),
        {"file": SimpleUploadedFile("photo.jpg", b"GIF89a but not really", "image/jpeg")},
    )

    assert "两者都不是" in _follow_messages(client, response)
    assert not Attachment.objects.exists()


# -- The list ----------------------------------------------------------------------------------


def test_search_finds_by_title(engineer, service_manager, client_for, write):
    write(service_manager, State.PUBLISHED, title="净水器底部漏水")
    write(service_manager, State.PUBLISHED, title="电梯异响")

    html = client_for(engineer).get(reverse("knowledge:list"), {"q": "漏水"}).text

    assert "底部" in html
    assert "电梯异响" not in html


def test_often_failing_lists_the_highest_failure_rate_first(
    engineer, service_manager, client_for, write
):
    good = write(service_manager, State.PUBLISHED, title="好用的文章")
    bad = write(service_manager, State.PUBLISHED, title="常常无效的文章")
    never = write(service_manager, State.PUBLISHED, title="从未反馈的文章")
    Article.objects.filter(pk=good.pk).update(helped=9, failed=1)
    Article.objects.filter(pk=bad.pk).update(helped=1, failed=3)

    html = client_for(service_manager).get(reverse("knowledge:list"), {"failing": "1"}).text

    assert html.index("常常无效的文章") < html.index("好用的文章")
    assert never.title not in html


def test_state_filter_is_for_reviewers(engineer, service_manager, client_for, write):
    write(engineer, State.REVIEW, title="待审文章")

    assert (
        "待审文章"
        in client_for(service_manager).get(reverse("knowledge:list"), {"state": "review"}).text
    )
    # An engineer asking for another state gets the published list.
    assert (
        "待审文章"
        not in client_for(engineer).get(reverse("knowledge:list"), {"state": "review"}).text
    )


def test_review_queue_lists_articles_in_review(engineer, service_manager, client_for, write):
    write(engineer, State.REVIEW, title="等待审核")
    write(engineer, title="还是草稿")

    html = client_for(service_manager).get(reverse("knowledge:review_queue")).text

    assert "等待审核" in html
    assert "还是草稿" not in html


@pytest.mark.parametrize("params", [{}, {"q": "空调"}, {"failing": "1"}, {"state": "mine"}])
def test_list_query_budget_does_not_grow_with_rows(
    engineer, service_manager, client_for, write, line, params
):
    client = client_for(engineer)

    def fill(n):
        for i in range(n):
            write(service_manager, State.PUBLISHED, title=f"空调文章 {i}", product_line=line)
            write(engineer, title=f"空调草稿 {i}", product_line=line)
        Article.objects.update(failed=1)

    fill(2)
    few = count_queries(client, reverse("knowledge:list"), params)
    fill(12)
    many = count_queries(client, reverse("knowledge:list"), params)

    assert few == many, (few, many)
    assert few <= 14, few


NASTY = [
    "\x00",
    "a\x00b",
    "abc",
    "-1",
    "0",
    "99999999999999999999",
    "1e309",
    "%",
    "' OR 1=1 --",
    "１２３",
    "<script>",
]


@pytest.mark.parametrize(
    ("url_name", "names"),
    [
        ("knowledge:list", ["q", "product_line", "problem_type", "state", "failing", "page"]),
        ("knowledge:review_queue", ["page"]),
        ("knowledge:faultcode_list", ["q", "product_line", "page"]),
        ("knowledge:synonym_list", ["page"]),
        ("knowledge:template_list", ["page"]),
    ],
)
def test_garbage_parameters_never_break_a_page(service_manager, client_for, write, url_name, names):
    write(service_manager, State.PUBLISHED)
    client = client_for(service_manager)
    for name in names:
        for value in NASTY:
            response = client.get(reverse(url_name), {name: value})
            assert response.status_code == 200, (name, value)


# -- Managed lists -----------------------------------------------------------------------------


def test_manager_keeps_fault_codes_normalised(service_manager, client_for, line):
    client = client_for(service_manager)

    client.post(
        reverse("knowledge:faultcode_create"),
        {"product_line": line.pk, "code": "ｅ－５", "meaning": "排水故障"},
    )

    assert FaultCode.objects.get().code == "E5"
    assert "排水故障" in client.get(reverse("knowledge:faultcode_list")).text


def test_a_fault_code_named_by_articles_is_not_deleted(
    service_manager, client_for, write, codes, line
):
    write(service_manager, product_line=line, fault_codes=[codes["E4"]])

    client_for(service_manager).post(reverse("knowledge:faultcode_delete", args=[codes["E4"].pk]))
    client_for(service_manager).post(reverse("knowledge:faultcode_delete", args=[codes["E1"].pk]))

    assert list(FaultCode.objects.values_list("code", flat=True)) == ["E4"]


def test_synonyms_are_for_service_managers(service_manager, dispatcher, client_for):
    client_for(service_manager).post(
        reverse("knowledge:synonym_create"), {"word": "漏水", "variants": "渗水，滴水、跑水"}
    )
    synonym = Synonym.objects.get()

    assert synonym.variants == "渗水 滴水 跑水"
    assert synonym.updated_by == service_manager
    assert (
        client_for(dispatcher)
        .post(reverse("knowledge:synonym_delete", args=[synonym.pk]))
        .status_code
        == 403
    )
    assert Synonym.objects.exists()


def test_repair_templates_are_read_by_engineers_and_kept_by_managers(
    engineer, service_manager, client_for, line
):
    client_for(service_manager).post(
        reverse("knowledge:template_create"),
        {
            "name": "滤芯更换",
            "service_type": "maintenance",
            "product_line": line.pk,
            "steps": "关水\n换滤芯",
            "active": "on",
        },
    )

    html = client_for(engineer).get(reverse("knowledge:template_list")).text
    assert "滤芯更换" in html and "换滤芯" in html
    assert client_for(engineer).get(reverse("knowledge:template_create")).status_code == 403


# -- From a service request --------------------------------------------------------------------


def test_the_ticket_page_offers_a_draft_article_for_a_processed_request(
    dispatcher, engineer, service_manager, client_for, ac_model, codes
):
    unit = EquipmentFactory(product_model=ac_model)
    ticket = ticket_in_state(
        "processed",
        dispatcher=dispatcher,
        engineer=engineer,
        equipment=unit,
        customer=unit.customer,
    )
    open_ticket = ticket_in_state("assigned", dispatcher=dispatcher, engineer=engineer)
    client = client_for(service_manager)
    action = reverse("knowledge:from_ticket", args=[ticket.pk])

    assert action in client.get(reverse("tickets:detail", args=[ticket.pk])).text
    assert (
        reverse("knowledge:from_ticket", args=[open_ticket.pk])
        not in client.get(reverse("tickets:detail", args=[open_ticket.pk])).text
    )

    response = client.post(action)

    article = Article.objects.get()
    assert response["Location"] == reverse("knowledge:edit", args=[article.pk])
    assert article.source_ticket == ticket
    assert article.solution == "更换压缩机电容"
    assert article.fault_codes.get() == codes["E4"]  # the description says E4


def test_a_reader_cannot_draft_from_a_ticket(dispatcher, engineer, finance, client_for):
    ticket = ticket_in_state("processed", dispatcher=dispatcher, engineer=engineer)

    response = client_for(finance).post(reverse("knowledge:from_ticket", args=[ticket.pk]))

    assert response.status_code == 403
    assert not Article.objects.exists()


def test_article_page_query_budget_does_not_grow_with_versions_and_codes(
    service_manager, client_for, write, codes, line
):
    article = write(service_manager, State.PUBLISHED, product_line=line)
    client = client_for(service_manager)
    url = article.get_absolute_url()

    def edit(times, fault_codes):
        nonlocal article
        for _i in range(times):
            article.title = f"第 {article.version} 版"
            article = services.save_article(
                article, service_manager, fault_codes=fault_codes, version=article.version
            )

    edit(1, [codes["E1"]])
    few = count_queries(client, url)
    edit(10, [codes["E1"], codes["E4"]])
    many = count_queries(client, url)

    assert few == many, (few, many)


def test_choosing_a_line_brings_its_fault_codes(
    engineer, client_for, codes, line, other_line, write
):
    FaultCode.objects.create(product_line=other_line, code="E9", meaning="别的产品线")
    article = write(engineer, product_line=line)
    client = client_for(engineer)

    for url in (reverse("knowledge:create"), reverse("knowledge:edit", args=[article.pk])):
        part = client.get(url, {"product_line": other_line.pk}, HTTP_HX_REQUEST="true").text
        assert 'id="line-fields"' in part
        assert "别的产品线" in part
        assert "室外机通信故障" not in part
        assert "<html" not in part
        garbage = client.get(url, {"product_line": "x\x00"}, HTTP_HX_REQUEST="true")
        assert garbage.status_code == 200
