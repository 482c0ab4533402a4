"""German UI texts go through `tr()` so that English (or any language) can be added later with Qt Linguist."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

CONTEXT = "Aktenlotse"


def tr(text: str, disambiguation: str | None = None) -> str:
    """Translate a German source text in the one context "Aktenlotse" (identity while no .qm is installed)."""
    return QCoreApplication.translate(CONTEXT, text, disambiguation)


def install_qt_translations(app: QCoreApplication, language: str = "de") -> list[QTranslator]:
    """Load Qt's own translations (QMessageBox's "Details einblenden…", "Abbrechen", context menus).

    Returns the installed translators; the caller keeps them alive as long as the app runs.
    """
    installed: list[QTranslator] = []
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for name in ("qtbase",):
        translator = QTranslator(app)
        if translator.load(QLocale(language), name, "_", folder):
            app.installTranslator(translator)
            installed.append(translator)
    return installed
