"""Untrusted text made safe to show: what a model, a tool or a file says must not be able
to move the cursor, erase a line, recolour or hide text, or reorder characters on screen.

Everything a terminal or a bidi algorithm would act on instead of drawing — C0 and C1
controls (ESC, CR, backspace, bell, ...), DEL, bidi embeddings, overrides, isolates and
marks, zero-width characters, line and paragraph separators — is replaced by a visible
escape: ``\\x1b``, ``\\r``, ``\\u202e``. So ``\\x1b[2K\\x1b[1Ggit status`` shows as exactly
that text, and the real command after it stays in sight. Newlines (and tabs) are kept
only where the caller asks for them. A backslash is left alone: the escapes are for a
human reader, not a round trip.
"""

from __future__ import annotations

import re

_NAMED = {"\r": "\\r", "\t": "\\t", "\n": "\\n", "\b": "\\b", "\x1b": "\\x1b", "\x00": "\\0"}

# C0 except the kept ones (decided per call), DEL, C1; bidi controls (LRE..RLO, LRI..PDI,
# LRM, RLM, ALM); zero-width space/joiners, word joiner, BOM; line/paragraph separators.
_UNSAFE = ("\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069"
           "\ufeff\ufff9-\ufffb")
_PATTERNS: dict[str, re.Pattern[str]] = {}


def _pattern(keep: str) -> re.Pattern[str]:
    pat = _PATTERNS.get(keep)
    if pat is None:
        if keep:
            pat = re.compile(f"(?![{re.escape(keep)}])[{_UNSAFE}]")
        else:
            pat = re.compile(f"[{_UNSAFE}]")
        _PATTERNS[keep] = pat
    return pat


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    named = _NAMED.get(ch)
    if named:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object, keep: str = "") -> str:
    """``text`` with every control or invisible formatting character shown as an escape.
    ``keep`` lists characters to pass through as they are (e.g. ``"\\n"`` for a
    multi-line command)."""
    s = text if isinstance(text, str) else str(text)
    return _pattern(keep).sub(_escape, s)


def has_hidden(text: str) -> bool:
    """True if ``text`` holds anything ``visible`` would escape (newlines included)."""
    return bool(_pattern("").search(text))
