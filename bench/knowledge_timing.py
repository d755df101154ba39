"""p50/p95 of knowledge.search.search() and similar_tickets() in-process, with the EXPLAIN of
their queries (for when the pages are not there to measure through HTTP).

    DATABASE_URL=postgres://…/aftersales_bench_tickets_1000k python -m bench.knowledge_timing
"""

import json
import os
import statistics
import sys
import time

QUERIES = ["净水器 漏水", "漏水", "E1", "不制冷 外机不转", "空压机打不着", "电梯困人", "RO膜更换"]
DESCRIPTIONS = ["机器底部漏水，地面有积水", "设备不制冷，显示故障代码 E4", "出水量明显变小"]
ROUNDS = 30


def timings(function, args_list, rounds=ROUNDS):
    samples = []
    for _r in range(rounds):
        for args, kwargs in args_list:
            started = time.perf_counter()
            function(*args, **kwargs)
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "n": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
    }


def explain(sql_fn):
    from django.db import connection

    captured = []

    def wrapper(execute, sql, params, many, context):
        if "knowledge_" in sql and sql.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        sql_fn()
    plans = []
    with connection.cursor() as cursor:
        for sql, params in captured:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
    import django

    django.setup()
    from aftersales.models import ProductLine
    from knowledge import search
    from knowledge.models import Article, TicketText

    line = ProductLine.objects.filter(code="WP").first()
    search.search("预热")  # the vocabulary loaded
    result = {
        "articles": Article.objects.count(),
        "ticket_texts": TicketText.objects.count(),
        "search": timings(search.search, [((q,), {}) for q in QUERIES]),
        "search_line": timings(search.search, [((q,), {"product_line": line}) for q in QUERIES]),
        "similar_tickets": timings(
            search.similar_tickets, [((d,), {"product_line": line}) for d in DESCRIPTIONS]
        ),
        "suggest_articles": timings(
            search.search, [((d,), {"product_line": line, "limit": 5}) for d in DESCRIPTIONS]
        ),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if "--explain" in sys.argv:
        for plan in explain(lambda: search.search("净水器 漏水", product_line=line)):
            print(plan, "\n")
        for plan in explain(lambda: search.similar_tickets(DESCRIPTIONS[0], product_line=line)):
            print(plan, "\n")


if __name__ == "__main__":
    main()
