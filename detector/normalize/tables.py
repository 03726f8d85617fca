"""Data for :mod:`detector.normalize.text`: look-alike maps, jamo tables, folds, decorative ranges.

Everything here is plain data (plus a few import-time derived tables). Changing any entry changes
normalized output, so bump ``NORMALIZER_VERSION`` (cached embeddings and hashes are keyed by it).
"""

from __future__ import annotations

import re
import unicodedata

NORMALIZER_VERSION = "1"

# --- Hangul -----------------------------------------------------------------------------------
SYL_FIRST, SYL_LAST = 0xAC00, 0xD7A3
# Modern compatibility jamo in the order of the Unicode syllable formula.
CHOSEONG = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"  # 19 initials (index L)
JUNGSEONG = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"  # 21 medials (index V)
JONGSEONG = "\0ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"  # 27 finals + none (index T)

# Standard compound medials: (first, second) -> compound.
COMPOUND_VOWELS = {
    ("ㅗ", "ㅏ"): "ㅘ", ("ㅗ", "ㅐ"): "ㅙ", ("ㅗ", "ㅣ"): "ㅚ", ("ㅜ", "ㅓ"): "ㅝ",
    ("ㅜ", "ㅔ"): "ㅞ", ("ㅜ", "ㅣ"): "ㅟ", ("ㅡ", "ㅣ"): "ㅢ",
}

# Conjoining jamo (U+1100 block, NFD input) -> modern compatibility jamo, before recomposition.
CONJOINING_TO_COMPAT: dict[int, str] = {}
for _i, _c in enumerate(CHOSEONG):
    CONJOINING_TO_COMPAT[0x1100 + _i] = _c
for _i, _c in enumerate(JUNGSEONG):
    CONJOINING_TO_COMPAT[0x1161 + _i] = _c
for _i, _c in enumerate(JONGSEONG[1:], start=1):
    CONJOINING_TO_COMPAT[0x11A7 + _i] = _c

# Initial / medial / final index of a compatibility jamo.
INITIAL_INDEX: dict[str, int] = {c: i for i, c in enumerate(CHOSEONG)}
VOWEL_INDEX: dict[str, int] = {c: i for i, c in enumerate(JUNGSEONG)}
FINAL_INDEX: dict[str, int] = {c: i for i, c in enumerate(JONGSEONG) if i}

# Medial folded when a syllable is BUILT from separate jamo (never in precomposed text): "ㅎㅖ"
# is 혜 by Unicode, but after initials other than ㅇ/ㄹ, ㅖ is pronounced [ㅔ] (표준 발음법 제5항)
# and "ㅎㅖ어져서" is an obfuscated 헤어져서. Precomposed 혜/계 in normal text are untouched.
JAMO_VOWEL_FOLD = {"ㅖ": "ㅔ"}
JAMO_VOWEL_FOLD_KEEP_AFTER = "ㅇㄹ"

# Latin letters used to draw a medial next to a compatibility consonant ("ㄷr" = 다, "ㅈl" = 지,
# "ㄱrl임" = 개임 (게임)). Seen in the KISA 2022-08-14 export; nothing speculative.
LOOKALIKE_MEDIALS = {"rl": "ㅐ", "r": "ㅏ", "l": "ㅣ", "i": "ㅣ", "|": "ㅣ"}  # after casefold: I -> i

# Korean digit words, only used for phone prefixes ("공일공-1234-5678").
KOREAN_DIGITS = {"공": "0", "영": "0", "일": "1", "이": "2", "삼": "3", "사": "4", "오": "5",
                 "육": "6", "칠": "7", "팔": "8", "구": "9"}

# Korean numeral units for prices ("4억2천만원").
SMALL_UNITS = {"십": 10, "백": 100, "천": 1000}
BIG_UNITS = {"만": 10**4, "억": 10**8, "조": 10**12}
# Regex fragments for amounts: the rest of a number after its first digit ("5,000", "1.5"), then
# optional unit groups ("만5천", "억 2천만"); numbers after units never start with "0<digit>".
_NUM_TAIL = r"(?:[0-9]{0,2}(?:,[0-9]{3})+|[0-9]*)(?:\.[0-9]+)?"
_NUM, _UNITS = "(?!0[0-9])[0-9]" + _NUM_TAIL, "[조억만천백십](?: ?[조억만천백십])*"
AMOUNT_TAIL = rf"{_NUM_TAIL}(?: ?{_UNITS}(?: ?{_NUM} ?{_UNITS})*(?: ?{_NUM})?)?"

