"""Table-driven tests for detector.normalize (text normalization before embedding/shingling).

Short literal snippets marked "KISA" come from the KISA 2022-08-14 spam-report export and the ones
marked "daangn" from the Daangn listing crawl (../shared/datasets); the tests never read those files.
"""

from __future__ import annotations

import hashlib
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.normalize import NORMALIZER_VERSION, NormalizedText, normalize, text_hash
from detector.normalize import bench, tables, text


def _plain(s: str) -> str:
    """What 'unchanged apart from casefold/whitespace' means."""
    return " ".join(s.casefold().split())


# ---------------------------------------------------------------------------------------------
# (input, expected normalized output)
INVISIBLE = [
    ("팝\u200b니다", "팝니다"),
    ("헤\u200c어\u200d져서", "헤어져서"),
    ("판\u2060매", "판매"),
    ("\ufeff중고폰", "중고폰"),
    ("soft\u00adhyphen", "softhyphen"),
    ("하트\ufe0f", "하트"),
    ("가\u202e나", "가나"),
    ("가\u3164나", "가 나"),  # Hangul filler used as a blank
    ("지역 가능 \u200b택배: 타지", "지역 가능 택배: 타지"),  # daangn
]

DECORATIVE = [
    ("잔◆액 560,000원만◆료", "잔액 560000원만 료"),  # KISA: an insertion between single syllables
    ("무★료 코★드 스♡롯", "무료 코드 스롯"),  # KISA
    ("인증업체자▶개인요율설정", "인증업체자 개인요율설정"),  # KISA: a bullet between words
    ("♥한.가.위♥ 선물받고", "한가위 선물받고"),  # KISA
    ("★24억1등★농협본점 방문", "24억1등 농협본점 방문"),  # KISA
    ("같은 풍천장어!♥장어소스2종", "같은 풍천장어! 장어소스2종"),  # KISA
    ("☆★♥♡♧◆◇▶◀※☞✔", ""),
    ("━━━━━ 공지 ━━━━━", "공지"),
    ("ㅡㅡㅡㅡㅡㅡㅡhttps://open.kakao.com", "https://open.kakao.com"),  # KISA separator line
    ("대면거래만⭐️ 합니다!", "대면거래만 합니다!"),  # daangn
    ("연락 주세요 🙂", "연락 주세요"),  # daangn
    ("hello😀world", "hello world"),
    ("안녕😀하세요", "안녕 하세요"),
    ("안😀녕", "안녕"),
    ("문고리/택배❌ - 판매", "문고리/택배 - 판매"),  # daangn
    ("【포인트】 안내", "[포인트] 안내"),  # KISA brackets
    ("“정품” ‘새상품’", "\"정품\" '새상품'"),
]

JAMO = [
    ("ㅎㅖ어져서", "헤어져서"),  # built from jamo: ㅖ after ㅎ -> ㅔ (homophones)
    ("ㅍㅏㄴ매", "판매"),
    ("파ㄴ매", "판매"),
    ("ㅍㅏㄴㅁㅐ", "판매"),
    ("ㄱㅗㅏ일", "과일"),
    ("ㄷ ㅐ박 터졌다", "대박 터졌다"),  # KISA: "ㄷ ㅐ박"
    ("ㅁㅐ매", "매매"),
    ("ㅇㅖ약", "예약"),  # ㅖ kept after ㅇ
    ("혜택 계좌 예약", "혜택 계좌 예약"),  # precomposed text is never folded
    ("ㅋㅋㅋ", "ㅋㅋㅋ"),
    ("ㅎㅎ", "ㅎㅎ"),
    ("ㅠㅠ", "ㅠㅠ"),
    ("ㅋㅋㅠㅠ", "ㅋㅋㅠㅠ"),
    ("좋아요ㅋㅋㅋ", "좋아요ㅋㅋㅋ"),
    ("ㅇㅋ 감사", "ㅇㅋ 감사"),
    ("없어져서 판매해여 ㅠㅠ", "없어져서 판매해여 ㅠㅠ"),  # daangn
    ("노쇼차단합니다ㅜ", "노쇼차단합니다ㅜ"),  # daangn
    ("팝니다 ㅎ 샤프트는", "팝니다 ㅎ 샤프트는"),  # daangn
    (unicodedata.normalize("NFD", "한국 중고"), "한국 중고"),  # decomposed (NFD) Hangul
    ("\u1112\u1161", "하"),  # conjoining jamo
    ("㉠㉡", "ㄱㄴ"),
    ("ﾡ", "ㄱ"),  # halfwidth jamo
]

