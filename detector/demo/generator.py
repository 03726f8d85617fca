"""Deterministic synthetic marketplace posts with ground truth.

Why synthetic: the demo and the tests must run offline without real user data, yet the
detector only proves anything if the data has the hard parts of the real thing -- many
genuinely different private posts, and professional sellers who post the same ad over
and over from several accounts while mutating it just enough to dodge exact-match and
keyword filters.  Everything is driven by one ``random.Random(seed)`` so a failing test
or a demo screenshot can be reproduced exactly.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import NamedTuple
from datetime import datetime, timedelta, timezone

from detector.demo import vocab as V

KST = timezone(timedelta(hours=9))
DEFAULT_START = datetime(2026, 11, 20, 9, 0, tzinfo=KST)
SPAN_S = 2 * 24 * 3600
APP_VERSIONS = ("23.40.1", "23.41.0", "23.42.2", "24.1.0")
_HANGUL_WORD = re.compile(r"[가-힣]{2,}")
_CHO = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_JUNG = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_JONG = ("",) + tuple("ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")


@dataclass(frozen=True)
class SamplePost:
    record: dict          # the JSON object as a marketplace backend would send it
    truth: str            # "seller" or "normal"
    campaign: str | None  # campaign id for professional-seller posts, None for private sellers


@dataclass
class _Draft:
    """A campaign post being mutated; price travels with the text so the record stays consistent."""
    text: str
    price: int


class _Campaign(NamedTuple):
    cid: str
    unit: str   # "won" prints 9,000원; "man" prints 1,350만원 as car ads do
    phone: str  # 11 digits; the base text writes it 010-1234-5678


# --- small Korean helpers -----------------------------------------------------------

def _has_batchim(word: str) -> bool:
    last = word[-1]
    return not ("가" <= last <= "힣") or (ord(last) - 0xAC00) % 28 != 0


def _decompose(syllable: str) -> str:
    """'헤' -> 'ㅎㅔ': sellers spell words in loose jamo so keyword filters miss them."""
    i = ord(syllable) - 0xAC00
    return _CHO[i // 588] + _JUNG[i % 588 // 28] + _JONG[i % 28]


def _fmt_price(price: int, unit: str) -> str:
    return f"{price // 10000:,}만원" if unit == "man" else f"{price:,}원"


# --- private sellers ----------------------------------------------------------------

def _typo(rng: random.Random, text: str, english: bool) -> str:
    """Real people make small, uneven mistakes; without them private posts look machine-made."""
    pos, kind = rng.randrange(1, max(2, len(text) - 1)), rng.randrange(4)
    if kind == 0:
        return text.lower() if english else text.replace("요", "여", 1)
    if kind == 1:   # a swallowed space, or "u" for "you"
        return text.replace(" you", " u") if english else text[:pos] + text[pos:].replace(" ", "", 1)
    if kind == 2 and english:   # swapped letters
        return text[:pos - 1] + text[pos] + text[pos - 1] + text[pos + 1:]
    if kind == 2:               # a doubled syllable
        return text[:pos + 1] + text[pos:]
    return text[:pos] + text[pos + 1:] if english else text + rng.choice(("ㅎㅎ", "ㅠㅠ", "~~", "!!", " ㅋㅋ"))


def _private_post(rng: random.Random) -> tuple[str | None, str, int, str]:
    """Compose one post from independent choices (item, reason, condition, details, terms...)."""
    english = rng.random() < 0.2
    lang = V.EN if english else V.KO
    name, cat, lo, hi, details = rng.choice(lang["items"])
    place = rng.choice(V.REGIONS).split()[-1]
    price = rng.randrange(lo // 1000, hi // 1000 + 1) * 1000
    price_s = rng.choice(lang["prices"]).format(price)
    if rng.random() < 0.05:
        price, price_s = 0, rng.choice(lang["free"])
    intro = rng.choice(lang["intros"]).format(   # Korean particles follow the final consonant
        item=name, item_eul=name + ("을" if _has_batchim(name) else "를"),
        item_i=name + ("이" if _has_batchim(name) else "가"))
    by_cat = None if english else V.KO_REASONS_BY_CAT.get(cat)
    reason = rng.choice(by_cat if by_cat and rng.random() < 0.6 else lang["reasons"])
    parts = [intro]
    if rng.random() < 0.15:   # a one-liner: plenty of real posts are just this
        parts.append(price_s)
    else:
        if reason and rng.random() < 0.75:
            parts.insert(rng.choice((0, 1, 1)), reason)
        if rng.random() < 0.75:
            parts.append(rng.choice(lang["conditions"]))
        parts += rng.sample(details, rng.randint(0, len(details)))
        if rng.random() < 0.6:
            parts.append(price_s)
        parts += [t.format(place=place) for t in rng.sample(lang["terms"], rng.randint(0, 2))]
        if rng.random() < 0.5:
            parts.append(rng.choice(lang["closers"]))
    text = rng.choice((" ", "\n", " ", "\n\n")).join(p for p in parts if p)
    if rng.random() < 0.35:
        text = _typo(rng, text, english)
    title = rng.choice(lang["titles"]).format(item=name, place=place) if rng.random() < 0.9 else None
    return title, text, price, cat


# --- professional sellers: the mutation set --------------------------------------------

def _m_price(rng, d: _Draft, c: _Campaign) -> None:
    step = 10000 if c.unit == "man" else (100 if d.price < 100000 else 1000)
    new = round(d.price * rng.choice((0.8, 0.85, 0.9, 0.95, 1.05, 1.1)) / step) * step
    new = new if new != d.price else d.price - step
    d.text = d.text.replace(_fmt_price(d.price, c.unit), _fmt_price(new, c.unit), 1)
    d.price = new


def _m_phone(rng, d: _Draft, c: _Campaign) -> None:
    a, b, e = c.phone[:3], c.phone[3:7], c.phone[7:]
    spelled = "".join(V.PHONE_WORDS[int(x)] for x in c.phone)
    styles = (f"{a} {b} {e}", f"공일공-{b}-{e}", f"O1O.{b}.{e}", f"{a}.{b}.{e}", c.phone,
              f"{spelled[:3]} {spelled[3:7]} {spelled[7:]}", f"(010){b}-{e}", f"공1공ㅡ{b}ㅡ{e}")
    d.text = d.text.replace(f"{a}-{b}-{e}", rng.choice(styles))


def _m_swap(rng, d: _Draft, c: _Campaign) -> None:
    lines = d.text.split("\n")
    i = rng.randrange(len(lines) - 1)   # neighbours: reads naturally, still defeats exact matching
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    d.text = "\n".join(lines)


def _m_greeting(rng, d: _Draft, c: _Campaign) -> None:
    d.text = rng.choice(V.GREETINGS) + "\n" + d.text


def _m_decorate(rng, d: _Draft, c: _Campaign) -> None:
    lines = d.text.split("\n")
    for _ in range(rng.randint(1, 3)):
        i, sym = rng.randrange(len(lines)), rng.choice(V.DECORATIONS) * rng.randint(1, 3)
        lines[i] = sym + lines[i] if rng.random() < 0.5 else lines[i] + " " + sym
    d.text = "\n".join(lines)


def _char_trick(pattern: re.Pattern, fn, most: int):
    """Rewrite 1..most random matches of `pattern`: the shape shared by all character-level tricks."""
    def apply(rng: random.Random, d: _Draft, c: _Campaign) -> None:
        for _ in range(rng.randint(1, most)):
            matches = list(pattern.finditer(d.text))
            if matches:
                m = rng.choice(matches)
                d.text = d.text[:m.start()] + fn(m.group()) + d.text[m.end():]
    return apply


_m_circled = _char_trick(re.compile(r"\d[\d,]*"), lambda s: "".join(
    V.CIRCLED[int(x)] if x.isdigit() else x for x in s), 1)                        # "15" -> "①⑤"
_m_latin = _char_trick(re.compile("|".join(V.LATIN_LOOKALIKES)), V.LATIN_LOOKALIKES.__getitem__, 3)
_m_jamo = _char_trick(_HANGUL_WORD, lambda w: _decompose(w[0]) + w[1:], 2)          # "ㅎㅖ어져서"
_m_spacing = _char_trick(_HANGUL_WORD, " ".join, 1)                                # "팝 니 다"
_m_zero_width = _char_trick(_HANGUL_WORD, lambda w: w[0] + "\u200b" + w[1:], 4)


# Applied in this order: structural edits first, so later character tricks cannot hide
# the price or phone number that the structural edits look for.
MUTATIONS = (_m_price, _m_phone, _m_swap, _m_greeting, _m_decorate,
             _m_circled, _m_latin, _m_jamo, _m_spacing, _m_zero_width)


def mutate(rng: random.Random, base: str, price: int, c: _Campaign) -> _Draft:
    """Apply 1-3 random mutations; guarantees the text differs from the base."""
    d = _Draft(base, price)
    for i in sorted(rng.sample(range(len(MUTATIONS)), rng.randint(1, 3))):
        MUTATIONS[i](rng, d, c)
    if d.text == base:
        _m_decorate(rng, d, c)
    return d


# --- assembling the stream ---------------------------------------------------------------

def _new_author(rng: random.Random, taken: set[str]) -> str:
    while (aid := f"u-{rng.getrandbits(32):08x}") in taken:
        pass
    taken.add(aid)
    return aid


def _image(rng: random.Random) -> str:
    return f"https://img.example.com/{rng.getrandbits(48):012x}.jpg"


def _extras(rng: random.Random, category: str, age_days: int) -> dict:
    """0-2 keys the ingest edge does not know about, so it must pass them through."""
    pool = {"category": category, "app_version": rng.choice(APP_VERSIONS),
            "account_age_days": age_days, "os": rng.choice(("ios", "android"))}
    return {k: pool[k] for k in rng.sample(sorted(pool), rng.choice((0, 0, 1, 1, 2)))}


def _campaign_posts(rng, index, start, taken) -> list[tuple[datetime, dict, str]]:
    """One seller's burst: 15-40 mutated copies of one ad from 3-8 accounts within hours."""
    tmpl = V.CAMPAIGNS[index % len(V.CAMPAIGNS)]
    digits = "010" + f"{rng.randrange(10 ** 8):08d}"
    c = _Campaign(f"camp-{index + 1:02d}-{tmpl['slug']}", tmpl["unit"], digits)
    base = tmpl["text"].format(price=_fmt_price(tmpl["price"], c.unit),
                               phone=f"010-{digits[3:7]}-{digits[7:]}")
    n_accounts = rng.randint(3, 8)
    n_new = rng.randint(2, n_accounts)   # throwaway accounts made for this campaign
    accounts = [(_new_author(rng, taken), rng.randint(0, 2) if k < n_new else rng.randint(30, 900))
                for k in range(n_accounts)]
    photos = [_image(rng) for _ in range(rng.randint(2, 4))]   # the same stock photos, reused
    regions = rng.sample(V.REGIONS, rng.randint(2, 4))           # region hopping
    duration = rng.uniform(2, 5) * 3600
    t0 = rng.uniform(0, SPAN_S - duration - 1800)
    n_bursts = rng.randint(2, 5)
    bursts = [duration * (k + rng.random()) / n_bursts for k in range(n_bursts)]
    out = []
    for _ in range(rng.randint(15, 40)):
        when = start + timedelta(seconds=int(t0 + rng.choice(bursts) + abs(rng.gauss(0, 600))))
        author, age = rng.choice(accounts)
        d = mutate(rng, base, tmpl["price"], c)
        title = rng.choice(V.DECORATIONS) + tmpl["title"] if rng.random() < 0.4 else tmpl["title"]
        rec = {"title": title, "text": d.text, "author_id": author, "content_type": "listing",
               "created_at": when.isoformat(timespec="seconds"), "region": rng.choice(regions),
               "price": d.price, "image_urls": rng.sample(photos, rng.randint(1, len(photos)))}
        rec.update(_extras(rng, tmpl["category"], age))
        out.append((when, rec, c.cid))
    return out