# Korean phone prefixes after the leading 0 (o allowed for 0: "O1O"): mobile 01x, Seoul 02, area
# codes 031-064, 070 (VoIP), 080 (toll-free / opt-out), 050x (virtual); after +82 (no 0, no 050x).
PHONE_AREA = r"(?:1[0o16789]|2|[3-6][1-5]|70|80|50[2-8]?)"
PHONE_AREA_AFTER_82 = r"(?:1[0o16789]|2|[3-6][1-5]|70|80)"
PHONE_SEP = r"(?: ?[.\-] ?| |\) ?)?"  # "-", ".", " ", " - ", ") " or nothing
# "공일공" = 010, "공팔공" = 080: only as a word of its own (not glued to a preceding syllable).
PHONE_PREFIX_WORDS = "[공영](?<![가-힣].)(?:일[공영일육칠팔구]|[칠팔][공영])"

# Leetspeak digits/symbols inside Latin words ("p0int", "c@sino", "co1n").
LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}

# --- Invisible and decorative characters -------------------------------------------------------
# Deleted outright (they are inserted *inside* words): zero-width and format characters, bidi
# controls, soft hyphen, variation selectors, tag characters, combining enclosing marks (keycaps),
# C0/C1 controls other than whitespace, lone surrogates, interlinear annotation.
INVISIBLE_CLASS = (
    "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u20dd-\u20e4\ufe00-\ufe0f\ufeff"
    "\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f\U000e0100-\U000e01ef"
)
# Invisible "blank" characters used as spaces (Hangul fillers, braille blank): become a space.
BLANK_CHARS = "\u3164\uffa0\u2800"

# Decorative symbols and emoji (after NFKC): deleted between two Hangul characters ("잔◆액"),
# otherwise replaced by a space. Arrows, technical symbols, box drawing (━), blocks, geometric
# shapes (◆◇▶◀■●), misc symbols (☆★♥♡♧☞☎), dingbats (✔❤), braille, misc arrows, CJK marks
# (〓〒), archaic compatibility jamo used as random noise ("§ㅪㅭ¾"), private use, emoji blocks.
DECORATIVE_CLASS = (
    "\u00a4\u00a6\u00a7\u00a9\u00ae\u00b6\u2020-\u2023\u203b\u2042\u2190-\u21ff\u2300-\u23ff"
    "\u2400-\u244a\u2500-\u27bf\u27f0-\u27ff\u2800-\u28ff\u2900-\u297f\u2b00-\u2bff"
    "\u3012\u3013\u3020\u3030\u303d\u3165-\u318c\u318e\ue000-\uf8ff\ufffc\ufffd"
    "\U0001f000-\U0001faff\U0001fb00-\U0001fbff\U000f0000-\U0010ffff"
)


def char_class(code_points) -> str:
    """Regex character class for a set of code points, as merged ranges (fast to match)."""
    parts: list[list[int]] = []
    for cp in sorted(code_points):
        if parts and parts[-1][1] == cp - 1:
            parts[-1][1] = cp
        else:
            parts.append([cp, cp])
    esc = re.escape
    return "[" + "".join(esc(chr(a)) + ("-" + esc(chr(b)) if b > a else "") for a, b in parts) + "]"


def _range_map(first: int, last: int, values: list[str]) -> dict[int, str]:
    return {cp: values[i] for i, cp in enumerate(range(first, last + 1))}


_DIGITS_1_10 = [str(i) for i in range(1, 11)]
_DIGITS_1_20 = [str(i) for i in range(1, 21)]
_UPPER = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
_LOWER = [c.lower() for c in _UPPER]

