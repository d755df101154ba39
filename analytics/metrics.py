"""The ratios of the reports, from summed figures (`analytics.figures`): each one defined once.

Every function takes a row of sums and returns a number, or None where the ratio has nothing to
divide by (shown as "—", never as 0 %).
"""

from .models.figures import RESOLUTION_BUCKETS


def ratio(part, whole):
    return part / whole if whole else None


def sla_rate(row, target):
    """Targets met in time / targets decided (`target`: response, arrival, resolution)."""
    ok, late = row[f"{target}_ok"], row[f"{target}_late"]
    return ratio(ok, ok + late)


def sla_decided(row):
    return sum(row[f"{t}_ok"] + row[f"{t}_late"] for t in ("response", "arrival", "resolution"))


def sla_breaches(row):
    return sum(row[f"{t}_late"] for t in ("response", "arrival", "resolution"))


def first_time_fix(row):
    """Closed requests whose work took one visit and no unresolved round / closed requests."""
    return ratio(row["first_time_fix"], row["closed"])


def rounds(row):
    """Processing rounds per closed request."""
    return ratio(row["rounds"], row["closed"])


def satisfaction(row):
    """The average revisit score (1–5) of the revisits that have one."""
    return ratio(row["score_sum"], row["scored"])


def revisits_on_time(row):
    """Revisits that reached the customer by their due time / revisits that reached them."""
    return ratio(row["revisit_on_time"], row["revisited"])


def revisit_coverage(row):
    """Revisits that reached the customer / requests reported processed (at most 1)."""
    value = ratio(row["revisited"], row["processed"])
    return min(value, 1.0) if value is not None else None


def repeat_rate(row, days=30):
    """Requests entered for a unit already served in the `days` before / requests entered."""
    return ratio(row[f"repeat{days}"], row["opened"])


def average_resolution_hours(row):
    value = ratio(row["resolution_minutes"], row["closed"])
    return value / 60 if value is not None else None


def median_resolution_hours(row):
    """The median time from entry to the work reported done, read from the hour buckets
    (2, 4, 8, 24, 48, 72, 168, 336 h and more): linear inside the bucket that holds it; None
    without closed requests. Above the last bound it is that bound."""
    counts = [row[f"resolved_in_{k}"] for k in range(len(RESOLUTION_BUCKETS) + 1)]
    total = sum(counts)
    if not total:
        return None
    half, seen, lower = total / 2, 0, 0
    for k, count in enumerate(counts):
        upper = RESOLUTION_BUCKETS[k] if k < len(RESOLUTION_BUCKETS) else None
        if count and seen + count >= half:
            if upper is None:
                return float(lower)
            return lower + (upper - lower) * (half - seen) / count
        seen += count
        lower = upper if upper is not None else lower
    return float(lower)


def average(row, column, per="closed"):
    return ratio(row[column], row[per])
