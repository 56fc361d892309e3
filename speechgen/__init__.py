"""speechgen: publish state speeches as a static site, archival PDFs and QR cards."""

__version__ = "0.1.0"
