"""Text normalised for phrase matching, with a map back to the original characters.

Each character goes through: Unicode NFKC (fullwidth and mathematical letters, ligatures, presentation forms),
case folding, canonical decomposition with combining marks dropped (accents, Arabic harakat: "très" and "tres"
match alike), format characters dropped (zero-width spaces and joiners, soft hyphens, bidi controls, tatweel),
decimal digits of every script to ASCII ("١٠" is "10"), look-alike letters folded to their Latin skeleton (Unicode
TR39 confusables data, shipped by `confusable-homoglyphs`; Cyrillic "а" is "a"), a few spelling variants of
Arabic letters unified, quotes, dashes and slashes unified, and whitespace runs collapsed to one space.

Matching runs on the normalised text; `Normalized.original(start, end)` gives back the words as the person wrote
them, for the reviewer.
"""

from __future__ import annotations

import functools
import json
import unicodedata
from dataclasses import dataclass
from importlib import resources

# Punctuation people (and look-alike attacks) vary; matched as their plain ASCII form.
_PUNCTUATION = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"', "\u2039": '"', "\u203a": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2044": "/", "\u2215": "/", "\u29f8": "/", "\u060c": ",", "\u061f": "?", "\u066a": "%",
}  # fmt: skip
# Arabic spellings that vary in everyday writing: hamza forms of alef, alef maqsura, taa marbuta.
_ARABIC = {"\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627", "\u0671": "\u0627", "\u0649": "\u064a"}
_ARABIC |= {"\u0629": "\u0647"}
_TATWEEL = "\u0640"
_CLOSING_QUOTES = frozenset("'\"\u2019\u201d\u00bb\u203a\u201c")


@functools.cache
def latin_skeleton_map() -> dict[str, str]:
    """Non-ASCII letters whose TR39 confusable is one ASCII letter, lower-cased; Arabic letters are left alone."""
    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    mapping: dict[str, str] = {}
    for char, homoglyphs in data.items():
        if len(char) != 1 or char.isascii() or unicodedata.name(char, "").startswith("ARABIC"):
            continue
        for glyph in homoglyphs:
            target = glyph["c"]
            # Letters only: TR39 also folds "1" to "l" and "0" to "O", which would break the scores we look for.
            if len(target) == 1 and target.isascii() and target.isalpha():
                mapping[char] = target.lower()
                break
    return mapping


@dataclass(frozen=True, slots=True)
class Normalized:
    """Normalised text and, for each of its characters, the index of the original character it came from."""

    text: str
    source: str
    origins: tuple[int, ...]

    def original(self, start: int, end: int) -> str:
        """The original words behind normalised text[start:end], to the end of the last word and its closing quote."""
        if start >= end or not self.origins:
            return ""
        stop = self.origins[end - 1] + 1
        while stop < len(self.source) and (
            self.source[stop].isalnum() or unicodedata.category(self.source[stop]) in {"Mn", "Me", "Cf"}
        ):
            stop += 1
        if stop < len(self.source) and self.source[stop] in _CLOSING_QUOTES:
            stop += 1
        return self.source[self.origins[start] : stop]


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    skeleton = latin_skeleton_map()
    out: list[str] = []
    for part in unicodedata.normalize("NFD", unicodedata.normalize("NFKC", char).casefold()):
        category = unicodedata.category(part)
        if category in {"Mn", "Me", "Cf"} or part == _TATWEEL:
            continue
        if part.isspace() or category in {"Zs", "Zl", "Zp", "Cc"}:
            out.append(" ")
        elif category == "Nd":
            out.append(str(unicodedata.decimal(part)))
        elif part in _PUNCTUATION:
            out.append(_PUNCTUATION[part])
        elif part in _ARABIC:
            out.append(_ARABIC[part])
        elif not part.isascii() and part in skeleton:
            out.append(skeleton[part])
        else:
            out.append(part)
    return "".join(out)


def normalize(text: str) -> Normalized:
    """The text as matched: see the module docstring for each step."""
    chars: list[str] = []
    origins: list[int] = []
    for index, char in enumerate(text):
        folded = char if char.isascii() and (char.islower() or char.isdigit()) else _fold_char(char)
        for part in folded:
            if part == " " and (not chars or chars[-1] == " "):
                continue
            chars.append(part)
            origins.append(index)
    if chars and chars[-1] == " ":
        chars.pop()
        origins.pop()
    return Normalized(text="".join(chars), source=text, origins=tuple(origins))


def fold(text: str) -> str:
    """Only the normalised text."""
    return normalize(text).text
