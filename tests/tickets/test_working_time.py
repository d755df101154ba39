"""The SLA card says a margin as people read it, not in raw minutes ("提前 9748 分钟")."""

from datetime import timedelta

from django.utils import translation

from tickets.templatetags.tickets import working_time


def test_margins_read_in_hours_and_minutes():
    with translation.override("zh-hans"):
        assert working_time(timedelta(minutes=9748)) == "162 小时 28 分钟"
        assert working_time(timedelta(minutes=-25)) == "25 分钟"
        assert working_time(timedelta(seconds=89)) == "1 分钟"
    with translation.override("en"):
        assert working_time(timedelta(hours=3, minutes=5)) == "3 h 5 min"
    assert working_time(None) == ""
