"""The engineer assessment (工程师考核): the score, each column, sorting, the weights, and each
engineer's own page.

The hand-made month (November 2026, a 7×24 calendar; a normal request must be responded to
within 60 minutes, reached within 120 and resolved within 240):

    service point 北站: 赵一 three requests, 钱二 one request in two rounds;
    service point 南站: 孙三 one request.

    赵一  entered 09:00; assigned  +10 / +30 / +90 min (the last late),
                         checked in +60 / +100 / +150 (the last late),
                         resolved  +180 / +200 / +300 (the last late);
                         hours 2 / 1 / 3; revisit scores 5 / 4 / 5.
    钱二  assigned +20, checked in +60, not resolved +90, assigned again +120, checked in +150,
          resolved +200; hours 1 + 1; score 3.
    孙三  assigned +10, checked in +60, resolved +120; 1 hour; score 5.

With the default weights (jobs 15, hours 5, response 10, arrival 10, resolution 15, first-time
fix 15, rounds 10, satisfaction 20) the scores are 86.7 (赵一), 56.7 (钱二) and 85.8 (孙三),
worked out by hand in `test_scores_of_the_month`.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales.models import BusinessCalendar
from aftersales.roles import Role
from analytics import refresh
from analytics.figures import Scope, next_generation
from analytics.models import AssessmentWeights
from analytics.models.assessment import PARTS, score
from analytics.views.engineers import assessment
from customers.models import Priority
from tests.factories import (
    CustomerFactory,
    EngineerProfileFactory,
    ServiceAgreementFactory,
    ServicePointFactory,
    UserFactory,
    enter_ticket,
    ticket_in_state,
)
from tickets import services
from tickets.models import Revisit, Visit

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOVEMBER = Scope(date(2026, 11, 1), date(2026, 11, 30))
PERIOD = "start=2026-11-01&end=2026-11-30"
DEFAULTS = dict(PARTS)


def at(minutes, day=10):
    return datetime(2026, 11, day, 9, 0, tzinfo=SH) + timedelta(minutes=minutes)


# --- The score on hand-made numbers --------------------------------------------------------


def sums(**values):
    row = {
        "closed": 0,
        "labour_hours": Decimal(0),
        "first_time_fix": 0,
        "rounds": 0,
        "score_sum": 0,
        "scored": 0,
        **{f"{t}_{o}": 0 for t in ("response", "arrival", "resolution") for o in ("ok", "late")},
    }
    row.update(values)
    return row


def test_score_of_a_perfect_engineer_is_100():
    row = sums(
        closed=4,
        labour_hours=Decimal(8),
        first_time_fix=4,
        rounds=4,
        score_sum=20,
        scored=4,
        response_ok=4,
        arrival_ok=4,
        resolution_ok=4,
    )
    assert score(row, DEFAULTS, {"closed": 4, "labour_hours": 8}) == pytest.approx(100)


def test_score_weighs_each_part():
    # jobs 2/4, hours 3/6, response 1/2, arrival 1, resolution 0, first-time fix 1/2,
    # rounds 1 / (3/2) = 2/3, satisfaction (3 − 1) / 4 = 1/2.
    row = sums(
        closed=2,
        labour_hours=Decimal(3),
        first_time_fix=1,
        rounds=3,
        score_sum=6,
        scored=2,
        response_ok=1,
        response_late=1,
        arrival_ok=2,
        resolution_late=2,
    )
    most = {"closed": 4, "labour_hours": Decimal(6)}
    expected = 15 * 0.5 + 5 * 0.5 + 10 * 0.5 + 10 * 1 + 15 * 0 + 15 * 0.5 + 10 * 2 / 3 + 20 * 0.5
    assert score(row, DEFAULTS, most) == pytest.approx(expected)
    only_arrival = dict.fromkeys(PARTS, 0) | {"arrival": 100}
    assert score(row, only_arrival, most) == pytest.approx(100)


def test_parts_without_a_value_are_left_out_with_their_weight():
    # Nothing closed and no SLA target but the response: only the response (met) counts, and
    # the jobs and hours (0 of the most).
    row = sums(response_ok=1)
    most = {"closed": 2, "labour_hours": Decimal(4)}
    assert score(row, DEFAULTS, most) == pytest.approx(100 * 10 / (15 + 5 + 10))
    weights = dict.fromkeys(PARTS, 0) | {"satisfaction": 100}
    assert score(row, weights, most) is None  # the one weighted part has nothing to go by
    assert score(sums(), DEFAULTS, {"closed": 0, "labour_hours": 0}) is None


# --- The hand-made month -------------------------------------------------------------------


def run_job(engineer, dispatcher, agent, customer, *, steps, hours, revisit_score):
    """A request entered at 09:00 on 10 November and taken through `steps` [(minutes after
    entry, action)], then revisited an hour after the last with `revisit_score`."""
    with time_machine.travel(at(0), tick=False):
        ticket = enter_ticket(dispatcher, customer=customer, priority=Priority.NORMAL)
    hours = list(hours)
    for minutes, action in steps:
        with time_machine.travel(at(minutes), tick=False):
            if action == "assign":
                ticket = services.perform(ticket, "assign", dispatcher, engineer=engineer)
            elif action == "check_in":
                ticket = services.check_in(ticket, engineer)
                Visit.objects.filter(ticket=ticket, result="").update(labour_hours=hours.pop(0))
            elif action == "not_resolved":
                ticket = services.perform(ticket, "not_resolved", engineer, reason="缺少备件")
                Visit.objects.filter(ticket=ticket, result="").update(result="not_resolved")
            else:
                ticket = services.perform(ticket, "resolve", engineer, then=close_visits)
    with time_machine.travel(at(steps[-1][0] + 60), tick=False):
        ticket = services.record_revisit(
            ticket, agent, version=None, outcome=Revisit.Outcome.SATISFIED, score=revisit_score
        )
    return ticket


def close_visits(ticket):
    ticket.visits.filter(result="").update(result="resolved", finished_at=at(0))


def loop(assign, check_in, resolve):
    return [(assign, "assign"), (check_in, "check_in"), (resolve, "resolve")]


@pytest.fixture
def month(dispatcher, make_user):
    """The three engineers' month (see the module's docstring); returns them by name."""
    agent = make_user(Role.REVISIT_AGENT)
    calendar = BusinessCalendar.objects.get(code="7x24")
    customer = CustomerFactory()
    ServiceAgreementFactory(
        customer=customer,
        calendar=calendar,
        start_date=date(2026, 1, 1),
        end_date=date(2027, 12, 31),
        targets={Priority.NORMAL: (60, 120, 240)},
    )
    north = ServicePointFactory(name="北站")
    south = ServicePointFactory(name="南站")
    people = {}
    for name, point in (("赵一", north), ("钱二", north), ("孙三", south)):
        user = UserFactory(username=f"eng-{len(people)}", display_name=name, roles=[Role.ENGINEER])
        people[name] = EngineerProfileFactory(user=user, service_point=point).user
    job = {"dispatcher": dispatcher, "agent": agent, "customer": customer}
    zhao, qian, sun = people["赵一"], people["钱二"], people["孙三"]
    run_job(zhao, **job, steps=loop(10, 60, 180), hours=[2], revisit_score=5)
    run_job(zhao, **job, steps=loop(30, 100, 200), hours=[1], revisit_score=4)
    run_job(zhao, **job, steps=loop(90, 150, 300), hours=[3], revisit_score=5)
    two_rounds = [
        (20, "assign"),
        (60, "check_in"),
        (90, "not_resolved"),
        (120, "assign"),
        (150, "check_in"),
        (200, "resolve"),
    ]
    run_job(qian, **job, steps=two_rounds, hours=[1, 1], revisit_score=3)
    run_job(sun, **job, steps=loop(10, 60, 120), hours=[1], revisit_score=5)
    refresh.refresh_all()
    return {**people, "北站": north, "南站": south}


def by_engineer(rows):
    return {row["engineer_id"]: row for row in rows}


def test_each_column_of_the_month(month):
    engineers, points = assessment(NOVEMBER, DEFAULTS)
    rows = by_engineer(engineers)
    zhao, qian, sun = rows[month["赵一"].pk], rows[month["钱二"].pk], rows[month["孙三"].pk]
    assert len(engineers) == 3

    assert zhao["closed"] == 3
    assert zhao["response"] == zhao["arrival"] == zhao["resolution"] == pytest.approx(2 / 3)
    assert zhao["first_time_fix"] == 1
    assert zhao["rounds"] == 1
    assert zhao["satisfaction"] == pytest.approx(14 / 3)
    assert zhao["hours"] == Decimal(6)
    assert zhao["breaches"] == 3
    assert zhao["resolution_hours"] == pytest.approx((180 + 200 + 300) / 3 / 60)
    assert zhao["service_point_id"] == month["北站"].pk

    assert qian["closed"] == 1
    assert (qian["response"], qian["arrival"], qian["resolution"]) == (1, 1, 1)
    assert qian["first_time_fix"] == 0
    assert qian["rounds"] == 2
    assert qian["satisfaction"] == 3
    assert qian["hours"] == Decimal(2)
    assert qian["breaches"] == 0
    assert qian["resolution_hours"] == pytest.approx(200 / 60)

    assert (sun["closed"], sun["first_time_fix"], sun["breaches"]) == (1, 1, 0)
    assert sun["resolution_hours"] == pytest.approx(2)

    north, south = (
        {p["service_point_id"]: p for p in points}[month[name].pk] for name in ("北站", "南站")
    )
    assert north["engineers"] == 2 and south["engineers"] == 1
    assert north["closed"] == 4
    assert north["response"] == north["first_time_fix"] == pytest.approx(3 / 4)
    assert north["rounds"] == pytest.approx(5 / 4)
    assert north["satisfaction"] == pytest.approx(17 / 4)
    assert (north["hours"], north["breaches"]) == (Decimal(8), 3)
    assert north["resolution_hours"] == pytest.approx((680 + 200) / 4 / 60)


def test_scores_of_the_month(month):
    engineers, points = assessment(NOVEMBER, DEFAULTS)
    rows = by_engineer(engineers)
    # Most closed 3, most hours 6.
    zhao = 15 * 1 + 5 * 1 + 10 * 2 / 3 + 10 * 2 / 3 + 15 * 2 / 3 + 15 * 1 + 10 * 1 + 20 * (11 / 12)
    qian = 15 / 3 + 5 * 2 / 6 + 10 + 10 + 15 + 15 * 0 + 10 * 0.5 + 20 * 0.5
    sun = 15 / 3 + 5 / 6 + 10 + 10 + 15 + 15 + 10 + 20
    assert rows[month["赵一"].pk]["score"] == pytest.approx(zhao) == pytest.approx(86.667, 1e-3)
    assert rows[month["钱二"].pk]["score"] == pytest.approx(qian) == pytest.approx(56.667, 1e-3)
    assert rows[month["孙三"].pk]["score"] == pytest.approx(sun) == pytest.approx(85.833, 1e-3)
    assert [rows[month[n].pk]["rank"] for n in ("赵一", "孙三", "钱二")] == [1, 2, 3]
    north = next(p for p in points if p["service_point_id"] == month["北站"].pk)
    assert north["score"] == pytest.approx((zhao + qian) / 2)


def engineers_url(query=""):
    return reverse("analytics:engineers") + f"?{PERIOD}{query}"


def order_in(html, section, names):
    """`names` in the order they appear in the table `section` of the page."""
    start = html.index(f'id="{section}"')
    end = html.index("</table>", start)
    part = html[start:end]
    return sorted(names, key=part.index)


def test_ranking_page_shows_each_engineer_and_links_the_jobs(manager_client, month):
    response = manager_client.get(engineers_url())
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("86.7", "56.7", "85.8", "66.7 %", "北站", "南站", "71.7"):
        assert text in html
    assert "complaint" not in html.lower()
    drill = reverse("analytics:requests")
    assert f"{drill}?start=2026-11-01&amp;end=2026-11-30&amp;event=closed&amp;engineer_id=" in html
    rows = manager_client.get(engineers_url("&export=csv")).content.decode("utf-8-sig").splitlines()
    assert rows[2].split(",")[:4] == ["1", "赵一", "北站", "3"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["赵一", "孙三", "钱二"]),  # by score, best first
        ("-score", ["赵一", "孙三", "钱二"]),
        ("score", ["钱二", "孙三", "赵一"]),
        ("-closed", ["赵一", "孙三", "钱二"]),  # equal counts keep the order by name
        ("breaches", ["孙三", "钱二", "赵一"]),
        ("-rounds", ["钱二", "孙三", "赵一"]),
        ("resolution_hours", ["孙三", "钱二", "赵一"]),
        ("label", ["孙三", "赵一", "钱二"]),
        ("nonsense", ["赵一", "孙三", "钱二"]),
        ("-", ["赵一", "孙三", "钱二"]),
        ("\x00", ["赵一", "孙三", "钱二"]),
    ],
)
def test_sorting_by_any_column(manager_client, month, sort, expected):
    response = manager_client.get(engineers_url(), {"sort": sort} if sort else {})
    assert response.status_code == 200
    html = response.content.decode()
    assert order_in(html, "engineers", ["赵一", "钱二", "孙三"]) == expected


def test_service_points_sort_too(manager_client, month):
    html = manager_client.get(engineers_url("&sort=score")).content.decode()
    assert order_in(html, "points", ["北站", "南站"]) == ["北站", "南站"]
    html = manager_client.get(engineers_url("&sort=-score")).content.decode()
    assert order_in(html, "points", ["北站", "南站"]) == ["南站", "北站"]


def test_service_point_filter_ranks_its_engineers_only(manager_client, month):
    html = manager_client.get(engineers_url(f"&service_point={month['南站'].pk}")).content
    html = html.decode()
    assert "孙三" in html and "赵一" not in html and "钱二" not in html


# --- Weights -------------------------------------------------------------------------------


def post_weights(client, **weights):
    return client.post(reverse("analytics:engineer_weights"), {**DEFAULTS, **weights})


def test_weights_must_add_up_to_100(manager_client):
    manager_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = post_weights(manager_client, jobs=5)
    assert response.status_code == 200
    assert "The weights add up to 90; they must add up to 100." in response.content.decode()
    assert not AssessmentWeights.objects.exists()


@pytest.mark.parametrize("bad", [{"jobs": -5, "satisfaction": 40}, {"hours": "x"}, {"rounds": ""}])
def test_weights_must_be_whole_numbers_from_zero(manager_client, bad):
    response = post_weights(manager_client, **bad)
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    assert not AssessmentWeights.objects.exists()


def test_a_manager_sets_the_weights_and_the_ranking_follows(service_manager_client, month):
    all_on_satisfaction = dict.fromkeys(PARTS, 0) | {"satisfaction": 100}
    response = post_weights(service_manager_client, **all_on_satisfaction)
    assert response.status_code == 302
    assert response.url == reverse("analytics:engineers")
    saved = AssessmentWeights.current()
    assert saved.as_dict() == all_on_satisfaction
    assert saved.updated_by.username == "service_manager"
    engineers, _points = assessment(NOVEMBER, saved.as_dict())
    rows = by_engineer(engineers)
    assert rows[month["孙三"].pk]["score"] == pytest.approx(100)
    assert rows[month["赵一"].pk]["score"] == pytest.approx(100 * 11 / 12)
    assert rows[month["钱二"].pk]["score"] == pytest.approx(50)
    html = service_manager_client.get(engineers_url()).content.decode()
    assert order_in(html, "engineers", ["赵一", "钱二", "孙三"]) == ["孙三", "赵一", "钱二"]
    # Saved again: the one row is changed, not a second one added.
    post_weights(service_manager_client)
    assert AssessmentWeights.objects.get().as_dict() == DEFAULTS


def test_the_database_refuses_weights_not_adding_up_to_100():
    with pytest.raises(IntegrityError), transaction.atomic():
        AssessmentWeights.objects.create(pk=1, **(DEFAULTS | {"jobs": 14}))
    with pytest.raises(IntegrityError), transaction.atomic():
        AssessmentWeights.objects.create(pk=2, **DEFAULTS)
    with pytest.raises(DatabaseError), transaction.atomic():
        AssessmentWeights.objects.create(pk=1, **(DEFAULTS | {"jobs": -5, "hours": 25}))


def test_only_managers_change_the_weights(
    dispatcher_client, engineer_client, manager_client, service_manager_client, client
):
    url = reverse("analytics:engineer_weights")
    assert dispatcher_client.get(url).status_code == 403
    assert engineer_client.get(url).status_code == 403
    assert post_weights(engineer_client).status_code == 403
    assert client.get(url).status_code == 302  # to the login
    assert manager_client.get(url).status_code == 200
    assert service_manager_client.get(url).status_code == 200
    assert not AssessmentWeights.objects.exists()
    ranking = manager_client.get(reverse("analytics:engineers")).content.decode()
    assert url in ranking


# --- Who sees what -------------------------------------------------------------------------


def test_dispatchers_and_engineers_cannot_open_the_ranking(dispatcher_client, engineer_client):
    assert dispatcher_client.get(reverse("analytics:engineers")).status_code == 403
    assert engineer_client.get(reverse("analytics:engineers")).status_code == 403


def mine(user, query=""):
    """The person's own page on 20 November 2026 (signed in then)."""
    with time_machine.travel(at(0, day=20), tick=False):
        return client_of(user).get(reverse("analytics:mine") + query)


