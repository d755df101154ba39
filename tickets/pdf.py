"""HTML to PDF with WeasyPrint, reading every file from this machine, never from the network.

The report's HTML names its stylesheet and its photos under a made-up origin (`ORIGIN`: the
.invalid top-level domain never resolves, RFC 2606); `LocalFetcher` reads those addresses from
the static files and the storage and refuses every other one: nothing in a document makes
WeasyPrint read another private file or reach the network. Fonts come from fontconfig (Debian's
fonts-noto-cjk: Noto Sans CJK SC); WeasyPrint embeds the glyphs the report uses in the PDF.
"""

import mimetypes
from urllib import request
from urllib.parse import unquote

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.storage import default_storage
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

ORIGIN = "https://report.invalid/"
STATIC_PREFIX = ORIGIN + "static/"
MEDIA_PREFIX = ORIGIN + "media/"


def _static_bytes(name):
    """A static file: collected (production), else found in the apps' folders (DEBUG, tests)."""
    if staticfiles_storage.exists(name):
        with staticfiles_storage.open(name) as f:
            return f.read()
    path = finders.find(name)
    if path is None:
        raise FileNotFoundError(name)
    with open(path, "rb") as f:
        return f.read()


class LocalFetcher(URLFetcher):
    """WeasyPrint's fetcher for one document: static files, and of the private files only
    `media_names` (the report's own photos and signatures), read locally."""

    def __init__(self, media_names):
        # Not URLFetcher.__init__: it sets up urllib's network handlers, whose SSL context alone
        # costs 0.1 s per document, for a fetcher that never goes to the network.
        request.OpenerDirector.__init__(self)
        self._fail_on_errors = False  # a missing file leaves its image out, with a warning
        self.media_names = set(media_names)

    def fetch(self, url, headers=None):
        if url.startswith(STATIC_PREFIX):
            name = unquote(url.removeprefix(STATIC_PREFIX).split("?")[0])
            if ".." in name.split("/"):
                raise ValueError(f"not a static file: {url}")
            body = _static_bytes(name)
        elif url.startswith(MEDIA_PREFIX) and self._media_name(url) in self.media_names:
            with default_storage.open(self._media_name(url)) as f:
                body = f.read()
        else:
            raise ValueError(f"not a file of this document: {url}")
        content_type = mimetypes.guess_type(url)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body, headers={"Content-Type": content_type})

    @staticmethod
    def _media_name(url):
        return unquote(url.removeprefix(MEDIA_PREFIX))


def write_pdf(html, media_names=()):
    """`html` (whose addresses start with STATIC_PREFIX / MEDIA_PREFIX) as PDF bytes."""
    document = HTML(string=html, base_url=ORIGIN, url_fetcher=LocalFetcher(media_names))
    return document.write_pdf()


def warm_up():
    """Load what a process's first PDF loads (Pango, the CJK fonts in both weights: about two
    seconds), so that the first report a worker renders takes no longer than the next ones."""
    write_pdf('<p style="font-family: Noto Sans CJK SC">服务报告 <b>服务报告</b></p>')
