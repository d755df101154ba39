"""Fixtures of the knowledge tests: a product line with fault codes, and articles in each state
written through the services (revisions, log and search columns as in real life)."""

from decimal import Decimal

import pytest

from knowledge import services
from knowledge.models import Article, FaultCode, State
from tests.factories import ProductLineFactory, ProductModelFactory


@pytest.fixture
def line(db):
    return ProductLineFactory(code="AC", name="空调")


@pytest.fixture
def other_line(db):
    return ProductLineFactory(code="WP", name="净水器")


@pytest.fixture
def codes(line):
    return {
        "E1": FaultCode.objects.create(product_line=line, code="E1", meaning="室内温度传感器故障"),
        "E4": FaultCode.objects.create(product_line=line, code="E4", meaning="室外机通信故障"),
    }


@pytest.fixture
def ac_model(line):
    return ProductModelFactory(line=line, code="KJ-200", name="挂壁式空调")


@pytest.fixture
def write():
    """write(author, state=..., **content): an article brought to `state` by the services."""

    def make(author, state=State.DRAFT, *, reviewer=None, fault_codes=(), **content):
        content.setdefault("title", "空调不制冷显示 E4")
        content.setdefault("symptom", "开机后不制冷，室外机不转")
        content.setdefault("solution", "检查通信线\n更换室外主板")
        content.setdefault("labour_hours", Decimal("1.5"))
        article = services.save_article(Article(**content), author, fault_codes=list(fault_codes))
        if state in (State.REVIEW, State.PUBLISHED, State.ARCHIVED):
            article = services.perform(article, "submit", author)
        if state in (State.PUBLISHED, State.ARCHIVED):
            article = services.perform(article, "publish", reviewer or author)
        if state == State.ARCHIVED:
            article = services.perform(article, "archive", reviewer or author, "过时")
        return article

    return make


@pytest.fixture(autouse=True)
def _english():
    """Messages are matched in English (the catalogue translates them on the pages)."""
    from django.utils import translation

    with translation.override("en"):
        yield