LOOKALIKE = [
    ("팝니ㄷr", "팝니다"),
    ("ㅇI벤 20%", "이벤 20%"),  # KISA
    ("ㅊl킨+30%", "치킨+30%"),  # KISA
    ("먹튀폴ㄹI스", "먹튀폴리스"),  # KISA
    ("미니 ㄱrl임", "미니 개임"),  # KISA ("게임" drawn as ㄱ+r+l)
    ("ㅋr진호", "카진호"),  # KISA
    ("모ㅂr일ㄱr능", "모바일가능"),  # KISA
    ("ㅁr지막기회!", "마지막기회!"),  # KISA
    ("ㅌr점공유", "타점공유"),  # KISA
    ("토ㅈl 93%매매완료", "토지 93%매매완료"),  # KISA
    ("Ol벤트 ▷ 텔_레", "이벤트 텔레"),  # KISA
    ("ㅊOl용시", "ㅊ이용시"),  # KISA
    ("팝Ll다", "팝니다"),
    ("팝LI다", "팝니다"),
    ("ㅇr이폰", "아이폰"),
    ("78kse,Ｃㅇm", "78kse,com"),  # KISA: ㅇ drawn as o between Latin letters
]

NFKC_AND_CIRCLED = [
    ("ＡＢＣ１２３", "abc123"),
    ("①②⑥", "126"),
    ("ⓚⓡ", "kr"),
    ("⒜⒝", "ab"),
    ("ⓞ", "o"),
    ("⑴⑵", "12"),
    ("❶➀⓫", "1111"),
    ("🅐🅑🅰", "aba"),
    ("MⓞCⓞ2②2.com", "moco222.com"),  # KISA
    ("ⓡⓚRⓚ③", "rkrk3"),  # KISA
    ("㈜대한", "(주)대한"),
    ("Galaxy™", "galaxy"),
    ("ﬁne", "fine"),
]

HOMOGLYPHS = [
    ("cаsino", "casino"),  # Cyrillic а
    ("СОIN", "coin"),  # Cyrillic С, О
    ("ΡΟΙΝΤ", "point"),  # Greek
    ("Привет мир", "привет мир"),  # real Russian stays
    ("Αθήνα", "αθήνα"),  # real Greek stays
]

LEET = [
    ("P0INT", "point"),
    ("P0INT는 즉시 환전", "point는 즉시 환전"),  # KISA
    ("c@sino", "casino"),
    ("ca$ino", "casino"),
    ("비트코인CO1N매매", "비트코인coin매매"),  # KISA
    ("b1tcoin", "bitcoin"),
    ("iphone13", "iphone13"),
    ("a1b2c3", "a1b2c3"),
    ("user@naver.com", "user@naver.com"),
    ("rtx3070 4k", "rtx3070 4k"),
]

NUMERIC_O = [
    ("3oo시 30만드림", "300시 30만드림"),  # KISA
    ("충+2O%", "충+20%"),  # KISA
    ("대단ㅈl 7o7세대", "대단지 707세대"),  # KISA
    ("⑴⒪ %", "10 %"),  # KISA
    ("１o%", "10%"),  # KISA
    ("3o,ooo 즉시 환전", "30,000 즉시 환전"),  # KISA
    ("추①ⓞⓞⓞ", "추1000"),  # KISA
    ("me2.kr/3ouy3 입장", "me2.kr/3ouy3 입장"),  # KISA: o in a URL code, not a number
]

