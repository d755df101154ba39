"""QR codes (qrcode + Pillow): SVG for pages and labels, PNG for downloads."""

import io
from functools import lru_cache

import qrcode
import qrcode.image.svg


@lru_cache(maxsize=2048)
def qr_svg(data: str) -> str:
    """The code of `data` as SVG markup. Remembered per process: a page that shows a unit's or
    a request's code (the same address each time) pays the ~10 ms of drawing it once."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return image.to_string(encoding="unicode")


def qr_png(data: str, box_size: int = 10) -> bytes:
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=2
    )
    qr.add_data(data)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer, format="PNG")
    return buffer.getvalue()
