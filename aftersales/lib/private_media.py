"""Sending a private file (under MEDIA_ROOT) to a person whose access the view has checked.

In production the web server sends the file itself when MEDIA_ACCEL_REDIRECT is set (nginx:
an `internal` location serving MEDIA_ROOT, e.g. MEDIA_ACCEL_REDIRECT=/protected-media/; nginx
keeps the Content-Type and Content-Disposition given here); else Django streams it.
"""

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header


def private_file_response(name, *, download_as=None, content_type=None):
    """The response sending `name` (a path under MEDIA_ROOT); 404 when there is no such file.

    `download_as`: the file name for a download (an attachment); else the file is shown inline.
    """
    if settings.MEDIA_ACCEL_REDIRECT:
        response = HttpResponse(content_type=content_type or "")
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT.rstrip("/") + "/" + name
        if download_as:
            response["Content-Disposition"] = content_disposition_header(True, download_as)
        return response
    root = Path(str(settings.MEDIA_ROOT)).resolve()
    path = (root / name).resolve()
    if root not in path.parents or not path.is_file():
        raise Http404
    if download_as:
        return FileResponse(
            path.open("rb"), as_attachment=True, filename=download_as, content_type=content_type
        )
    return FileResponse(path.open("rb"), content_type=content_type)
