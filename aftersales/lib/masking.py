"""Showing a name or number to someone who may only recognise it, not learn it (public pages)."""


def mask_name(name):
    """'上海精工机械有限公司' -> '上海******公司', 'Li Wei' -> 'L****i': the ends only."""
    name = str(name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    keep = max(1, len(name) // 4)
    return name[:keep] + "*" * (len(name) - 2 * keep) + name[-keep:]


def mask_mobile(mobile):
    """'13812345678' -> '138****5678'."""
    mobile = str(mobile or "")
    if len(mobile) < 8:
        return "*" * len(mobile)
    return mobile[:3] + "*" * (len(mobile) - 7) + mobile[-4:]