# Applied BEFORE NFKC: characters NFKC gets wrong for our purpose ("⒜" -> "(a)", "⑴" -> "(1)",
# "㉠" -> conjoining jamo, "™" -> "TM") or does not fold at all (❶ ➀ ⓫ 🅐 🅰 regional indicators).
PRE_NFKC_FOLD: dict[int, str | None] = {}
PRE_NFKC_FOLD.update(_range_map(0x2474, 0x2487, _DIGITS_1_20))  # ⑴..⒇
PRE_NFKC_FOLD.update(_range_map(0x2488, 0x249B, _DIGITS_1_20))  # ⒈..⒛
PRE_NFKC_FOLD.update(_range_map(0x249C, 0x24B5, _LOWER))  # ⒜..⒵
PRE_NFKC_FOLD.update(_range_map(0x24EB, 0x24F4, [str(i) for i in range(11, 21)]))  # ⓫..⓴
PRE_NFKC_FOLD.update(_range_map(0x24F5, 0x24FE, _DIGITS_1_10))  # ⓵..⓾
PRE_NFKC_FOLD[0x24FF] = "0"  # ⓿
PRE_NFKC_FOLD.update(_range_map(0x2776, 0x277F, _DIGITS_1_10))  # ❶..❿
PRE_NFKC_FOLD.update(_range_map(0x2780, 0x2789, _DIGITS_1_10))  # ➀..➉
PRE_NFKC_FOLD.update(_range_map(0x278A, 0x2793, _DIGITS_1_10))  # ➊..➓
PRE_NFKC_FOLD.update(_range_map(0x1F110, 0x1F129, _UPPER))  # 🄐..🄩
PRE_NFKC_FOLD.update(_range_map(0x1F150, 0x1F169, _UPPER))  # 🅐..🅩
PRE_NFKC_FOLD.update(_range_map(0x1F170, 0x1F189, _UPPER))  # 🅰..🆉
PRE_NFKC_FOLD.update(_range_map(0x1F1E6, 0x1F1FF, _UPPER))  # regional indicators
PRE_NFKC_FOLD.update({0x2122: None, 0x2120: None, 0x0131: "i", 0x318D: "·"})  # ™ ℠ ı ㆍ
PRE_NFKC_FOLD.update({ord(c): " " for c in BLANK_CHARS})
# Parenthesized / circled / halfwidth Hangul -> compatibility jamo or syllables, without brackets.
for _lo, _hi in ((0x3200, 0x321B), (0x3260, 0x327B), (0xFFA1, 0xFFDC)):
    for _cp in range(_lo, _hi + 1):
        _n = unicodedata.normalize("NFKC", chr(_cp)).strip("()")
        if _n and _n != chr(_cp) and all(0x1100 <= ord(x) <= 0x11FF or
                                         SYL_FIRST <= ord(x) <= SYL_LAST for x in _n):
            PRE_NFKC_FOLD[_cp] = _n.translate(CONJOINING_TO_COMPAT)

# Applied AFTER NFKC: typographic variants that NFKC leaves alone -> one ASCII form.
POST_NFKC_FOLD: dict[int, str] = {}
POST_NFKC_FOLD.update({ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"})
POST_NFKC_FOLD.update({ord(c): '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"})
POST_NFKC_FOLD.update({ord(c): "'" for c in "\u2018\u2019\u201a\u201b\u2032\u00b4"})
POST_NFKC_FOLD.update({ord(c): "[" for c in "【〔〖〘〚「『《〈"})
POST_NFKC_FOLD.update({ord(c): "]" for c in "】〕〗〙〛」』》〉"})
POST_NFKC_FOLD.update({ord(c): "·" for c in "\u30fb\u2219\u2027\u22c5"})
POST_NFKC_FOLD.update({0x3002: ".", 0x3001: ",", 0x301C: "~"})

# --- Homoglyphs (Cyrillic / Greek letters that look like Latin ones) ----------------------------
# Case-aware: applied before casefolding, only to tokens that contain a Latin letter or consist
# solely of look-alike letters (so real Russian/Greek words are left alone).
HOMOGLYPHS: dict[int, str] = {ord(k): v for k, v in {
    # Cyrillic
    "А": "A", "а": "a", "В": "B", "в": "b", "Е": "E", "е": "e", "К": "K", "к": "k", "М": "M",
    "м": "m", "Н": "H", "н": "h", "О": "O", "о": "o", "Р": "P", "р": "p", "С": "C", "с": "c",
    "Т": "T", "т": "t", "У": "Y", "у": "y", "Х": "X", "х": "x", "Ѕ": "S", "ѕ": "s", "І": "I",
    "і": "i", "Ј": "J", "ј": "j", "Ү": "Y", "ү": "y", "Һ": "H", "һ": "h", "ԁ": "d", "Ԛ": "Q",
    "ԛ": "q", "Ԝ": "W", "ԝ": "w", "Ӏ": "I", "ӏ": "l",
    # Greek
    "Α": "A", "α": "a", "Β": "B", "β": "b", "Ε": "E", "ε": "e", "Ζ": "Z", "Η": "H", "η": "n",
    "Ι": "I", "ι": "i", "Κ": "K", "κ": "k", "Μ": "M", "μ": "u", "Ν": "N", "ν": "v", "Ο": "O",
    "ο": "o", "Ρ": "P", "ρ": "p", "Τ": "T", "τ": "t", "Υ": "Y", "υ": "u", "Χ": "X", "χ": "x",
    "ω": "w", "ϲ": "c", "Ϲ": "C", "ϳ": "j",
}.items()}
# Closure: an unmapped capital whose casefold is mapped gets the same letter (keeps idempotence).
for _cp in list(range(0x370, 0x530)):
    _f = chr(_cp).casefold()
    if _cp not in HOMOGLYPHS and len(_f) == 1 and ord(_f) in HOMOGLYPHS:
        HOMOGLYPHS[_cp] = HOMOGLYPHS[ord(_f)].upper()
HOMOGLYPH_CHARS = "".join(chr(c) for c in HOMOGLYPHS)
