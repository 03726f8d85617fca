"""Pure, table-driven normalization of marketplace / SMS text before embedding and shingling.

Mutated copies of a text ("ㅎㅖ어져서 팝니ㄷr ☆", "헤어져서 팝 니 다") become identical; a normal listing
changes only in whitespace, case, emoji and price format. Never raises on a ``str``; idempotent.
Steps in order, and why:
 1. ``strip_invisible``: delete zero-width/format chars (they sit inside words); fold what NFKC gets
    wrong or ignores (⒜ ⑴ ❶ ➀ ⓫ 🅐 ㉠ ㆍ ™); Hangul filler / braille blank -> space.
 2. ``nfkc`` on everything EXCEPT Hangul: NFKC turns compatibility jamo (ㅎ ㅖ) into conjoining jamo
    and composes them behind our back, so jamo never reach NFKC and are recomposed by step 6 (the
    "recompose before NFKC" rule; NFD/conjoining input is turned into compatibility jamo here).
    NFKC'ing the rest first lets the look-alike rules see ASCII for ｒ/ⓡ/ⓞ: idempotence.
 3. ``remove_decorations``: quotes/dashes/CJK brackets -> ASCII; symbols, emoji, box drawing ->
    space so words do not glue, but deleted between two single syllables ("잔◆액", "무★료");
    "ㅡㅡㅡ" lines -> space. Whitespace collapse (later rules match single spaces).
 4. ``map_homoglyphs`` (Cyrillic/Greek -> Latin, in tokens with Latin letters or only look-alikes:
    real Russian words stay), then ``casefold`` (+ NFKC again if casefolding broke it).
 5. ``fix_lookalikes``, after casefolding (so "ㄷR" and "ㄷr" agree) and only beside jamo/syllables:
    "ㄷr" -> ㄷㅏ, "ㅈl"/"ㄹI" -> ㅈㅣ/ㄹㅣ, "ㄱrl" -> ㄱㅐ, "Ol벤트" -> 이벤트, "팝Ll다" -> 팝니다, "Cㅇm" -> com.
 6. ``recompose_jamo``: "ㅍㅏㄴ매"/"파ㄴ매" -> 판매, "ㄷ ㅐ박" -> 대박; lone consonants ("ㅋㅋ") and emoticon
    vowels ("ㅠㅠ") stay compatibility jamo. Only when built from separate jamo, ㅖ after an initial
    other than ㅇ/ㄹ becomes ㅔ (homophones): "ㅎㅖ어져서" -> 헤어져서 (a precomposed 혜 stays 혜).
 7. ``collapse_punctuation`` ("!!!!", "~~~", "...." -> one; not "/": URLs), ``join_split_words``:
    "단.타", "보/유/쿠/폰" (all single syllables), "환-급", "대·출" (one side single), "팝 니 다"
    (>= 3 single syllables), "b.t.c", "e v e n t" (>= 3 letters, same separator); "환ㅡ급" too.
 8. ``fix_numeric_o`` ("3o,ooo", "2O%"), ``canonical_prices``, ``canonical_phones``, then
    ``fix_leetspeak``: after 7, which can create their patterns; prices before phones (dropping a
    price's commas can complete a phone number); leet after phones ("O1O-..." is a phone).
Canonical forms. Phones: bare national digits: "010-1234-5678", "010 1234 5678", "O1O.1234.5678",
"공일공-1234-5678", "+82 10-1234-5678" -> "01012345678"; "080-888-0177" -> "0808880177" (0 +
mobile/area/070/080/050x prefix, then 3-4 and 4 digits). Prices: integer won + "원": "15,000원",
"15,000 원", "₩15,000", "1만5천원", "1.5만원" -> "15000원"; "4억2천만원" -> "420000000원".
Speed (``python -m detector.normalize.bench PATH``): the 25,720 KISA 2022-08-14 texts (5.4 M chars)
take ~2.5 s CPU on one core (~100 µs/text; 2.3 s wall on an idle 2-core VM); changed_share 0.97.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from . import tables as T

_SYL, _CJ, _CC, _CV = "\uac00-\ud7a3", "\u3131-\u3163", "\u3131-\u314e", "\u314f-\u3163"
_HANGUL = _SYL + _CJ
_JAMO_ANY = "\u1100-\u11ff" + _CJ

# Patterns start with a character class where possible (the engine then skips ahead fast); "hint"
# patterns are cheap pre-checks for the rarer rewrites.
_INVISIBLE = re.compile(f"[{T.INVISIBLE_CLASS}]+")
_PRE_FOLD, _PRE_HINT = str.maketrans(T.PRE_NFKC_FOLD), re.compile(T.char_class(T.PRE_NFKC_FOLD))
_POST_FOLD, _POST_HINT = str.maketrans(T.POST_NFKC_FOLD), re.compile(T.char_class(T.POST_NFKC_FOLD))
_NFKC_RUN = re.compile(r"[\x00-\x7f]?[^\x00-\x7f\u1100-\u11ff\u3131-\u318e\uac00-\ud7a3]+")
_ANY_HANGUL = re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3131-\u318e]")
_NON_ASCII_NON_HANGUL = re.compile(r"[^\x00-\x7f\u1100-\u11ff\u3131-\u318e\uac00-\ud7a3]")
_DECOR = re.compile(f"[{T.DECORATIVE_CLASS}]+")
_DECOR_INNER = re.compile(  # between two single-syllable "words": an insertion ("잔◆액", "무★료")
    f"[{_HANGUL}](?<![0-9{_HANGUL}].)[{T.DECORATIVE_CLASS}]+(?=[{_HANGUL}](?![{_HANGUL}]))")
_EU_LINE = re.compile("ㅡ{3,}")
_HG_ANY = re.compile(f"[{T.HOMOGLYPH_CHARS}]")
_HG_TOKEN = re.compile(r"[A-Za-z\u0370-\u03ff\u0400-\u052f]+")
_CONS_ANY = re.compile(f"[{_CC}]")
_LOOKALIKE_PAIRS = ("ol", "oi", "o|", "ll", "li", "l|")
_OL = re.compile(f"o(?<![a-z0-9]o)[li|](?=[{_SYL}]|[{_CC}][{_CV}])")
_CONS_LATIN = re.compile(f"([{_CC}])(?<![{_CC}].)(rl|r|[li|])(?![a-z0-9])")
_LL = re.compile(f"l(?<=[{_HANGUL}]l)[li|](?![a-z0-9])")
_LATIN_O = re.compile("ㅇ(?<=[a-z]ㅇ)(?=[a-z])")
_JAMO = re.compile(f"[{_CJ}]")
_CONJOINING = re.compile("[\u1100-\u11ff]")
_CONJOINING_RUN = re.compile("[\u1100-\u11ff\uac00-\ud7a3]+")
_SPACED_JAMO = re.compile(f"([{_CC}])(?<![{_SYL}{_JAMO_ANY}].) (?=[{_CV}](?:[{_SYL}]|[{_CC}][{_CV}]))")
_PUNCT_RUN = re.compile(r"([!-.:-@\[-`{-~·])\1+")  # ASCII punctuation except "/" (URLs)
_SEP_HINT = re.compile(f"[./·*_ㅡ\\-](?<=[{_SYL}].)(?:(?<![0-9{_SYL}]..)[{_SYL}]|[{_SYL}](?![{_SYL}]))")
_SEP_CHAIN = re.compile(f"(?<![0-9{_SYL}])[{_SYL}]+(?:[./·*_ㅡ\\-][{_SYL}]+)+")
_SEP_SPLIT = re.compile(r"([./·*_ㅡ\-])")  # ㅡ (the vowel) drawn as a dash: "환ㅡ급"
_SPACED_SYL_HINT = re.compile(f" [{_SYL}] [{_SYL}](?![{_HANGUL}])")
_SPACED_SYL = re.compile(f"[{_SYL}](?<![0-9{_HANGUL}].)(?: [{_SYL}]){{2,}}(?![{_HANGUL}])")
_SPACED_LETTERS = re.compile(r"[a-z](?<![a-z0-9].)([./_ \-])[a-z](?:\1[a-z])+(?![a-z0-9])")
_NUMERIC_O = re.compile(r"[0-9](?<![a-z0-9].)[0-9,.]*o[0-9o,.]*(?![a-z])")
_PRICE_HINT = re.compile(r"₩|[0-9](?:,[0-9]| ?[조억만천백십]| 원|\.[0-9])")
_PRICE = re.compile(  # amounts never start with "0<digit>" (that is a phone number)
    rf"₩(?<![0-9.,원조억만천백십]₩)(?<![조억만천백십] ₩)[ ₩]*(?P<w>(?!0[0-9])[0-9]{T.AMOUNT_TAIL})(?![0-9.,a-z])(?: ?원)?"
    rf"|(?P<k>[0-9](?<![0-9.,].)(?<!0(?=[0-9])){T.AMOUNT_TAIL}) ?원")
_PLAIN_PRICE = re.compile("[0-9]+원")
_AMOUNT_TOKEN = re.compile(r"([0-9][0-9,]*(?:\.[0-9]+)?)|([조억만천백십])")
_PHONE = re.compile(
    rf"(?:\+(?<![0-9a-z+]\+) ?82[ .\-]?(?:\(0\) ?)?0?(?P<a>{T.PHONE_AREA_AFTER_82})"
    rf"|\((?<![0-9a-z+]\()(?P<b>[0o]{T.PHONE_AREA})\)|(?P<c>[0o](?<![0-9a-z+].){T.PHONE_AREA})"
    rf"|(?P<d>{T.PHONE_PREFIX_WORDS}))"
    rf"{T.PHONE_SEP}(?P<m>[0-9]{{3,4}}){T.PHONE_SEP}(?P<l>[0-9]{{4}})(?![0-9])")
_LEET_HINT = re.compile(r"[a-z][013457@$][a-z]")
_LEET_TOKEN = re.compile(r"(?<![a-z0-9@$])[a-z0-9@$]*?[a-z][013457@$][a-z][a-z0-9@$]*")
_LEET_CHAR = re.compile(r"(?<=[a-z])[013457@$](?=[a-z])")
_EMAIL_TAIL = re.compile(r"\.[a-z]")


def strip_invisible(s: str) -> str:
    """Delete invisible characters; blank fillers -> space; pre-NFKC folds (⒜, ❶, ㉠, ™)."""
    s = _INVISIBLE.sub("", s)
    return s.translate(_PRE_FOLD) if _PRE_HINT.search(s) else s


def nfkc(s: str) -> str:
    """NFKC on every non-ASCII run that is not Hangul (jamo and syllables are left alone)."""
    if s.isascii():
        return s
    if not unicodedata.is_normalized("NFKC", s):
        s = _NFKC_RUN.sub(lambda m: unicodedata.normalize("NFKC", m.group()), s)
    if _CONJOINING.search(s):  # NFD-style Hangul: compose standard sequences, rest -> compatibility
        s = _CONJOINING_RUN.sub(lambda m: unicodedata.normalize("NFC", m.group()), s)
        s = s.translate(T.CONJOINING_TO_COMPAT)
    return s


def remove_decorations(s: str) -> str:
    """Typographic folds; symbols/emoji deleted between two single syllables, else -> space."""
    s = s.translate(_POST_FOLD) if _POST_HINT.search(s) else s
    s = _DECOR.sub(" ", _DECOR_INNER.sub(lambda m: m.group()[0], s)) if _DECOR.search(s) else s
    return _EU_LINE.sub(" ", s) if "ㅡㅡㅡ" in s else s


def collapse_whitespace(s: str) -> str:
    return " ".join(s.split())


def _homoglyph_token(m: re.Match[str]) -> str:
    t = m.group()
    if t.isascii() or not (any(c.isascii() for c in t) or all(ord(c) in T.HOMOGLYPHS for c in t)):
        return t
    return t.translate(T.HOMOGLYPHS)


def map_homoglyphs(s: str) -> str:
    """Cyrillic/Greek look-alikes -> Latin in mixed-script or all-look-alike tokens."""
    if not _HG_ANY.search(s):
        return s
    t = _HG_TOKEN.sub(_homoglyph_token, s)
    return nfkc(t) if t != s else s  # "а" + U+0300 -> "a" + U+0300 -> "à"


def fix_lookalikes(s: str) -> str:
    """Latin drawing Hangul beside jamo/syllables ("ㄷr" -> ㄷㅏ, "ol벤트" -> 이벤트, "cㅇm" -> com)."""
    if s.isascii() or not (_CONS_ANY.search(s) or any(p in s for p in _LOOKALIKE_PAIRS)):
        return s
    s = _LATIN_O.sub("o", s) if "ㅇ" in s else s
    for _ in range(4):  # each rule can create the context of another ("ㄱ|ol가" -> "ㄱ|이가" -> 기이가)
        t = _CONS_LATIN.sub(lambda m: m.group(1) + T.LOOKALIKE_MEDIALS[m.group(2)], s)
        t = _LL.sub("니", _OL.sub("이", t))
        if t == s:
            break
        s = t
    return s


def _vowel_at(s: str, k: int, n: int) -> int | None:
    """Medial index of s[k]; None when not a vowel or a repeated emoticon vowel ("ㅠㅠ")."""
    if k >= n or (v := T.VOWEL_INDEX.get(s[k])) is None:
        return None
    return None if k + 1 < n and s[k + 1] == s[k] else v


def _syllable_start(s: str, k: int, n: int) -> bool:
    if k >= n:
        return False
    return "가" <= s[k] <= "힣" or (s[k] in T.INITIAL_INDEX and _vowel_at(s, k + 1, n) is not None)


def _final_after_jamo(s: str, j: int, n: int) -> tuple[int, int]:
    """Final of a syllable built from jamo: a consonant that does not start the next syllable."""
    if j >= n:
        return 0, j
    t = T.FINAL_INDEX.get(s[j], 0)
    if not t or (j + 1 < n and s[j + 1] in T.VOWEL_INDEX):
        return 0, j
    if j + 1 >= n or _syllable_start(s, j + 1, n) or not _ANY_HANGUL.match(s, j + 1):
        return t, j + 1  # next syllable or end of word
    return 0, j  # followed by lone jamo ("ㅋㅋ"): leave it


def _compose(s: str, j: int, n: int, lead: int, v: int) -> tuple[str, int]:
    """Syllable from initial s[j] + medial s[j+1] (+ compound medial) (+ final)."""
    k = j + 2
    if k < n and s[k] in T.VOWEL_INDEX:
        if comp := T.COMPOUND_VOWELS.get((T.JUNGSEONG[v], T.JUNGSEONG[T.VOWEL_INDEX[s[k]]])):
            v, k = T.VOWEL_INDEX[comp], k + 1
    fold = T.JAMO_VOWEL_FOLD.get(T.JUNGSEONG[v])
    if fold and T.CHOSEONG[lead] not in T.JAMO_VOWEL_FOLD_KEEP_AFTER:
        v = T.VOWEL_INDEX[fold]
    t, k = _final_after_jamo(s, k, n)
    return chr(T.SYL_FIRST + (lead * 21 + v) * 28 + t), k


def recompose_jamo(s: str) -> str:
    """Compose compatibility jamo into syllables (``nfkc`` already turned conjoining jamo into them)."""
    if not _JAMO.search(s):
        return s
    s = _SPACED_JAMO.sub(r"\1", s)
    out: list[str] = []
    i, n, prev_verbatim = 0, len(s), False
    while i < n:
        m = _JAMO.search(s, i)
        if m is None:
            out.append(s[i:])
            break
        j, c = m.start(), m.group()
        if j > i:
            out.append(s[i:j])
            prev_verbatim = True
        lead = T.INITIAL_INDEX.get(c)
        v = _vowel_at(s, j + 1, n) if lead is not None else None
        if lead is not None and v is not None:
            syllable, i = _compose(s, j, n, lead, v)
            out.append(syllable)
            prev_verbatim = False
            continue
        p = ord(s[j - 1]) - T.SYL_FIRST if prev_verbatim else -1
        if 0 <= p <= T.SYL_LAST - T.SYL_FIRST and p % 28 == 0:  # open syllable copied as is
            t = T.FINAL_INDEX.get(c, 0) if _syllable_start(s, j + 1, n) else 0
            if t:
                out[-1] = out[-1][:-1] + chr(T.SYL_FIRST + p + t)
                i, prev_verbatim = j + 1, False
                continue
        out.append(c)
        i, prev_verbatim = j + 1, False
    return "".join(out)


def casefold(s: str) -> str:
    """Casefold; NFKC and homoglyph mapping again where casefolding created something new."""
    for _ in range(3):
        t = s.casefold()
        if t == s:
            break
        s = map_homoglyphs(nfkc(t)) if _NON_ASCII_NON_HANGUL.search(t) else t
    return s


def collapse_punctuation(s: str) -> str:
    return _PUNCT_RUN.sub(r"\1", s)


def _join_chain(m: re.Match[str]) -> str:
    parts = _SEP_SPLIT.split(m.group())
    out = [parts[0]]
    for i in range(1, len(parts), 2):
        left, sep, right = len(parts[i - 1]) == 1, parts[i], len(parts[i + 1]) == 1
        joined = (left and right) if sep in "./" else (left or right)  # "./" end sentences too
        out.append(parts[i + 1] if joined else sep + parts[i + 1])
    return "".join(out)


def join_split_words(s: str) -> str:
    """Undo letter-splitting: "단.타", "환-급", "팝 니 다", "b.t.c", "e v e n t"."""
    if _SEP_HINT.search(s):
        s = _SEP_CHAIN.sub(_join_chain, s)
    if _SPACED_SYL_HINT.search(s):
        s = _SPACED_SYL.sub(lambda m: m.group().replace(" ", ""), s)
    return _SPACED_LETTERS.sub(lambda m: m.group()[::2], s)


def fix_numeric_o(s: str) -> str:
    """Letter o used as a zero inside a number ("3o,ooo" -> "30,000", "2o%" -> "20%")."""
    return _NUMERIC_O.sub(lambda m: m.group().replace("o", "0"), s) if "o" in s else s


def _amount(text: str) -> int | None:
    """Value of "15,000", "1.5만", "4억2천만" (None when not a whole number of won)."""
    total, group, cur = Decimal(0), Decimal(0), None
    for num, unit in _AMOUNT_TOKEN.findall(text):
        if num:
            group += cur or 0
            cur = Decimal(num.replace(",", ""))
        elif unit in T.SMALL_UNITS:
            group += (cur if cur is not None else 1) * T.SMALL_UNITS[unit]
            cur = None
        else:
            base = group + cur if cur is not None else group
            total += (base if cur is not None or group else 1) * T.BIG_UNITS[unit]
            group, cur = Decimal(0), None
    total += group + (cur or 0)
    return int(total) if total == total.to_integral_value() else None


def _price(m: re.Match[str]) -> str:
    value = None if _PLAIN_PRICE.fullmatch(m.group()) else _amount(m["w"] or m["k"])
    return m.group() if value is None else f"{value}원"


def canonical_prices(s: str) -> str:
    """Won amounts -> "<integer>원": "15,000원", "₩15,000", "1만5천원", "1.5만원" -> "15000원"."""
    return _PRICE.sub(_price, s) if _PRICE_HINT.search(s) else s


def _phone(m: re.Match[str]) -> str:
    head = "0" + m["a"] if m["a"] else (m["b"] or m["c"] or "".join(T.KOREAN_DIGITS[c] for c in m["d"]))
    return head.replace("o", "0") + m["m"] + m["l"]


def canonical_phones(s: str) -> str:
    """Korean phone numbers in any writing -> bare digits ("+82 10-1234-5678" -> "01012345678")."""
    return _PHONE.sub(_phone, s)


def _leet_token(m: re.Match[str]) -> str:
    t = m.group()
    letters = sum(c.isalpha() for c in t)
    if letters < 2 * (len(t) - letters):  # mostly digits: a code or a number, leave it
        return t
    keep_at = "@" in t and _EMAIL_TAIL.match(m.string, m.end()) is not None
    return _LEET_CHAR.sub(lambda x: "@" if keep_at and x.group() == "@" else T.LEET[x.group()], t)


def fix_leetspeak(s: str) -> str:
    """Digits/symbols inside mostly-letter Latin words: "p0int" -> "point", "c@sino" -> "casino"."""
    return _LEET_TOKEN.sub(_leet_token, s) if _LEET_HINT.search(s) else s


def normalize(text: str) -> str:
    """Normalize one text (see the module docstring for the steps and canonical forms)."""
    if not text:
        return ""
    s = collapse_whitespace(remove_decorations(nfkc(strip_invisible(str(text)))))
    s = recompose_jamo(fix_lookalikes(casefold(map_homoglyphs(s))))
    s = fix_numeric_o(join_split_words(collapse_punctuation(collapse_whitespace(s))))
    return collapse_whitespace(fix_leetspeak(canonical_phones(canonical_prices(s))))


def text_hash(normalized: str) -> str:
    """SHA-256 hex of the UTF-8 bytes of an (already normalized) text."""
    return hashlib.sha256(normalized.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """A normalized text, its ``text_hash`` and the ``NORMALIZER_VERSION`` that produced it."""

    text: str
    hash: str
    version: str = T.NORMALIZER_VERSION

    @classmethod
    def of(cls, raw: str) -> NormalizedText:
        norm = normalize(raw)
        return cls(norm, text_hash(norm))
