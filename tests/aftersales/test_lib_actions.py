"""The shared shapes of list pages and actions (aftersales.lib.pagination, aftersales.lib.actions),
without any app's models."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory

from aftersales.lib.actions import Refused, run_action, safe_next
from aftersales.lib.pagination import CappedPaginator


class Rows:
    """A list that counts itself up to a cap, as a search read from several indexes does."""

    def __init__(self, n):
        self.rows = list(range(n))
        self.asked = []

    def capped_count(self, cap):
        self.asked.append(cap)
        return min(len(self.rows), cap + 1)

    def __getitem__(self, window):
        return self.rows[window]


def test_paginator_asks_a_list_for_its_capped_count():
    rows = Rows(5_000)
    paginator = CappedPaginator(rows, 25)
    assert paginator.count == CappedPaginator.CAP + 1
    assert paginator.capped
    assert rows.asked == [CappedPaginator.CAP]
    assert list(paginator.page(2).object_list) == list(range(25, 50))


def test_paginator_under_the_cap_is_exact():
    paginator = CappedPaginator(Rows(30), 25)
    assert (paginator.count, paginator.capped, paginator.num_pages) == (30, False, 2)


def post(data, host="testserver"):
    request = RequestFactory().post("/x/", data, HTTP_HOST=host)
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


@pytest.mark.parametrize(
    ("target", "followed"),
    [
        ("/tickets/?state=processed", True),
        ("http://testserver/tickets/", True),
        ("https://evil.example/", False),
        ("//evil.example/", False),
        ("/\\evil.example", False),
        ("javascript:alert(1)", False),
        ("", False),
    ],
)
def test_safe_next_follows_only_this_site(target, followed):
    assert safe_next(post({"next": target}), "/home/") == (target if followed else "/home/")


class NumberForm(forms.Form):
    n = forms.IntegerField()


def texts(request):
    return [(m.level_tag, str(m)) for m in get_messages(request)]


def test_run_action_success_message_and_redirect():
    request = post({"n": "3"})
    response = run_action(
        request,
        NumberForm(request.POST),
        lambda data: data["n"] * 2,
        success=lambda result: f"got {result}",
        after=lambda result: f"/done/{result}/",
    )
    assert (response.status_code, response.url) == (302, "/done/6/")
    assert texts(request) == [("success", "got 6")]


def test_run_action_refusal_changes_nothing_and_goes_back():
    request = post({"n": "3"})

    def refuse(data):
        raise Refused("not now")

    response = run_action(
        request,
        NumberForm(request.POST),
        refuse,
        success=lambda result: "never",
        after=lambda result: "/back/" if result is None else "/done/",
    )
    assert response.url == "/back/"
    assert texts(request) == [("error", "not now")]


def test_run_action_invalid_form_says_its_errors_or_answers_itself():
    request = post({"n": "x"})
    called = []
    response = run_action(
        request,
        NumberForm(request.POST),
        called.append,
        success=lambda result: "never",
        after=lambda result: "/back/",
    )
    assert response.url == "/back/" and not called
    assert [level for level, _text in texts(request)] == ["error"]

    request = post({"n": "x"})
    response = run_action(
        request,
        [NumberForm(request.POST), NumberForm({"n": "1"})],
        called.append,
        success=lambda result: "never",
        after=lambda result: "/back/",
        invalid="Choose a number.",
    )
    assert texts(request) == [("error", "Choose a number.")]
