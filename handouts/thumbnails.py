"""Thumbnails: page 1 of a finished PDF as a PNG, for portal previews (every page for ``serve``'s preview).

PDFium (pypdfium2) renders it in-process: no poppler or ghostscript needed.
"""

from __future__ import annotations

import io

THUMBNAIL_WIDTH = 320


def thumbnail(data: bytes, width: int = THUMBNAIL_WIDTH) -> bytes:
    """Page 1 of the PDF ``data`` as a PNG ``width`` pixels wide."""
    return page_images(data, width, pages=1)[0]


def page_images(data: bytes, width: int, pages: int | None = None) -> list[bytes]:
    """The first ``pages`` pages (all when None) of the PDF ``data`` as PNGs ``width`` pixels wide."""
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        images = []
        for index in range(len(document) if pages is None else min(pages, len(document))):
            page = document[index]
            bitmap = page.render(scale=width / page.get_width())
            buffer = io.BytesIO()
            bitmap.to_pil().save(buffer, format="PNG")
            page.close()
            images.append(buffer.getvalue())
        return images
    finally:
        document.close()