def _normal_posts(rng, n, start, taken) -> list[tuple[datetime, dict, None]]:
    """One-off private posts; about one author in ten posts a second, unrelated item."""
    singles: list[tuple[str, int]] = []
    out = []
    for _ in range(n):
        if singles and rng.random() < 0.1:
            author, age = singles.pop(rng.randrange(len(singles)))
        else:
            author, age = _new_author(rng, taken), rng.randint(1, 2500)
            singles.append((author, age))
        while True:   # people post mostly in waking hours
            when = start + timedelta(seconds=rng.randrange(SPAN_S))
            if when.hour >= 7 or rng.random() < 0.1:
                break
        title, text, price, cat = _private_post(rng)
        rec = {"title": title, "text": text, "author_id": author, "content_type": "listing",
               "created_at": when.isoformat(timespec="seconds"), "region": rng.choice(V.REGIONS),
               "price": price, "image_urls": [_image(rng) for _ in range(rng.randint(1, 5))]}
        # Optional fields go missing now and then, as they do from older app versions.
        for key, keep in (("title", 0.9), ("content_type", 0.95), ("region", 0.9),
                          ("price", 0.85), ("image_urls", 0.8)):
            if rec[key] is None or rng.random() >= keep:
                del rec[key]
        rec.update(_extras(rng, cat, age))
        out.append((when, rec, None))
    return out


