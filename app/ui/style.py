"""The calm look of an office tool: one palette, one style sheet with visible focus, and small drawn icons."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QApplication

# Colours, chosen for contrast ≥ 7:1 of text on its background (WCAG AAA for normal text).
INK = "#1b1f24"  # body text
MUTED = "#4a525c"  # secondary text on white: 7.6:1
PAGE = "#ffffff"
CHROME = "#eef1f4"  # navigation and status bar
LINE = "#c4cbd3"
ACCENT = "#1f4e79"  # dark administrative blue, white text on it 8.6:1
FOCUS = "#0b5cad"
DRAFT_BG = "#fff1c2"  # draft banner: dark brown on light amber, 11:1
DRAFT_INK = "#3d2e00"
DRAFT_EDGE = "#8a6500"
ERROR_BG = "#fbe9e7"
ERROR_INK = "#7a1a12"  # 8.8:1
INFO_BG = "#e7f0fa"
INFO_INK = "#0b3a66"  # 10:1
FLAG_BG = "#ffd978"  # an answer sentence without a source: dark brown (DRAFT_INK) on amber, 9:1
FACT_BG = "#fde2de"  # a fact not found in the sources: ERROR_INK on light red, 8:1
FACT_LINE = "#c0281b"  # its wavy underline
HIGHLIGHT_BG = "#fff176"
CONFIRMED_BG = "#e3f2e5"  # confirmed banner: dark green on light green, 9:1
CONFIRMED_INK = "#143d1c"
CONFIRMED_EDGE = "#2e7d3a"  # the cited passage in the passage viewer

STYLE_SHEET = f"""
QMainWindow, QDialog {{ background: {PAGE}; color: {INK}; }}
QLabel {{ color: {INK}; }}
QLabel[role="heading"] {{ font-size: 15pt; font-weight: 600; color: {INK}; }}
QLabel[role="muted"] {{ color: {MUTED}; }}
QLabel[role="notice"] {{ background: {INFO_BG}; color: {INFO_INK}; border: 1px solid #9dbbe0;
    border-radius: 3px; padding: 10px 12px; }}
QLabel[role="reason"] {{ color: {ERROR_INK}; }}
QLabel[role="draft-banner"] {{ background: {DRAFT_BG}; color: {DRAFT_INK}; border: 1px solid {DRAFT_EDGE};
    border-left: 6px solid {DRAFT_EDGE}; padding: 6px 10px; font-weight: 700; letter-spacing: 0.5px; }}
QLabel[role="confirmed-banner"] {{ background: {CONFIRMED_BG}; color: {CONFIRMED_INK}; border: 1px solid {CONFIRMED_EDGE};
    border-left: 6px solid {CONFIRMED_EDGE}; padding: 6px 10px; font-weight: 700; }}
