"""What text policydb accepts and how it writes text out safely, in one place.

Written text may hold any character except C0 controls other than tab and newline, and the
noncharacters U+FFFE and U+FFFF, so that JSON, CSV, YAML and XML (GraphML) can all carry it
unchanged. CSV cells that a spreadsheet would run as a formula are neutralised with a leading
apostrophe (OWASP's rule), and the CSV import takes that apostrophe off again.
"""

import re
from typing import Any

SAFE_TEXT_PATTERN = r"^[^\x00-\x08\x0b-\x1f\ufffe\uffff]*$"
SAFE_TEXT_MESSAGE = (
    "must not contain control characters (other than tab and newline), U+FFFE or U+FFFF"
)
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]")

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def is_unsafe_pattern_error(error: Any) -> bool:
    """A Pydantic error saying a string broke SAFE_TEXT_PATTERN."""
    ctx = error.get("ctx") or {}
    return bool(
        error.get("type") == "string_pattern_mismatch" and ctx.get("pattern") == SAFE_TEXT_PATTERN
    )


def error_message(error: Any) -> str:
    """A Pydantic error's message as a person should read it."""
    if is_unsafe_pattern_error(error):
        return SAFE_TEXT_MESSAGE
    return str(error["msg"]).removeprefix("Value error, ")


def has_unsafe_characters(text: str) -> bool:
    return _UNSAFE.search(text) is not None


def strip_unsafe(text: str) -> str:
    """Text with the characters XML cannot carry replaced by U+FFFD (for data stored before
    they were refused)."""
    return _UNSAFE.sub("\ufffd", text)


def csv_cell(text: str) -> str:
    """A CSV cell no spreadsheet runs as a formula: ``'`` before a formula's first character.

    A cell that already starts with ``'`` gets one more, so that unquote_csv_cell is exact.
    """
    if text.startswith(FORMULA_START) or text.startswith("'"):
        return "'" + text
    return text


def unquote_csv_cell(text: str) -> str:
    """The value csv_cell was given (what the CSV import reads)."""
    if text.startswith("'") and text[1:].startswith((*FORMULA_START, "'")):
        return text[1:]
    return text
