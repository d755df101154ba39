"""The GB/T 27922 self-assessment: the standard's levels, the items measured from a hand-made
history (tests/analytics/test_definitions.py: November 2026), scoring by hand with evidence,
the items' weights, who may do what, and the pages' query budgets."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from PIL import Image

from analytics import scorecard
from analytics.models import Assessment, Evidence, ItemScore, ScoreItem
from analytics.models.scorecard import Level, Metric, level_for
from tests.analytics.test_definitions import history  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
# The day the pages are used on: after November, so that a November period may be chosen.
DECEMBER = "2026-12-03 10:00 +08:00"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def D(text):
    return Decimal(str(text))


def png(size=(40, 30)):
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(name, content):
    return SimpleUploadedFile(name, content)


def scores_of(assessment):
    return {s.code: s for s in assessment.scores.all()}


def form_data(assessment, points=None, notes=None, **extra):
    """The edit page's POST: `points` {code: value} for the items scored by hand."""
    data = {}
    for s in assessment.scores.all():
        if not s.measured:
            value = (points or {}).get(s.code)
            data[f"s{s.pk}-points"] = "" if value is None else str(value)
        data[f"s{s.pk}-note"] = (notes or {}).get(s.code, "")
    data.update(extra)
    return data


def points_for_total(assessment, total):
    """Points per item scored by hand that make `total` (full points, minus what must be lost,
    taken from the items in order)."""
    scores = list(assessment.scores.all())
    losing = D(100) - D(total)
    points = {}
    for s in scores:
        take = min(losing, s.max_points)
        points[s.code] = s.max_points - take
        losing -= take
    return points


# --- The standard's levels and the default scorecard -----------------------------------------


@pytest.mark.parametrize(
    ("total", "level"),
    [
        ("0", Level.NONE),
        ("69.9", Level.NONE),
        ("70", Level.QUALIFIED),
        ("79.9", Level.QUALIFIED),
        ("80", Level.THREE_STARS),
        ("89.9", Level.THREE_STARS),
        ("90", Level.FOUR_STARS),
        ("94.9", Level.FOUR_STARS),
        ("95", Level.FIVE_STARS),
        ("100", Level.FIVE_STARS),
    ],
)
def test_the_gbt_27922_thresholds(total, level):
    assert level_for(D(total)) == level


def test_the_default_items_share_100_points_over_the_three_areas():
    items = list(ScoreItem.objects.all())
    assert sum(i.max_points for i in items) == 100
    per_area = {}
    for item in items:
        per_area[item.area] = per_area.get(item.area, 0) + item.max_points
    assert per_area == {"system": 30, "goods": 30, "customer": 40}
    measured = {i.code: i.metric for i in items if i.metric}
    assert measured == {
        "G3": Metric.ARRIVAL,
        "G4": Metric.FIRST_TIME_FIX,
        "C1": Metric.RESPONSE,
        "C2": Metric.REVISIT_COVERAGE,
        "C3": Metric.SATISFACTION,
    }
    # Complaints, parts and training are not recorded yet: scored by hand, and said so.
    awaiting = {i.code: i.awaits for i in items if i.awaits}
    assert awaiting == {"C4": "complaints", "G5": "parts", "S4": "training"}


@pytest.mark.parametrize(
    ("value", "points"),
    [
        ("100", "8"),
        ("95", "8"),  # the target: full points
        ("82.5", "4"),  # half-way between floor and target
        ("76.25", "2"),
        ("70", "0"),  # the floor: none
        ("12", "0"),
        ("94.99", "8"),  # 7.9968 rounds to 8.0
    ],
)
def test_a_measured_value_earns_points_linearly_between_floor_and_target(value, points):
    assert scorecard.points_for(D(value), D(95), D(70), D(8)) == D(points)


def test_satisfaction_on_its_own_scale():
    assert scorecard.points_for(D(4), D("4.5"), D(3), D(10)) == D("6.7")
    assert scorecard.points_for(None, D("4.5"), D(3), D(10)) is None


# --- Measured items from the hand-made history ------------------------------------------------


