"""The article's rules (knowledge.services): saving with revisions, the lifecycle and its log,
refusals that change nothing, restoring and comparing versions, a draft from a request,
attachments checked by content."""

import io
import threading
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from PIL import Image

from aftersales.lib.actions import Refused
from knowledge import search, services
from knowledge.models import Article, ArticleRevision, ArticleTransition, Attachment, State
from tests.factories import EquipmentFactory, ProblemTypeFactory, ticket_in_state
from tickets.models import PartLine, Ticket

pytestmark = pytest.mark.django_db


# -- Saving and revisions ----------------------------------------------------------------------


def test_new_article_is_a_draft_with_its_first_revision_and_search_columns(
    engineer, write, codes, line, ac_model
):
    article = services.save_article(
        Article(title="显示 E4", symptom="不制冷", solution="检查通信线", product_line=line),
        engineer,
        fault_codes=[codes["E4"]],
        product_models=[ac_model],
    )

    assert article.state == State.DRAFT
    assert article.author == engineer
    assert article.version == 1
    revision = article.revisions.get()
    assert revision.number == 1
    assert revision.data["title"] == "显示 E4"
    assert revision.data["fault_codes"] == [codes["E4"].pk]
    assert revision.data["product_models"] == [ac_model.pk]
    assert revision.data["product_line"] == line.pk
    saved = Article.objects.get(pk=article.pk)
    assert [hit.article for hit in search.search("e-4", states=[saved.state])] == [saved]
    assert saved.search_symptom
    assert list(article.log.values_list("action", flat=True)) == ["create"]


def test_every_save_keeps_a_revision_and_raises_the_version(engineer, write):
    article = write(engineer)
    article.title = "新标题"
    article = services.save_article(article, engineer, version=1, note="改标题")

    assert article.version == 2
    assert list(article.revisions.values_list("number", "note")) == [(2, "改标题"), (1, "")]
    assert (
        ArticleRevision.objects.get(article=article, number=1).data["title"] == "空调不制冷显示 E4"
    )


def test_a_stale_edit_is_refused_and_saves_nothing(engineer, write):
    article = write(engineer)
    first = Article.objects.get(pk=article.pk)
    first.title = "第一人"
    services.save_article(first, engineer, version=1)
    second = Article.objects.get(pk=article.pk)
    second.title = "第二人，看到的是旧版本"

    with pytest.raises(Refused, match="changed by someone else"):
        services.save_article(second, engineer, version=1)

    fresh = Article.objects.get(pk=article.pk)
    assert fresh.title == "第一人"
    assert fresh.version == 2
    assert fresh.revisions.count() == 2


def test_a_fault_code_of_another_line_is_refused(engineer, write, line, other_line):
    from knowledge.models import FaultCode

    foreign = FaultCode.objects.create(product_line=other_line, code="E2", meaning="漏水保护")
    article = Article(title="x", symptom="y", solution="z", product_line=line)

    with pytest.raises(Refused, match="product line"):
        services.save_article(article, engineer, fault_codes=[foreign])
    assert not Article.objects.exists()


