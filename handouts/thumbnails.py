"""Thumbnails: page 1 of a finished PDF as a PNG, for portal previews.

PDFium (pypdfium2) renders it in-process: no poppler or ghostscript needed.
"""

from __future__ import annotations

import io

THUMBNAIL_WIDTH = 320


def thumbnail(data: bytes, width: int = THUMBNAIL_WIDTH) -> bytes:
    """Page 1 of the PDF ``data`` as a PNG ``width`` pixels wide."""
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        page = document[0]
        bitmap = page.render(scale=width / page.get_width())
        buffer = io.BytesIO()
        bitmap.to_pil().save(buffer, format="PNG")
        page.close()
        return buffer.getvalue()
    finally:
        document.close()