def client_of(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_an_engineer_sees_their_own_figures_and_rank(month):
    html = mine(month["钱二"]).content.decode()
    assert "56.7" in html  # the score
    assert "No. 2 of 2" in html  # behind 赵一 at 北站
    assert "2.00" in html  # rounds per request
    for other in ("赵一", "孙三", "86.7", "85.8"):
        assert other not in html
    html = mine(month["孙三"]).content.decode()
    assert "85.8" in html and "No. 1 of 1" in html


@pytest.mark.parametrize(
    "query",
    [
        "?engineer_id={zhao}",
        "?engineer={zhao}&user={zhao}&pk={zhao}&user_id={zhao}",
        "?period=last_3_months&engineer_id={zhao}",
        "?engineer_id={zhao}&service_point={north}",
    ],
)
def test_no_parameter_shows_another_engineers_figures(month, query):
    query = query.format(zhao=month["赵一"].pk, north=month["北站"].pk)
    html = mine(month["钱二"], query).content.decode()
    assert "56.7" in html
    assert "86.7" not in html and "赵一" not in html


def test_periods_of_the_own_page(client_for, month):
    # In December, November is last month.
    with time_machine.travel(datetime(2026, 12, 15, 12, tzinfo=SH), tick=False):
        qian = client_for(month["钱二"])
        this_month = qian.get(reverse("analytics:mine")).content.decode()
        last_month = qian.get(reverse("analytics:mine") + "?period=last_month").content.decode()
        three = qian.get(reverse("analytics:mine") + "?period=last_3_months").content.decode()
        junk = qian.get(reverse("analytics:mine") + "?period=%00x").content.decode()
    assert "56.7" not in this_month and "2026-12-01" in this_month
    assert "56.7" in last_month and "2026-11-01" in last_month and "2026-11-30" in last_month
    assert "56.7" in three and "2026-10-01" in three
    assert "2026-12-01" in junk and "56.7" not in junk


def test_the_own_page_is_for_engineers(dispatcher_client, manager_client, engineer_client):
    assert dispatcher_client.get(reverse("analytics:mine")).status_code == 403
    assert manager_client.get(reverse("analytics:mine")).status_code == 403
    response = engineer_client.get(reverse("analytics:mine"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "No figures of yours in this period yet." in response.content.decode()


def test_menu_offers_my_figures_to_engineers_only(engineer_client, manager_client):
    mine_url = reverse("analytics:mine")
    assert f'href="{mine_url}"' in engineer_client.get(mine_url).content.decode()
    overview = manager_client.get(reverse("analytics:overview")).content.decode()
    assert f'href="{mine_url}"' not in overview


# --- Queries and bad input -----------------------------------------------------------------


def queries(client, url):
    client.get(url)  # the caches every page fills once (the person's roles, the filters' lists)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_queries_do_not_grow_with_the_engineers(client_for, manager_client, dispatcher):
    def engineers(n):
        people = [EngineerProfileFactory().user for _ in range(n)]
        for person in people:
            ticket_in_state("closed", dispatcher=dispatcher, engineer=person)
        refresh.refresh_all()
        next_generation()  # what the refresh's commit does (a test's transaction never commits)
        return people

    def uncached(client, url):
        next_generation()  # the ranking is built, not read from the cache
        return queries(client, url)

    first = engineers(2)
    url = reverse("analytics:engineers")
    counts = [
        uncached(manager_client, url),
        uncached(client_for(first[0]), reverse("analytics:mine")),
    ]
    more = engineers(18)
    html = manager_client.get(url).content.decode()
    assert all(str(person) in html for person in more)
    assert [
        uncached(manager_client, url),
        uncached(client_for(first[0]), reverse("analytics:mine")),
    ] == counts


@pytest.mark.parametrize(
    "query",
    [
        "?start=garbage&end=2026-13-01",
        "?service_point=abc&sort=%00",
        "?service_point=99999999999999999999",
        "?start=1900-01-01&sort=-rank",
        "?sort=" + "x" * 5000,
        "?export=pdf&product_line=1",
        "?period=%00&engineer_id=-1",
    ],
)
def test_garbage_parameters_never_fail(manager_client, month, query):
    assert manager_client.get(reverse("analytics:engineers") + query).status_code == 200
    assert manager_client.get(reverse("analytics:engineer_weights") + query).status_code == 200
    assert mine(month["赵一"], query).status_code == 200


def test_new_weights_are_never_shown_stale(manager_client, django_capture_on_commit_callbacks):
    """The ranking is kept in the cache; saving weights makes every kept ranking stale."""
    url = reverse("analytics:engineers")
    manager_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "Satisfaction 20" in manager_client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        post_weights(manager_client, satisfaction=10, jobs=25)
    assert "Satisfaction 10" in manager_client.get(url).content.decode()
