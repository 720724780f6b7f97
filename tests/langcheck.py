"""Find English that only the English catalog has in output meant to be in Bahasa Indonesia.

Every sentence the kit prints comes from a catalog with both languages (``messages.TEXTS``,
``messages.MESSAGES``, the task names of the playbooks). A piece of an English sentence that
the Indonesian one does not also contain, found in ``--lang id`` output, is a message that was
printed in English: an untranslated string, or one that bypasses the catalog.
"""

from __future__ import annotations

import re
from functools import cache

from spbe_kit.messages import MESSAGES, TASKS_ID, TEXTS

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def _pieces(english: str, indonesian: str) -> list[str]:
    """The literal runs of an English template (between placeholders) of two words or more
    that the Indonesian template lacks."""
    found = []
    for piece in _PLACEHOLDER.split(english):
        piece = piece.strip(" .,:;()`'\"-\n")
        if len(piece) >= 8 and " " in piece and re.search(r"[a-z]{3}", piece) and piece not in indonesian:
            found.append(piece)
    return found


@cache
def english_only_pieces() -> frozenset[str]:
    pieces: set[str] = set()
    for en, id_ in TEXTS.values():
        pieces.update(_pieces(en, id_))
    for en, id_, hint_en, hint_id in MESSAGES.values():
        pieces.update(_pieces(en, id_))
        pieces.update(_pieces(hint_en, hint_id))
    for en, id_ in TASKS_ID.items():
        pieces.update(_pieces(en, id_))
    return frozenset(pieces)


def english_leftovers(output: str) -> list[str]:
    """The English-only pieces of the catalogs found in ``output`` (empty when none)."""
    flat = " ".join(output.split())
    return sorted(p for p in english_only_pieces() if " ".join(p.split()) in flat)