def test_measured_items_are_scored_from_the_periods_figures(history, manager):  # noqa: F811
    assessment = scorecard.start_assessment(manager, *NOVEMBER)
    scores = scores_of(assessment)
    # Arrival: T1 and T2 checked in before their due time (2 of 2) → 100 % ≥ 95: all 6 points.
    assert (scores["G3"].value, scores["G3"].points) == (D(100), D(6))
    # First-time fix: T1 yes, T2 two rounds → 50 % ≤ the floor of 60: none of 8.
    assert (scores["G4"].value, scores["G4"].points) == (D(50), D(0))
    # Response: T1 in time, T2 breached, T3 late → 33.33 % ≤ 70: none of 8.
    assert (scores["C1"].value, scores["C1"].points) == (D("33.33"), D(0))
    # Revisit coverage: 2 revisits / 2 processed → 100 %: all 6.
    assert (scores["C2"].value, scores["C2"].points) == (D(100), D(6))
    # Satisfaction: (5 + 3) / 2 = 4.0, between 3 and 4.5 → 10 × 1/1.5 × … = 6.7 of 10.
    assert (scores["C3"].value, scores["C3"].points) == (D(4), D("6.7"))
    # The others wait for the manager.
    assert all(s.points is None for s in scores.values() if not s.metric)
    assessment.refresh_from_db()
    assert assessment.total == D("18.7") and assessment.level == Level.NONE


def test_a_period_without_figures_leaves_measured_items_to_the_manager(history, manager):  # noqa: F811
    assessment = scorecard.start_assessment(manager, date(2026, 6, 1), date(2026, 6, 30))
    c1 = scores_of(assessment)["C1"]
    assert c1.value is None and c1.points is None and not c1.measured
    # …who may then score it by hand.
    scorecard.save_draft(assessment.pk, manager, {c1.pk: {"points": D(5), "note": "抽查记录"}})
    c1.refresh_from_db()
    assert c1.points == D(5)


def test_the_measured_points_cannot_be_overwritten_by_hand(history, manager):  # noqa: F811
    assessment = scorecard.start_assessment(manager, *NOVEMBER)
    g3 = scores_of(assessment)["G3"]
    scorecard.save_draft(assessment.pk, manager, {g3.pk: {"points": D(1), "note": "到场记录"}})
    g3.refresh_from_db()
    assert g3.points == D(6) and g3.note == "到场记录"


def test_starting_an_assessment_through_the_page(history, manager_client):  # noqa: F811
    with time_machine.travel(DECEMBER, tick=False):
        page = manager_client.get(reverse("analytics:scorecard_new"))
        assert page.status_code == 200
        # The last twelve whole months are offered.
        assert b'value="2025-12-01"' in page.content and b'value="2026-11-30"' in page.content
        response = manager_client.post(
            reverse("analytics:scorecard_new"), {"start": "2026-11-01", "end": "2026-11-30"}
        )
    assessment = Assessment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("analytics:scorecard_edit", args=[assessment.pk])
    assert assessment.total == D("18.7") and assessment.is_draft
    page = manager_client.get(response["Location"])
    text = page.content.decode()
    assert "一次修复" in text and "50%" in text  # the measured first-time fix, shown
    # The items the system cannot measure yet say so.
    assert "投诉模块" in text or "complaints module" in text


@pytest.mark.parametrize(
    "period",
    [
        {"start": "2026-11-30", "end": "2026-11-01"},  # backwards
        {"start": "2026-11-01", "end": "2026-12-31"},  # ends after today
        {"start": "2019-01-01", "end": "2026-11-30"},  # longer than five years
        {"start": "garbage", "end": "\x00"},
        {},
    ],
)
def test_a_wrong_period_is_refused(manager_client, period):
    with time_machine.travel(DECEMBER, tick=False):
        response = manager_client.post(reverse("analytics:scorecard_new"), period)
    assert response.status_code == 200
    assert not Assessment.objects.exists()


# --- Scoring by hand ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "level"),
    [
        ("69.9", Level.NONE),  # 未达标
        ("70", Level.QUALIFIED),  # 达标
        ("80", Level.THREE_STARS),  # 三星
        ("90", Level.FOUR_STARS),  # 四星
        ("95", Level.FIVE_STARS),  # 五星
    ],
)
def test_the_level_of_a_finalized_assessment(manager, manager_client, total, level):
    # No requests at all: every item, measured ones included, is scored by hand.
    assessment = scorecard.start_assessment(manager, *NOVEMBER)
    points = points_for_total(assessment, total)
    response = manager_client.post(
        reverse("analytics:scorecard_edit", args=[assessment.pk]),
        form_data(assessment, points, finalize="1"),
    )
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.state == Assessment.State.FINAL
    assert (assessment.total, assessment.level) == (D(total), level)
    page = manager_client.get(assessment.get_absolute_url()).content.decode()
    with translation.override("zh-hans"):
        assert f'id="level">{level.label}<' in page