def generate_stream(n_normal: int = 300, n_campaigns: int = 6, seed: int = 7,
                    start: datetime | None = None) -> list[SamplePost]:
    """Posts in time order, private and professional interleaved as a live feed would be.

    Ids ("demo-000001", ...) follow time order, so they carry no hint of the truth label.
    Beyond the 8 campaign templates, campaigns reuse a template with a new phone/accounts.
    """
    rng = random.Random(seed)
    start = start or DEFAULT_START
    start = start if start.tzinfo else start.replace(tzinfo=KST)
    taken: set[str] = set()
    rows = _normal_posts(rng, n_normal, start, taken)
    for i in range(n_campaigns):
        rows += _campaign_posts(rng, i, start, taken)
    order = sorted(range(len(rows)), key=lambda k: (rows[k][0], k))
    return [SamplePost(record={"id": f"demo-{n + 1:06d}", **rows[k][1]},
                       truth="normal" if rows[k][2] is None else "seller", campaign=rows[k][2])
            for n, k in enumerate(order)]


def bad_lines() -> list[bytes]:
    """Raw JSONL lines that the ingest edge must reject, each for a different reason."""
    def dump(obj) -> bytes:
        return json.dumps(obj, ensure_ascii=False).encode("utf-8")
    return [
        b'{"id": "bad-json", "text": "unterminated',                              # not JSON
        dump([{"id": "bad-array", "text": "배열로 감싼 글"}]),                          # array, not object
        dump({"text": "아이디 없는 글이에요", "author_id": "u-00000000"}),                # missing id
        dump({"id": "bad-no-text", "title": "본문 없음"}),                             # missing text
        dump({"id": "bad-text-type", "text": 12345}),                              # text is a number
        b'{"id": "bad-utf8", "text": "\xff\xfe caf\xe9"}',                          # invalid UTF-8
        dump({"id": "bad-date", "text": "어제 올린 글", "created_at": "yesterday"}),     # unparseable date
        dump({"id": "bad-price", "text": "나눔해요", "price": "free"}),                # price not an int
        dump({"id": "bad-too-long", "text": "팝니다 " * 25_001}),                      # text > 100,000 chars
        dump({"id": "bad-images", "text": "사진 있어요", "image_urls": "https://img.example.com/a.jpg"}),
    ]
