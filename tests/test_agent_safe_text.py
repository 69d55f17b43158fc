"""What untrusted text turns into before a human sees it (the approval prompt, the modal,
every line of `worklanes chat`)."""

from __future__ import annotations

import pytest

from core.safe_text import has_hidden, visible


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b[2K\x1b[1G\x1b[32mgit status", "\\x1b[2K\\x1b[1G\\x1b[32mgit status"),
    ("rm -rf x\rls", "rm -rf x\\rls"),
    ("evil\b\b\b\bgood", "evil\\b\\b\\b\\bgood"),
    ("a\x00b\x07c\x7fd\x9be", "a\\0b\\x07c\\x7fd\\x9be"),          # NUL, BEL, DEL, C1 CSI
    ("file\u202etxt.exe", "file\\u202etxt.exe"),                  # right-to-left override
    ("\u2066x\u2069\u200by\ufeff\u2028", "\\u2066x\\u2069\\u200by\\ufeff\\u2028"),
    ("plain ascii, ünïcode and emoji 🙂", "plain ascii, ünïcode and emoji 🙂"),
])
def test_controls_and_bidi_are_spelled_out(raw, shown):
    assert visible(raw) == shown
    assert visible(shown) == shown          # escaping twice changes nothing
    assert has_hidden(raw) == (raw != shown)


def test_newlines_and_tabs_pass_only_when_asked():
    assert visible("a\nb\tc") == "a\\nb\\tc"
    assert visible("a\nb\tc\x1b", keep="\n\t") == "a\nb\tc\\x1b"