def test_points_above_the_items_maximum_are_refused_and_nothing_is_saved(manager, manager_client):
    assessment = scorecard.start_assessment(manager, *NOVEMBER)
    s1, s2 = scores_of(assessment)["S1"], scores_of(assessment)["S2"]
    data = form_data(
        assessment,
        {"S1": "5", "S2": str(s2.max_points + 1)},
        notes={"S1": "制度文件齐全"},
    )
    data[f"s{s1.pk}-files"] = upload("证书.png", png())
    response = manager_client.post(reverse("analytics:scorecard_edit", args=[assessment.pk]), data)
    assert response.status_code == 200
    assert "nothing was saved" in response.content.decode() or "未保存" in response.content.decode()
    s1.refresh_from_db()
    assert s1.points is None and s1.note == ""  # the valid item was not saved either
    assert not Evidence.objects.exists()


def test_the_service_refuses_points_above_the_maximum_whole(manager):
    assessment = scorecard.start_assessment(manager, *NOVEMBER)
    s1, s2 = scores_of(assessment)["S1"], scores_of(assessment)["S2"]
    with pytest.raises(scorecard.ScorecardError):
        scorecard.save_draft(
            assessment.pk,
            manager,
            {
                s1.pk: {"points": D(5), "note": "好"},
                s2.pk: {"points": s2.max_points + D("0.1"), "note": ""},
            },
        )
    s1.refresh_from_db()
    assert (s1.points, s1.note) == (None, "")


def test_finalizing_needs_every_item_scored(manager, manager_client):
    assessment = scorecard.start_assessment(manager, *NOVEMBER)
    points = points_for_total(assessment, "100")
    del points["C6"]
    response = manager_client.post(
        reverse("analytics:scorecard_edit", args=[assessment.pk]),
        form_data(assessment, points, finalize="1"),
        follow=True,
    )
    assessment.refresh_from_db()
    assert assessment.is_draft
    assert assessment.total == D(96)  # the draft was saved: C6's 4 points are missing
    assert "C6" in response.content.decode()


def test_a_final_assessment_is_no_longer_changed(manager, manager_client):
    assessment = scorecard.start_assessment(manager, *NOVEMBER)
    scorecard.save_draft(
        assessment.pk,
        manager,
        {s.pk: {"points": s.max_points} for s in assessment.scores.all()},
    )
    scorecard.finalize(assessment.pk, manager)
    edit = reverse("analytics:scorecard_edit", args=[assessment.pk])
    assert manager_client.get(edit)["Location"] == assessment.get_absolute_url()
    response = manager_client.post(edit, form_data(assessment, {"S1": "0"}))
    assert response.status_code == 302
    assert ItemScore.objects.get(assessment=assessment, code="S1").points == 6
    with pytest.raises(scorecard.ScorecardError):
        scorecard.delete_draft(assessment.pk, manager)
    response = manager_client.post(reverse("analytics:scorecard_delete", args=[assessment.pk]))
    assert Assessment.objects.filter(pk=assessment.pk).exists()


def test_the_page_lists_the_items_losing_the_most_points_as_next_steps(manager, manager_client):
    assessment = scorecard.start_assessment(manager, *NOVEMBER)
    points = points_for_total(assessment, "100")
    points.update({"C3": "2", "G4": "5", "S5": "5.5"})  # lose 8, 3 and 0.5
    manager_client.post(
        reverse("analytics:scorecard_edit", args=[assessment.pk]), form_data(assessment, points)
    )
    page = manager_client.get(assessment.get_absolute_url()).content.decode()
    steps = page[page.index('id="next-steps"') : page.index("</ol>")]
    assert steps.index("C3 顾客满意度") < steps.index("G4 一次修复") < steps.index("S5 ")
    assert "S1 " not in steps  # full points: no next step
    assessment.refresh_from_db()
    assert assessment.total == D("88.5") and assessment.level == Level.THREE_STARS
    # Per-area subtotals: customer service lost 8 of 40, goods 3 of 30, system 0.5 of 30.
    areas = page[page.index('id="areas"') : page.index('id="next-steps"')]
    assert ">32<" in areas and ">27<" in areas and ">29.5<" in areas