QLabel[role="closed-banner"] {{ background: {CHROME}; color: {MUTED}; border: 1px solid {LINE};
    border-left: 6px solid #8a939e; padding: 6px 10px; font-weight: 700; }}
QLabel[role="subheading"] {{ font-weight: 600; color: {INK}; }}
QPlainTextEdit#draftText {{ border: 1px solid {DRAFT_EDGE}; border-top: none; background: #fffdf6; }}
QPlainTextEdit#draftText:read-only {{ background: #f7f8f9; }}
QPlainTextEdit#draftText:focus {{ border: 2px solid {FOCUS}; border-top: none; }}
QTreeWidget#draftList {{ border: 1px solid #8a939e; background: #ffffff; }}
QTreeWidget#draftList::item {{ padding: 5px 2px; border-bottom: 1px solid {LINE}; }}
QTreeWidget#draftList::item:selected {{ color: #ffffff; background: {ACCENT}; }}
QTreeWidget#draftList:focus {{ border: 2px solid {FOCUS}; }}
QListWidget#checklist {{ border: 1px solid #8a939e; background: #ffffff; }}
QListWidget#checklist::item {{ padding: 5px 2px; border-bottom: 1px solid {LINE}; }}
QListWidget#checklist::item:selected {{ color: {INK}; background: {INFO_BG}; }}
QListWidget#checklist:focus {{ border: 2px solid {FOCUS}; }}
QFrame[role="message-error"] {{ background: {ERROR_BG}; border-bottom: 1px solid #d9a29b; }}
QFrame[role="message-error"] QLabel {{ color: {ERROR_INK}; }}
QFrame[role="message-info"] {{ background: {INFO_BG}; border-bottom: 1px solid #9dbbe0; }}
QFrame[role="message-info"] QLabel {{ color: {INFO_INK}; }}
QListWidget#navigation {{ background: {CHROME}; border: none; border-right: 1px solid {LINE};
    padding: 8px 0; font-size: 11pt; outline: none; }}
QListWidget#navigation::item {{ padding: 9px 14px; color: {INK}; border-left: 4px solid transparent; }}
QListWidget#navigation::item:selected {{ background: {ACCENT}; color: #ffffff; border-left: 4px solid #0d2c48; }}
QListWidget#navigation:focus {{ border: 2px solid {FOCUS}; }}
QStatusBar {{ background: {CHROME}; border-top: 1px solid {LINE}; color: {INK}; }}
QStatusBar::item {{ border: none; }}
QStatusBar QLabel {{ padding: 2px 6px; }}
QPushButton {{ background: #f6f7f9; color: {INK}; border: 1px solid #8a939e; border-radius: 3px;
    padding: 5px 16px; min-height: 20px; }}
QPushButton:hover {{ background: #e9edf2; }}
QPushButton:default, QPushButton[role="primary"] {{ background: {ACCENT}; color: #ffffff; border-color: #0d2c48; }}
QPushButton:disabled {{ background: #eceef0; color: #6b737c; border-color: #c4cbd3; }}
QPushButton:focus {{ border: 2px solid {FOCUS}; outline: none; }}
QPushButton[role="primary"]:focus {{ border: 2px solid #000000; }}
QLineEdit, QPlainTextEdit, QTextEdit, QSpinBox, QComboBox {{ background: #ffffff; color: {INK};
    border: 1px solid #8a939e; border-radius: 2px; padding: 3px; selection-background-color: {ACCENT}; }}
QLineEdit:read-only {{ background: #f1f2f4; color: {MUTED}; }}
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QSpinBox:focus, QComboBox:focus {{
    border: 2px solid {FOCUS}; }}
QPlainTextEdit#modelOutput {{ border: 1px solid {DRAFT_EDGE}; border-top: none; background: #fffdf6; }}
QPlainTextEdit#modelOutput:focus {{ border: 2px solid {FOCUS}; border-top: none; }}
QTextBrowser#lookupAnswer {{ border: 1px solid {DRAFT_EDGE}; border-top: none; background: #fffdf6; }}
QTextBrowser#lookupAnswer:focus {{ border: 2px solid {FOCUS}; border-top: none; }}
QListWidget#lookupSources {{ border: 1px solid #8a939e; background: #ffffff; }}
QListWidget#lookupSources::item {{ padding: 6px 0px; border-bottom: 1px solid {LINE}; }}
QListWidget#lookupSources::item:selected {{ color: {INK}; border-left: 4px solid {ACCENT}; }}
QListWidget#lookupSources:focus {{ border: 2px solid {FOCUS}; }}
QTextBrowser#passageText {{ border: 1px solid #8a939e; background: #ffffff; }}
QLabel[role="nothing-found"] {{ background: {INFO_BG}; color: {INFO_INK}; border: 1px solid #9dbbe0;
    border-radius: 3px; padding: 10px 12px; font-size: 12pt; font-weight: 600; }}
QLabel[role="warning"] {{ background: {DRAFT_BG}; color: {DRAFT_INK}; border: 1px solid {DRAFT_EDGE};
    border-radius: 3px; padding: 6px 10px; }}
QProgressBar {{ border: 1px solid {LINE}; background: #ffffff; max-height: 10px; max-width: 70px; }}
QProgressBar::chunk {{ background: {ACCENT}; }}
QTextBrowser#summaryResult {{ border: 1px solid {DRAFT_EDGE}; border-top: none; background: #fffdf6; }}
QTextBrowser#summaryResult:focus {{ border: 2px solid {FOCUS}; border-top: none; }}
QListWidget#summarySources, QListWidget#summaryDocuments {{ border: 1px solid #8a939e; background: #ffffff; }}
QListWidget#summarySources::item {{ padding: 5px 0px; border-bottom: 1px solid {LINE}; }}
QListWidget#summarySources::item:selected {{ color: {INK}; border-left: 4px solid {ACCENT}; }}
QListWidget#summaryDocuments::item {{ padding: 3px 4px; }}
QListWidget#summaryDocuments::item:selected {{ background: {INFO_BG}; color: {INK}; }}
QListWidget#summarySources:focus, QListWidget#summaryDocuments:focus {{ border: 2px solid {FOCUS}; }}
QProgressBar#summaryProgress {{ max-width: 100000px; min-height: 12px; max-height: 12px; }}
QFrame#letterSheet {{ border: 1px solid {DRAFT_EDGE}; border-top: none; background: #fffdf6; }}
QPlainTextEdit#letterBody {{ background: #ffffff; border: 1px solid {LINE}; }}
QPlainTextEdit#letterBody:focus {{ border: 2px solid {FOCUS}; }}
QPlainTextEdit#letterBody:read-only {{ background: #fffdf6; }}
QListWidget#letterDocuments, QListWidget#letterPlaceholders, QListWidget#letterFindings {{
    border: 1px solid #8a939e; background: #ffffff; }}
QListWidget#letterDocuments::item {{ padding: 3px 4px; }}
QListWidget#letterDocuments::item:selected {{ background: {INFO_BG}; color: {INK}; }}
QListWidget#letterPlaceholders::item, QListWidget#letterFindings::item {{ padding: 3px 0px; }}
QListWidget#letterPlaceholders::item:selected, QListWidget#letterFindings::item:selected {{
    background: {INFO_BG}; color: {INK}; }}
QListWidget#letterDocuments:focus, QListWidget#letterPlaceholders:focus, QListWidget#letterFindings:focus {{
    border: 2px solid {FOCUS}; }}
QProgressBar#letterProgress {{ max-width: 100000px; min-height: 12px; max-height: 12px; }}
QScrollArea#letterInputsScroll, QWidget#letterInputs {{ background: {PAGE}; }}
QLabel#auditStatus[role="audit-ok"] {{ background: {CONFIRMED_BG}; color: {CONFIRMED_INK};
    border: 1px solid {CONFIRMED_EDGE}; border-left: 6px solid {CONFIRMED_EDGE}; padding: 6px 10px; }}
QLabel#auditStatus[role="reason"] {{ background: {ERROR_BG}; color: {ERROR_INK}; border: 1px solid #d9a29b;
    border-left: 6px solid {FACT_LINE}; padding: 6px 10px; font-weight: 600; }}
QTableView#auditTable {{ border: 1px solid #8a939e; background: #ffffff; gridline-color: {LINE};
    selection-background-color: {ACCENT}; selection-color: #ffffff; }}
QTableView#auditTable:focus {{ border: 2px solid {FOCUS}; }}
QPlainTextEdit#auditDetail {{ background: #f7f8f9; }}
QDateEdit {{ background: #ffffff; color: {INK}; border: 1px solid #8a939e; border-radius: 2px; padding: 3px; }}
QDateEdit:focus {{ border: 2px solid {FOCUS}; }}
"""


def apply_app_style(app: QApplication) -> None:
    """Fusion (the same on every platform, draws focus frames) with a light, calm palette."""
    app.setStyle("Fusion")
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor(PAGE))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(INK))
    palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor(CHROME))
    palette.setColor(QPalette.ColorRole.Text, QColor(INK))
    palette.setColor(QPalette.ColorRole.Button, QColor("#f6f7f9"))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor(INK))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.ToolTipText, QColor(INK))
    app.setPalette(palette)
    font = app.font()
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
    app.setFont(font)



def lock_icon(size: int = 16, color: str = INK) -> QIcon:
    """A padlock drawn with QPainter, so it does not depend on an emoji font being installed."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(color))
    pen.setWidthF(size / 9)
    painter.setPen(pen)
    shackle = QRectF(size * 0.28, size * 0.08, size * 0.44, size * 0.56)
    painter.drawArc(shackle, 0, 180 * 16)
    painter.drawLine(int(size * 0.28), int(size * 0.36), int(size * 0.28), int(size * 0.46))
    painter.drawLine(int(size * 0.72), int(size * 0.36), int(size * 0.72), int(size * 0.46))
    painter.setBrush(QColor(color))
    painter.drawRoundedRect(QRectF(size * 0.16, size * 0.46, size * 0.68, size * 0.48), size * 0.08, size * 0.08)
    painter.end()
    return QIcon(pixmap)