SPACING = [
    ("팝 니 다", "팝니다"),
    ("판 매 합 니 다", "판매합니다"),
    ("\"농경업 관련 작 전 주\"", "\"농경업 관련 작전주\""),  # KISA
    ("E V E N T", "event"),  # KISA
    ("주말 E P L 개막", "주말 epl 개막"),  # KISA
    ("♥ r a n k ♥ 초대", "rank 초대"),  # KISA
    ("B.T.C", "btc"),
    ("b/t/c", "btc"),
    ("B.T.C단.타12시 시작", "btc단타12시 시작"),  # KISA
    ("N.C.B신용평가", "ncb신용평가"),  # KISA
    ("대.형.공.시", "대형공시"),  # KISA
    ("보/유/쿠/폰 적용", "보유쿠폰 적용"),  # KISA
    ("룰-렛 출-첵", "룰렛 출첵"),  # KISA
    ("매 주 １o% 환ㅡ급", "매 주 10% 환급"),  # KISA: the vowel ㅡ drawn as a dash
    ("환_전..항상", "환전.항상"),  # KISA
    ("희망대·출 안내문", "희망대출 안내문"),  # KISA
    ("지·원자금", "지원자금"),  # KISA
    ("환*급 530,000원", "환급 530000원"),  # KISA
    ("코.드 : PP 입.력", "코드 : pp 입력"),  # KISA
    ("드라이버ㆍ우드 ㆍ유틸", "드라이버·우드 ·유틸"),  # daangn: a list, not a split word
    ("입니다.감사합니다", "입니다.감사합니다"),
    ("택배/직거래 가능", "택배/직거래 가능"),
    ("사이즈 S M", "사이즈 s m"),
    ("이 옷", "이 옷"),
]

PHONES = [
    ("010-1234-5678", "01012345678"),
    ("010 1234 5678", "01012345678"),
    ("010.1234.5678", "01012345678"),
    ("O1O-1234-5678", "01012345678"),
    ("o1o 1234 5678", "01012345678"),
    ("공일공-1234-5678", "01012345678"),
    ("+82 10-1234-5678", "01012345678"),
    ("+82-10-1234-5678", "01012345678"),
    ("+8210 1234 5678", "01012345678"),
    ("01012345678", "01012345678"),
    ("010 - 1234 - 5678", "01012345678"),
    ("010--1234--5678", "01012345678"),
    ("080-888-0177", "0808880177"),
    ("0808880177", "0808880177"),
    ("무료거부 080-888-0177", "무료거부 0808880177"),
    ("02-123-4567", "021234567"),
    ("(02) 123-4567", "021234567"),
    ("031-123-4567", "0311234567"),
    ("070-1234-5678", "07012345678"),
    ("상담문의☎010-1234-5678", "상담문의 01012345678"),
    ("2022.08.14", "2022.08.14"),  # a date, not a phone
    ("1588-1234", "1588-1234"),  # no canonical form for representative numbers
    ("010-1234-5678-90", "01012345678-90"),
]

PRICES = [
    ("15,000원", "15000원"),
    ("15000원", "15000원"),
    ("15,000 원", "15000원"),
    ("1만5천원", "15000원"),
    ("1만 5천원", "15000원"),
    ("1.5만원", "15000원"),
    ("₩15,000", "15000원"),
    ("₩ 15,000원", "15000원"),
    ("￦15,000", "15000원"),
    ("4억2천만원", "420000000원"),  # KISA
    ("최소 1천 만원 ~", "최소 10000000원 ~"),  # KISA
    ("3천원 추가", "3000원 추가"),  # daangn
    ("15만9천원에 구매", "159000원에 구매"),  # daangn
    ("상품권 10만원권입니다", "상품권 100000원권입니다"),  # daangn
    ("반값택배 2,000원", "반값택배 2000원"),  # daangn
    ("1.55원", "1.55원"),  # not a whole number of won: left alone
    ("만원", "만원"),
    ("10,000 POINT", "10,000 point"),  # KISA: no currency, not a price
    ("고객 1만명", "고객 1만명"),  # KISA
]

PUNCTUATION_AND_SPACE = [
    ("대박!!!!", "대박!"),
    ("초대합니다~~", "초대합니다~"),
    ("그럼....", "그럼."),
    ("거저입니다…", "거저입니다."),
    ("부탁드려요^^", "부탁드려요^"),
    ("https://open.kakao.com/o/abc", "https://open.kakao.com/o/abc"),
    ("  a \n\t b  ", "a b"),
    ("가\u3000나", "가 나"),
    ("", ""),
    ("   ", ""),
]