def test_deleting_a_draft(manager, manager_client):
    assessment = scorecard.start_assessment(manager, *NOVEMBER)
    response = manager_client.post(reverse("analytics:scorecard_delete", args=[assessment.pk]))
    assert response["Location"] == reverse("analytics:scorecard")
    assert not Assessment.objects.exists()


# --- Evidence files --------------------------------------------------------------------------


def post_files(client, assessment, code, *files):
    score = scores_of(assessment)[code]
    data = form_data(assessment)
    data[f"s{score.pk}-files"] = list(files)
    return client.post(reverse("analytics:scorecard_edit", args=[assessment.pk]), data)


def test_a_photo_is_re_encoded_and_a_pdf_kept_under_new_names(manager, manager_client):
    assessment = scorecard.start_assessment(manager, *NOVEMBER)
    response = post_files(
        manager_client,
        assessment,
        "S4",
        upload("培训记录.png", png()),
        upload("../../培训证书.pdf", PDF),
    )
    assert response.status_code == 302
    photo, pdf = Evidence.objects.order_by("id")
    assert photo.kind == "image" and photo.original_name == "培训记录.png"
    assert photo.file.name.startswith("scorecard/") and photo.file.name.endswith(".jpg")
    assert photo.file.open("rb").read(3) == b"\xff\xd8\xff"  # a JPEG now
    assert pdf.kind == "pdf" and pdf.original_name == "培训证书.pdf"
    assert "培训" not in pdf.file.name and pdf.file.name.endswith(".pdf")
    # Served through the access-checked view: the photo shown, the PDF downloaded.
    shown = manager_client.get(photo.get_absolute_url())
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    got = manager_client.get(pdf.get_absolute_url())
    assert got.status_code == 200 and got["Content-Type"] == "application/pdf"
    assert got["Content-Disposition"].startswith("attachment")
    # The detail page links them; removing one deletes the row.
    page = manager_client.get(assessment.get_absolute_url()).content.decode()
    assert photo.get_absolute_url() in page and "培训证书.pdf" in page
    s4 = scores_of(assessment)["S4"]
    data = form_data(assessment)
    data[f"s{s4.pk}-remove"] = [str(pdf.pk)]
    manager_client.post(reverse("analytics:scorecard_edit", args=[assessment.pk]), data)
    assert list(Evidence.objects.values_list("pk", flat=True)) == [photo.pk]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.png", b"this is not an image"),
        ("page.pdf", b"<html><script>alert(1)</script></html>"),
        ("cut.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>"),  # no end-of-file marker
        ("run.exe", b"MZ\x90\x00\x03"),
        ("empty.png", b""),
    ],
)
def test_files_that_are_not_photos_or_pdfs_are_refused(manager, manager_client, name, content):
    assessment = scorecard.start_assessment(manager, *NOVEMBER)
    response = post_files(
        manager_client, assessment, "S4", upload("ok.png", png()), upload(name, content)
    )
    assert response.status_code == 200
    assert name in response.content.decode()  # says which file
    assert not Evidence.objects.exists()  # the good one is not kept alone