def test_an_engineer_may_not_edit_anothers_draft_or_a_published_article(
    engineer, make_user, service_manager, write
):
    from aftersales.roles import Role

    other = make_user(Role.ENGINEER, username="other-engineer")
    draft = write(other)
    published = write(engineer, State.PUBLISHED, reviewer=service_manager)

    for article in (draft, published):
        article.title = "改了"
        with pytest.raises(Refused):
            services.save_article(article, engineer, version=article.version)
        assert Article.objects.get(pk=article.pk).title != "改了"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_editors_of_one_version_cannot_both_win(engineer, service_manager, write):
    article = write(engineer)
    barrier = threading.Barrier(2)
    results = {}

    def edit(actor, title):
        try:
            barrier.wait(timeout=10)
            edited = Article.objects.get(pk=article.pk)
            edited.title = title
            services.save_article(edited, actor, version=1)
            results[title] = "ok"
        except Refused as refusal:
            results[title] = str(refusal)
        finally:
            connections.close_all()  # each thread used its own database connection

    threads = [
        threading.Thread(target=edit, args=(engineer, "工程师的修改")),
        threading.Thread(target=edit, args=(service_manager, "经理的修改")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(results.values()).count("ok") == 1
    winner = next(title for title, result in results.items() if result == "ok")
    saved = Article.objects.get(pk=article.pk)
    assert (saved.title, saved.version, saved.revisions.count()) == (winner, 2, 2)
    assert connection.vendor == "postgresql"


# -- The lifecycle -----------------------------------------------------------------------------


def test_lifecycle_is_logged_with_who_and_why(engineer, service_manager, write):
    article = write(engineer)
    article = services.perform(article, "submit", engineer)
    article = services.perform(article, "send_back", service_manager, "步骤不完整")
    article = services.perform(article, "submit", engineer)
    article = services.perform(article, "publish", service_manager)
    article = services.perform(article, "archive", service_manager, "型号停产")
    article = services.perform(article, "restore_draft", service_manager)

    log = list(
        ArticleTransition.objects.filter(article=article).values_list(
            "action", "source", "target", "actor", "reason"
        )
    )
    assert log == [
        ("create", "", "draft", engineer.pk, ""),
        ("submit", "draft", "review", engineer.pk, ""),
        ("send_back", "review", "draft", service_manager.pk, "步骤不完整"),
        ("submit", "draft", "review", engineer.pk, ""),
        ("publish", "review", "published", service_manager.pk, ""),
        ("archive", "published", "archived", service_manager.pk, "型号停产"),
        ("restore_draft", "archived", "draft", service_manager.pk, ""),
    ]
    assert Article.objects.get(pk=article.pk).published_at is not None


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (State.DRAFT, "send_back"),
        (State.DRAFT, "restore_draft"),
        (State.PUBLISHED, "submit"),
        (State.PUBLISHED, "publish"),
        (State.ARCHIVED, "publish"),
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(service_manager, write, state, action):
    article = write(service_manager, state)
    logged = ArticleTransition.objects.count()

    with pytest.raises(Refused, match="not possible while the article is"):
        services.perform(article, action, service_manager, "原因")

    assert Article.objects.get(pk=article.pk).state == state
    assert ArticleTransition.objects.count() == logged


def test_engineer_cannot_publish_own_draft(engineer, write):
    article = write(engineer, State.REVIEW)

    with pytest.raises(Refused, match="may not"):
        services.perform(article, "publish", engineer)
    assert Article.objects.get(pk=article.pk).state == State.REVIEW


def test_a_stale_button_is_refused(engineer, service_manager, write):
    article = write(engineer, State.REVIEW)
    changed = Article.objects.get(pk=article.pk)
    changed.title = "改过"
    services.save_article(changed, service_manager, version=1)

    with pytest.raises(Refused, match="changed by someone else"):
        services.perform(article, "publish", service_manager, version=1)
    assert Article.objects.get(pk=article.pk).state == State.REVIEW


def test_send_back_needs_a_reason(engineer, service_manager, write):
    article = write(engineer, State.REVIEW)

    with pytest.raises(Refused, match="reason"):
        services.perform(article, "send_back", service_manager, "  ")
    assert Article.objects.get(pk=article.pk).state == State.REVIEW


# -- Restore and compare -----------------------------------------------------------------------


def test_restore_makes_a_new_version_with_the_old_content(service_manager, write, codes, line):
    article = write(service_manager, product_line=line, fault_codes=[codes["E4"]])
    article.title = "第二版"
    article.solution = "完全不同的步骤"
    article = services.save_article(article, service_manager, fault_codes=[codes["E1"]], version=1)

    restored = services.restore_revision(article, article.revisions.get(number=1), service_manager)

    assert restored.version == 3
    assert restored.title == "空调不制冷显示 E4"
    assert restored.solution == "检查通信线\n更换室外主板"
    assert list(restored.fault_codes.all()) == [codes["E4"]]
    assert list(restored.revisions.values_list("number", flat=True)) == [3, 2, 1]
    # History is kept as it was.
    assert restored.revisions.get(number=2).data["title"] == "第二版"
    assert (
        "version 1" in restored.revisions.get(number=3).note
        or restored.revisions.get(number=3).note
    )


def test_compare_shows_changes_by_field_and_by_character(service_manager, write, codes, line):
    article = write(service_manager, product_line=line, fault_codes=[codes["E4"]])
    article.symptom = "开机后不制冷，室外机偶尔不转"
    article.solution = "检查通信线\n更换室外主板\n试机 15 分钟"
    article.labour_hours = Decimal("2.0")
    article = services.save_article(article, service_manager, fault_codes=[codes["E1"]], version=1)

    diffs = {d.name: d for d in services.compare(*article.revisions.order_by("number"))}

    assert not diffs["title"].changed
    assert diffs["symptom"].changed
    assert ("ins", "偶尔") in diffs["symptom"].lines[0]
    assert [("ins", "试机 15 分钟")] in diffs["solution"].lines
    assert [("same", "检查通信线")] in diffs["solution"].lines
    assert [("del", "E4 室外机通信故障")] in diffs["fault_codes"].lines
    assert [("ins", "E1 室内温度传感器故障")] in diffs["fault_codes"].lines
    assert diffs["labour_hours"].changed


# -- A draft from a request --------------------------------------------------------------------


def test_draft_from_a_processed_ticket_takes_symptom_cause_solution_parts_and_codes(
    dispatcher, engineer, service_manager, codes, ac_model
):
    unit = EquipmentFactory(product_model=ac_model)
    problem = ProblemTypeFactory(name="不制冷")
    ticket = ticket_in_state(
        "processed",
        dispatcher=dispatcher,
        engineer=engineer,
        equipment=unit,
        customer=unit.customer,
        problem_type=problem,
        description="空调不制冷，面板显示 e-4",
    )
    Ticket.objects.filter(pk=ticket.pk).update(analysis="通信线被老鼠咬断")
    visit = ticket.visits.get()
    visit.work_done = "更换通信线\n试机正常"
    visit.save()
    PartLine.objects.create(visit=visit, name="通信线 5m", quantity=Decimal("1.00"))
    ticket.refresh_from_db()

    article = services.draft_from_ticket(ticket, service_manager)

    assert article.state == State.DRAFT
    assert article.source_ticket == ticket
    assert article.title == "不制冷：空调不制冷，面板显示 e-4"
    assert article.symptom == "空调不制冷，面板显示 e-4"
    assert article.cause == "通信线被老鼠咬断"
    assert article.steps == ["更换通信线", "试机正常"]
    assert article.parts == "通信线 5m × 1"
    assert list(article.fault_codes.all()) == [codes["E4"]]
    assert article.product_line == ac_model.line
    assert list(article.product_models.all()) == [ac_model]
    assert article.log.filter(action="from_ticket", reason=ticket.number).exists()


def test_an_open_ticket_cannot_become_an_article(dispatcher, engineer, service_manager):
    ticket = ticket_in_state("assigned", dispatcher=dispatcher, engineer=engineer)

    with pytest.raises(Refused, match="work is done"):
        services.draft_from_ticket(ticket, service_manager)
    assert not Article.objects.exists()


def test_fault_codes_are_found_however_written(codes, line):
    found = services.find_fault_codes("显示Ｅ１，之后 E-4，再后来 e 4；KJ200 不算", line.pk)
    assert [c.code for c in found] == ["E1", "E4"]


# -- Attachments -------------------------------------------------------------------------------


def _png(size=(40, 30)):
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, "PNG")
    return out.getvalue()


def _pdf():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_image_is_re_encoded_and_a_pdf_kept(engineer, write, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    article = write(engineer)

    image = services.add_attachment(
        article, SimpleUploadedFile("photo.png", _png(), "image/png"), engineer
    )
    manual = services.add_attachment(
        article, SimpleUploadedFile("manual.pdf", _pdf(), "application/pdf"), engineer
    )

    assert image.kind == Attachment.Kind.IMAGE
    assert image.file.name.endswith(".jpg")
    assert image.name == "photo.png"
    assert manual.kind == Attachment.Kind.PDF
    assert manual.file.read(5) == b"%PDF-"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("manual.pdf", _png(), "name says"),  # a PNG named .pdf
        ("photo.png", _pdf(), "name says"),  # a PDF named .png
        ("photo.jpg", b"this is not an image at all", "neither"),
        ("manual.pdf", b"%PDF-1.4\nnot really a pdf", "damaged"),
        ("virus.exe", b"MZ\x90\x00" + b"\x00" * 100, "neither"),
    ],
)
def test_attachments_are_judged_by_content(
    engineer, write, settings, tmp_path, name, content, message
):
    settings.MEDIA_ROOT = tmp_path
    article = write(engineer)
    upload = SimpleUploadedFile(name, content)

    with pytest.raises(Refused, match=message):
        services.add_attachment(article, upload, engineer)
    assert not Attachment.objects.exists()


def test_a_reader_cannot_attach(engineer, finance, write, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    article = write(engineer)

    with pytest.raises(Refused):
        services.add_attachment(article, SimpleUploadedFile("a.png", _png()), finance)
    assert not Attachment.objects.exists()
