"""The report as PDF for court (issue 16): the same HTML, laid out for A4 by WeasyPrint.

The HTML is self-contained (thumbnails are data: URLs, blurred and grayscale in their
pixels), so the PDF shows exactly what the HTML shows and fetches nothing: a `url_fetcher`
that refuses every URL but `data:` makes sure of it.
"""

from __future__ import annotations

from pathlib import Path


class PdfUnavailable(RuntimeError):
    """WeasyPrint (or the Pango library it draws text with) is not installed."""


def write_pdf(html: str, out: Path) -> Path:
    # WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES when imported; left so, any
    # later decode in this process (a web upload, an ingest) would read a truncated image as
    # whole. The flag is put back at once: corruption is never read as data.
    from PIL import ImageFile

    before = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        try:
            from weasyprint import HTML
            from weasyprint.urls import URLFetcher
        except (ImportError, OSError) as exc:  # OSError: Pango's shared library is missing
            raise PdfUnavailable(
                f"no PDF: WeasyPrint cannot load ({exc}); on Debian `apt-get install "
                "libpango-1.0-0 libpangoft2-1.0-0`; the HTML report is complete"
            ) from None
        ImageFile.LOAD_TRUNCATED_IMAGES = before
        # Only data: URLs (the inline thumbnails); anything else is refused, not fetched.
        fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
        tmp = out.with_name(out.name + ".partial")
        HTML(string=html, url_fetcher=fetcher).write_pdf(str(tmp))
        tmp.replace(out)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before
    return out