def test_a_large_file_is_refused_unopened(manager, manager_client, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    assessment = scorecard.start_assessment(manager, *NOVEMBER)
    response = post_files(manager_client, assessment, "S4", upload("big.pdf", PDF + b" " * 2000))
    assert response.status_code == 200 and not Evidence.objects.exists()


# --- Items and their points -----------------------------------------------------------------


def items_data(**changes):
    """The items page's POST with `changes` {code: {field: value}}."""
    data = {}
    for item in ScoreItem.objects.all():
        row = {"max_points": item.max_points, "target": item.target, "floor": item.floor}
        row.update(changes.get(item.code, {}))
        for name, value in row.items():
            if name == "max_points" or item.metric:
                data[f"i{item.pk}-{name}"] = "" if value is None else str(value)
    return data


def test_the_items_points_must_add_up_to_100(manager_client):
    url = reverse("analytics:scorecard_items")
    response = manager_client.post(url, items_data(S1={"max_points": "7"}))
    assert response.status_code == 200
    assert "101" in response.content.decode()  # what they add up to, said
    assert ScoreItem.objects.get(code="S1").max_points == 6  # nothing saved
    # Moving a point from S1 to C3 and changing a target is saved.
    response = manager_client.post(
        url,
        items_data(S1={"max_points": "5"}, C3={"max_points": "11", "target": "4.6"}),
    )
    assert response.status_code == 302
    c3 = ScoreItem.objects.get(code="C3")
    assert (c3.max_points, c3.target) == (11, D("4.6"))


def test_a_measured_items_floor_must_stay_below_its_target(manager_client):
    url = reverse("analytics:scorecard_items")
    for change in ({"floor": "96"}, {"target": "101"}, {"target": ""}, {"floor": "abc"}):
        response = manager_client.post(url, items_data(C1=change))
        assert response.status_code == 200
    c1 = ScoreItem.objects.get(code="C1")
    assert (c1.target, c1.floor) == (95, 70)
    response = manager_client.post(url, items_data(C3={"target": "6"}))  # satisfaction is 1–5
    assert ScoreItem.objects.get(code="C3").target == D("4.5")


def test_an_assessment_keeps_the_points_it_was_started_with(manager, manager_client):
    assessment = scorecard.start_assessment(manager, *NOVEMBER)
    manager_client.post(
        reverse("analytics:scorecard_items"),
        items_data(S1={"max_points": "2"}, S2={"max_points": "10"}),
    )
    assert scores_of(assessment)["S1"].max_points == 6
    assert ScoreItem.objects.get(code="S1").max_points == 2


# --- Who may do what; garbage in ------------------------------------------------------------


def every_page(assessment, evidence):
    return [
        ("get", reverse("analytics:scorecard")),
        ("get", reverse("analytics:scorecard_new")),
        ("post", reverse("analytics:scorecard_new")),
        ("get", reverse("analytics:scorecard_items")),
        ("post", reverse("analytics:scorecard_items")),
        ("get", reverse("analytics:scorecard_detail", args=[assessment.pk])),
        ("get", reverse("analytics:scorecard_edit", args=[assessment.pk])),
        ("post", reverse("analytics:scorecard_edit", args=[assessment.pk])),
        ("post", reverse("analytics:scorecard_finalize", args=[assessment.pk])),
        ("post", reverse("analytics:scorecard_delete", args=[assessment.pk])),
        ("get", reverse("analytics:scorecard_file", args=[evidence.pk])),
    ]


@pytest.fixture
def assessment_with_file(manager, manager_client):
    assessment = scorecard.start_assessment(manager, *NOVEMBER)
    post_files(manager_client, assessment, "S1", upload("a.png", png()))
    return assessment, Evidence.objects.get()


@pytest.mark.parametrize("who", ["engineer_client", "dispatcher_client"])
def test_engineers_and_dispatchers_are_refused_everything(request, who, assessment_with_file):
    client = request.getfixturevalue(who)
    for method, url in every_page(*assessment_with_file):
        assert getattr(client, method)(url).status_code == 403, url
    assert Assessment.objects.filter(state="draft").count() == 1


def test_anonymous_people_are_sent_to_sign_in(client, assessment_with_file):
    for method, url in every_page(*assessment_with_file):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_a_service_manager_may_view_and_score(service_manager_client, assessment_with_file):
    assessment, evidence = assessment_with_file
    assert service_manager_client.get(reverse("analytics:scorecard")).status_code == 200
    url = reverse("analytics:scorecard_edit", args=[assessment.pk])
    assert service_manager_client.get(url).status_code == 200
    assert service_manager_client.get(evidence.get_absolute_url()).status_code == 200


def test_garbage_never_gives_an_error_page(manager_client, assessment_with_file):
    assessment, evidence = assessment_with_file
    s1 = scores_of(assessment)["S1"]
    pages = [
        reverse("analytics:scorecard") + "?page=abc&start=garbage&end=\x00",
        reverse("analytics:scorecard") + "?page=99999",
        reverse("analytics:scorecard_new") + "?start=%00",
        assessment.get_absolute_url() + "?x=%00",
    ]
    for url in pages:
        assert manager_client.get(url).status_code == 200, url
    for url in ("/analytics/scorecard/999999/", "/analytics/scorecard/files/999999/"):
        assert manager_client.get(url).status_code == 404
    edit = reverse("analytics:scorecard_edit", args=[assessment.pk])
    for value in ("abc", "NaN", "-1", "1e999", "Infinity", "\x00", "5.55"):
        response = manager_client.post(edit, form_data(assessment, {"S1": value}))
        assert response.status_code == 200, value
    for extra in (
        {f"s{s1.pk}-remove": ["abc"]},
        {f"s{s1.pk}-remove": ["999999"]},
        {f"s{s1.pk}-files": "not a file"},
        {f"s{s1.pk}-note": "x" * 5000},
        {f"s{s1.pk}-note": "\x00"},
    ):
        response = manager_client.post(edit, form_data(assessment) | extra)
        assert response.status_code in (200, 302), extra
    assert Evidence.objects.count() == 1
    items = reverse("analytics:scorecard_items")
    for data in ({}, {"i1-max_points": "abc"}, {"x": "\x00"}):
        assert manager_client.post(items, data).status_code == 200
    assert sum(i.max_points for i in ScoreItem.objects.all()) == 100
    for url in (
        reverse("analytics:scorecard_finalize", args=[999999]),
        reverse("analytics:scorecard_delete", args=[999999]),
    ):
        assert manager_client.post(url).status_code == 404
    assert manager_client.get(reverse("analytics:scorecard_finalize", args=[1])).status_code == 405


# --- History, trend, pages at 375 px and query budgets ----------------------------------------


def finalized(manager, start, end, total):
    assessment = scorecard.start_assessment(manager, start, end)
    points = points_for_total(assessment, total)
    scorecard.save_draft(
        assessment.pk,
        manager,
        {s.pk: {"points": D(points[s.code])} for s in assessment.scores.all()},
    )
    return scorecard.finalize(assessment.pk, manager)


def test_the_list_shows_the_history_and_the_trend_of_final_totals(manager, manager_client):
    finalized(manager, date(2024, 1, 1), date(2024, 12, 31), "72")
    finalized(manager, date(2025, 1, 1), date(2025, 12, 31), "85.5")
    scorecard.start_assessment(manager, *NOVEMBER)  # a draft: listed, not in the trend
    page = manager_client.get(reverse("analytics:scorecard")).content.decode()
    assert page.count("data-assessment=") == 3
    start = page.index('id="chart-trend"')
    spec = json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)])
    assert spec["options"]["series"][0]["data"] == [72.0, 85.5]
    assert [line["yAxis"] for line in spec["options"]["series"][0]["markLine"]["data"]] == [
        70,
        80,
        90,
        95,
    ]
    # The report tabs include the self-assessment.
    overview = manager_client.get(reverse("analytics:overview")).content.decode()
    assert reverse("analytics:scorecard") in overview


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_list_costs_the_same_queries_whatever_the_number_of_assessments(
    manager, manager_client
):
    url = reverse("analytics:scorecard")
    finalized(manager, date(2025, 1, 1), date(2025, 12, 31), "80")
    queries(manager_client, url)  # warm the per-process caches (report choices)
    few = queries(manager_client, url)
    for year in range(2015, 2024):
        finalized(manager, date(year, 1, 1), date(year, 12, 31), "90")
    assert queries(manager_client, url) == few


def test_the_detail_and_edit_pages_cost_the_same_whatever_the_number_of_files(
    manager, manager_client
):
    assessment = scorecard.start_assessment(manager, *NOVEMBER)
    post_files(manager_client, assessment, "S1", upload("a.png", png()))
    urls = [
        assessment.get_absolute_url(),
        reverse("analytics:scorecard_edit", args=[assessment.pk]),
    ]
    for url in urls:
        queries(manager_client, url)
    few = [queries(manager_client, url) for url in urls]
    for code in ("S2", "S3", "C4"):
        post_files(manager_client, assessment, code, upload("b.png", png()), upload("c.pdf", PDF))
    assert [queries(manager_client, url) for url in urls] == few
