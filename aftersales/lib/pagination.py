"""The paginator of long lists: the total is counted up to a cap, never over the whole table."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """Counts at most CAP matching rows (`COUNT` over a `LIMIT`, in no order: the database
    stops at the CAP+1st match), so a page of a list never costs a count of the whole table;
    the pager then says "1000+" and the last page is the 40th: no deep OFFSET either. Nobody
    pages through more than a thousand requests: they filter or search.

    The object list is a queryset, or anything sliceable with a `capped_count(cap)` method
    that counts its rows up to `cap` + 1 (a search read as a union of index scans, say).
    """

    CAP = 1_000

    @cached_property
    def count(self):
        capped_count = getattr(self.object_list, "capped_count", None)
        if capped_count is not None:
            return capped_count(self.CAP)
        return self.object_list.order_by()[: self.CAP + 1].count()

    @property
    def capped(self):
        return self.count > self.CAP


class CountedPaginator(Paginator):
    """Pages through a list whose length is already known (a counter kept in the cache, say):
    no COUNT query at all. A count a little off (a row just added or gone) only moves the last
    page's end; `get_page` still answers every page number with a page."""

    def __init__(self, object_list, per_page, *, count, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._count = count

    @property
    def count(self):
        return self._count
