"""The pager under the lists: the first and last pages, two either side of this one, gaps as
"…", however many pages the list has (the template does not loop over every page)."""

import pytest
from django.core.paginator import Paginator
from django.urls import reverse

from aftersales.templatetags.ui import page_numbers

from .factories import CustomerFactory


def test_page_numbers_of_a_long_list_stay_few():
    page = Paginator(range(200_000), 25).page(4000)
    assert page_numbers(page) == [1, None, 3998, 3999, 4000, 4001, 4002, None, 8000]


def test_page_numbers_near_the_start_have_no_gap_before():
    assert page_numbers(Paginator(range(100), 10).page(2)) == [1, 2, 3, 4, None, 10]


@pytest.mark.django_db
def test_the_customer_list_pager_links_the_neighbouring_pages(dispatcher_client, settings):
    settings.PAGE_SIZE = 2
    CustomerFactory.create_batch(30)
    html = dispatcher_client.get(reverse("customers:list"), {"page": 8}).text
    linked = [n for n in range(1, 16) if f'page={n}">{n}</a>' in html]
    assert linked == [1, 6, 7, 9, 10, 15]
    assert html.count("…</span>") == 2