CASES = (INVISIBLE + DECORATIVE + JAMO + LOOKALIKE + NFKC_AND_CIRCLED + HOMOGLYPHS + LEET
         + NUMERIC_O + SPACING + PHONES + PRICES + PUNCTUATION_AND_SPACE)


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_normalize_table(raw, expected):
    assert normalize(raw) == expected


# Inputs on which earlier versions were not idempotent (found by hypothesis).
IDEMPOTENCE_REGRESSIONS = [
    "ᆨᅡ", "ᄀL", "OIㅁᅡ", "ᄀ|OL가", "а\u0300", "₩₩0", "₩0₩0", "0억₩0", "₩0A/A/A", "₩(02) 123-4567",
    "0조010-1234-5678원", "공일공0공일공010-1234-5678", "팝 니 다공일공010-1234-5678",
    "(+82 10010-1234-5678", "1000만원-재개발", "0만━₩15,000원", "10000000원 가 나", "희망대·출 안내문",
]


@pytest.mark.parametrize("raw", [r for r, _ in CASES] + [e for _, e in CASES] + IDEMPOTENCE_REGRESSIONS)
def test_idempotent_on_examples(raw):
    once = normalize(raw)
    assert normalize(once) == once


def test_mission_example():
    assert normalize("ㅎㅖ어져서 팝니ㄷr ☆") == normalize("헤어져서 팝니다") == "헤어져서 팝니다"


CAMPAIGNS = [
    [
        "헤어져서 팝니다 010-1234-5678 15,000원",
        "ㅎㅖ어져서 팝니ㄷr ☆ 010 1234 5678 1만5천원",
        "헤어져서 팝 니 다 O1O.1234.5678 ₩15,000",
        "헤\u200b어져서 ★팝니다★ +82 10-1234-5678 1.5만원",
        "ㅎㅔ어져서 팝Ll다 공일공-1234-5678 15000원",
        "헤어져서   팝니다 \n 01012345678  15,000 원",
    ],
    [
        "B.T.C 단타 이벤트 코드 입력 P0INT 지급",
        "b/t/c 단.타 Ol벤트 코.드 입.력 POINT 지급",
        "ＢＴＣ 단타 ㅇI벤트 코드 입력 ⓟⓞⓘⓝⓣ 지급",
        "B T C ♥단타♥ 이벤트 코드 입력 PОINT 지급",  # Cyrillic О
        "btc 단-타 이벤트 코드 입력 p0int 지급",
    ],
    [
        "오늘까지 카지노 게임 30,000원 지급",
        "오늘ㄲrㅈl 카지노 게임 3o,ooo원 지급",
        "오늘까지 ㅋr지노 게임 3만원 지급",
        "오늘까지 카지노 게임 ₩30,000 지급",
        "오늘까지 카지노 게임 30,000 원 지급",
    ],
]


@pytest.mark.parametrize("variants", CAMPAIGNS)
def test_mutated_campaign_variants_collapse(variants):
    normalized = {normalize(v) for v in variants}
    assert len(normalized) == 1, normalized


@pytest.mark.parametrize("raw", [
    "Iphone for sale",
    "Selling my old Nintendo Switch, barely used. Pick up only!",
    "LG gram 2023 model, 16GB RAM",
    "Free shipping in Seoul",
    "I love this bag - almost new",
])
def test_plain_english_only_casefolded(raw):
    assert normalize(raw) == _plain(raw)


@pytest.mark.parametrize("raw", [  # daangn listings (short snippets)
    "버킷햇\n1. 데님 프린지 버킷햇 2. 화이트 프린지 버킷햇 3. 갈색 버킷햇  세개다 구매시 에눌",
    "회색 V넥 루즈핏 니트 스웨터입니다 아크릴 100% 소재입니다",
    "사이즈는 FREE이며, 상세 사이즈는 다음과 같습니다 - 총장: 90cm - 어깨+소매: 72.5cm",
    "급전으로 내놔요 ㅜ 가격네고는 어렵습니다",
    "저희 아이 하나 곱게 입은 옷",
    "키캡 세트 팝니다. 케이블도 같이 드려요.",
    "혜택 계좌 예약 폐업 정리",
])
def test_plain_korean_only_casefolded(raw):
    assert normalize(raw) == _plain(raw)


