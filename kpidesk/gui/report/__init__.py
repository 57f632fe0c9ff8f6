"""The review pack as a PDF (Qt: QPdfWriter, QTextDocument, QPainter), drawn with no window.

:func:`kpidesk.gui.report.pdf_pack.write_review_pdf` renders a
:class:`kpidesk.services.review_service.ReviewContent`; ``python -m
kpidesk.gui.report.pdf_pack`` is the entry point the command line runs as a
child process (the CLI itself never imports Qt).
"""
