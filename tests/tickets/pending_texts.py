"""Chinese for texts whose translations wait outside locale/: a helper's translations-NAME.txt
at the repository's root, until the lead merges it into locale/zh_Hans.

`with pending_chinese():` adds those pairs to the zh-hans catalogue, only the ones locale/ does
not have, and takes them out again afterwards (a fixture of the test module wraps each test in
it): a test can then assert the Chinese a customer reads. Once the files are merged (and
removed) it adds nothing."""

from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.utils.translation import trans_real


def pending_pairs():
    pairs = {}
    for path in sorted(Path(settings.BASE_DIR).glob("translations-*.txt")):
        msgid = None
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("msgid: "):
                msgid = line.removeprefix("msgid: ")
            elif line.startswith("msgstr: ") and msgid is not None:
                pairs[msgid] = line.removeprefix("msgstr: ")
                msgid = None
    return pairs


@contextmanager
def pending_chinese():
    catalog = trans_real.translation("zh-hans")._catalog
    added = {key: text for key, text in pending_pairs().items() if key not in catalog}
    for key, text in added.items():
        catalog[key] = text
    try:
        yield
    finally:
        for key in added:
            catalog._catalogs[0].pop(key, None)