_SOUP = st.sampled_from(list(
    "ㄱㄴㄷㅂㅅㅇㅈㅊㅋㅎㅏㅐㅓㅔㅖㅗㅜㅠㅡㅣ가나다팝니헤원만천억 .-/_*·,!~0123456789oOlIrL|@$+₩()abcABC"
    "☆★♥◆━\u200b\u3164ⓞ①⒜❶аеорсΝ각\u0301"))
_TOKENS = st.sampled_from(["010-1234-5678", "15,000원", "1.5만원", "ㅎㅖ", "ㄷr", "Ol벤트", "b.t.c", "팝 니 다",
                           "3o,ooo", "p0int", " ", "ㅋㅋ", "₩", "ㅡㅡㅡ", "user@naver.com", "https://a.b/c"])
_TEXTS = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=_SOUP, max_size=40),
    st.lists(st.one_of(st.text(alphabet=_SOUP, max_size=5), _TOKENS), max_size=8).map("".join),
)
_ANY_UNICODE = st.text(st.characters(blacklist_categories=()), max_size=80)  # incl. lone surrogates
_HYPOTHESIS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@_HYPOTHESIS
@given(_TEXTS)
def test_idempotent_on_random_text(raw):
    once = normalize(raw)
    assert normalize(once) == once


@_HYPOTHESIS
@given(_ANY_UNICODE)
def test_never_raises_on_arbitrary_unicode(raw):
    out = normalize(raw)
    assert isinstance(out, str)
    assert out == out.strip() and "  " not in out
    assert normalize(out) == out
    assert len(text_hash(out)) == 64


def test_known_limit_natural_single_syllable_words_get_joined():
    # Documented trade-off: three single-syllable words in a row look like "팝 니 다" spacing.
    assert normalize("박스랑 선 등 다 있습니다") == "박스랑 선등다 있습니다"  # daangn


def test_text_hash_is_sha256_of_utf8():
    norm = normalize("헤어져서 팝니다")
    assert text_hash(norm) == hashlib.sha256(norm.encode("utf-8")).hexdigest()
    assert text_hash(normalize("ㅎㅖ어져서 팝니ㄷr ☆")) == text_hash(norm)


def test_normalized_text_helper():
    item = NormalizedText.of("ㅎㅖ어져서 팝니ㄷr ☆")
    assert item == NormalizedText("헤어져서 팝니다", text_hash("헤어져서 팝니다"), NORMALIZER_VERSION)
    assert NORMALIZER_VERSION == tables.NORMALIZER_VERSION == "1"


def test_none_and_empty():
    assert normalize("") == ""
    assert normalize(None) == ""  # type: ignore[arg-type]


@pytest.mark.parametrize("step", [
    text.strip_invisible, text.nfkc, text.remove_decorations, text.map_homoglyphs, text.casefold,
    text.fix_lookalikes, text.recompose_jamo, text.collapse_punctuation, text.join_split_words,
    text.fix_numeric_o, text.canonical_prices, text.canonical_phones, text.fix_leetspeak,
])
def test_steps_are_pure_functions_of_str(step):
    sample = "ㅎㅖ어져서 팝니ㄷr ☆ 010-1234-5678 15,000원 B.T.C P0INT"
    assert isinstance(step(sample), str)
    assert step(sample) == step(sample)
    assert step("") == ""


def test_tables_are_consistent():
    assert len(tables.CHOSEONG) == 19 and len(tables.JUNGSEONG) == 21 and len(tables.JONGSEONG) == 28
    assert chr(0xAC00 + (18 * 21 + 5) * 28) == "헤"  # ㅎ + ㅔ
    assert all(v.isascii() and len(v) == 1 for v in tables.HOMOGLYPHS.values())
    for cp in range(0x370, 0x530):  # a letter whose casefold is mapped is mapped too (idempotence)
        folded = chr(cp).casefold()
        if len(folded) == 1 and ord(folded) in tables.HOMOGLYPHS:
            assert cp in tables.HOMOGLYPHS, hex(cp)


def test_bench_run_reports_json_fields():
    result = bench.run(["헤어져서 팝니다", "ㅎㅖ어져서 팝니ㄷr ☆", "plain"], repeat=1)
    assert result["n"] == 3 and result["changed_share"] == pytest.approx(1 / 3, abs=1e-3)
    assert result["seconds"] >= 0
