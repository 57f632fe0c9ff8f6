"""Light and dark palettes following the system, and the app's few colours.

The palette is Fusion's, recoloured; the colour scheme follows
``QStyleHints.colorScheme()`` unless the user picked one in View > Theme.
Status colours are chosen to stay readable on both backgrounds.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

SYSTEM, LIGHT, DARK = "system", "light", "dark"


@dataclass(frozen=True)
class Colors:
    dark: bool
    window: QColor
    base: QColor
    card: QColor
    card_border: QColor
    text: QColor
    muted: QColor
    accent: QColor
    good: QColor
    bad: QColor
    warn: QColor
    neutral: QColor
    series: QColor
    target: QColor
    forecast: QColor
    grid: QColor
    compare: QColor  # the second KPI drawn on the right axis


LIGHT_COLORS = Colors(
    dark=False, window=QColor("#f4f5f7"), base=QColor("#ffffff"), card=QColor("#ffffff"),
    card_border=QColor("#d9dce1"), text=QColor("#1d2430"), muted=QColor("#5f6b7a"),
    accent=QColor("#2f6fdb"), good=QColor("#1e8449"), bad=QColor("#c0392b"), warn=QColor("#b9770e"),
    neutral=QColor("#7b8794"), series=QColor("#2f6fdb"), target=QColor("#8e44ad"),
    forecast=QColor("#d35400"), grid=QColor("#e3e6ea"), compare=QColor("#ad1457"),
)
DARK_COLORS = Colors(
    # base a little lighter than the window: Fusion draws check boxes and inputs in the base
    # colour with a border darker than the window, which vanished on a darker base
    dark=True, window=QColor("#1f2329"), base=QColor("#262b33"), card=QColor("#2b313a"),
    card_border=QColor("#3a414c"), text=QColor("#e6e9ee"), muted=QColor("#9aa5b3"),
    accent=QColor("#6ea2ff"), good=QColor("#4cc38a"), bad=QColor("#ff6b5e"), warn=QColor("#f0b44c"),
    neutral=QColor("#9aa5b3"), series=QColor("#6ea2ff"), target=QColor("#c39bd3"),
    forecast=QColor("#ffa45c"), grid=QColor("#323843"), compare=QColor("#f06292"),
)

_current = LIGHT_COLORS

# The page bar's look. Style sheets are set on the few widgets that need one, never on the
# application: an application-wide sheet makes Qt polish every widget through its style-sheet
# engine, which cost ~40-120 ms of GUI-thread time each time a workspace's pages were built.
PAGE_BAR_STYLE = """\
QToolBar { spacing: 4px; padding: 4px 8px; border: none; }
QToolBar QToolButton { padding: 5px 12px; border-radius: 6px; }
QToolBar QToolButton:checked { background: palette(highlight); color: palette(highlighted-text); }
"""
BANNER_STYLE = """\
QFrame { background: #b9770e; border-radius: 4px; }
QLabel { color: #ffffff; font-weight: 600; }
"""
BIG_CHOICE_STYLE = "QPushButton { padding: 14px 18px; font-size: 11pt; text-align: left; }"

PAGE_TITLE, SECTION_TITLE, MUTED = "pageTitle", "sectionTitle", "muted"


def role(widget: QWidget, name: str) -> QWidget:
    """Give ``widget`` one of the app's text roles (its object name too, for tests and tools).

    ``pageTitle`` 18 pt and ``sectionTitle`` 12 pt semi-bold; ``muted`` text is
    drawn in the palette's placeholder colour, so it follows a theme switch.
    """
    widget.setObjectName(name)
    if name in (PAGE_TITLE, SECTION_TITLE):
        font = QFont(widget.font())
        font.setPointSizeF(18 if name == PAGE_TITLE else 12)
        font.setWeight(QFont.Weight.DemiBold)
        widget.setFont(font)
    elif name == MUTED:
        widget.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return widget



def colors() -> Colors:
    """The colours of the palette in use."""
    return _current


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def apply(app: QApplication, mode: str = SYSTEM) -> Colors:
    """Apply the light or dark palette (``mode``: system, light or dark)."""
    global _current
    dark = system_is_dark() if mode == SYSTEM else mode == DARK
    c = DARK_COLORS if dark else LIGHT_COLORS
    _current = c
    if app.style().name().lower() != "fusion":  # already Fusion on Linux: a new style object costs ~5 ms
        app.setStyle("Fusion")
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: c.window, QPalette.ColorRole.WindowText: c.text,
        QPalette.ColorRole.Base: c.base, QPalette.ColorRole.AlternateBase: c.card if c.dark else c.window,
        QPalette.ColorRole.Text: c.text, QPalette.ColorRole.Button: c.card,
        QPalette.ColorRole.ButtonText: c.text, QPalette.ColorRole.ToolTipBase: c.card,
        QPalette.ColorRole.ToolTipText: c.text, QPalette.ColorRole.Highlight: c.accent,
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"), QPalette.ColorRole.Link: c.accent,
        QPalette.ColorRole.PlaceholderText: c.muted, QPalette.ColorRole.Mid: c.card_border,
        QPalette.ColorRole.Midlight: c.card_border,
    }
    for role, color in roles.items():
        pal.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, c.muted)
    app.setPalette(pal)
    if app.styleSheet():
        app.setStyleSheet("")  # see PAGE_BAR_STYLE
    return c


def status_color(status: str) -> QColor:
    """The colour of a status word: good / bad / warn / neutral (and goal/RAG words)."""
    c = _current
    return {
        "good": c.good, "green": c.good, "on_track": c.good, "achieved": c.good, "met": c.good,
        "bad": c.bad, "red": c.bad, "off_track": c.bad, "missed": c.bad, "at_risk": c.warn,
        "amber": c.warn, "warn": c.warn, "behind": c.warn, "overdue": c.bad,
    }.get(status, c.neutral)


def dot_icon(color: QColor, size: int = 12) -> QIcon:
    """A small filled circle, used as a status dot in lists."""
    ratio = 2
    pix = QPixmap(size * ratio, size * ratio)
    pix.setDevicePixelRatio(ratio)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawEllipse(2, 2, size - 4, size - 4)
    painter.end()
    return QIcon(pix)


def app_icon() -> QIcon:
    """The application icon, from the SVG in resources/icons."""
    from kpidesk import resource_files

    icon = QIcon()
    try:
        data = resource_files.read_bytes("icons", "kpidesk.svg")
    except (FileNotFoundError, OSError):
        return icon
    pix = QPixmap()
    pix.loadFromData(data, "SVG")
    if not pix.isNull():
        for size in (16, 24, 32, 48, 64, 128, 256):
            icon.addPixmap(pix.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                      Qt.TransformationMode.SmoothTransformation))
    return icon
