"""Phrase tables for the demo generator.

Kept apart from the generator so the logic stays readable; the tables are large on
purpose, because private posts must be built from many independent choices to look
like 300 different people wrote them rather than one template with the nouns swapped.
"""

REGIONS = (
    "서울 마포구 망원동", "서울 마포구 연남동", "서울 성동구 성수동", "서울 송파구 잠실동",
    "서울 강서구 화곡동", "서울 관악구 봉천동", "서울 노원구 상계동", "서울 은평구 불광동",
    "서울 동작구 상도동", "서울 광진구 자양동", "서울 강동구 천호동", "서울 용산구 이촌동",
    "경기 성남시 분당구 정자동", "경기 수원시 영통구 매탄동", "경기 고양시 일산동구 장항동",
    "경기 용인시 수지구 풍덕천동", "경기 부천시 중동", "인천 연수구 송도동", "인천 부평구 부평동",
    "부산 해운대구 우동", "부산 수영구 광안동", "대구 수성구 범어동", "대전 유성구 봉명동",
    "광주 서구 치평동", "울산 남구 삼산동", "제주 제주시 노형동", "세종 보람동",
)

# (name, category, min price, max price, item-specific details).  Prices in KRW.
KO_ITEMS = (
    ("이케아 책상", "furniture", 15000, 40000, ("폭 120cm예요", "다리 하나 살짝 긁힘 있어요", "분해해서 드릴 수 있어요")),
    ("원목 식탁 의자 2개", "furniture", 20000, 60000, ("원목이라 튼튼해요", "쿠션은 세탁했어요")),
    ("3인용 패브릭 소파", "furniture", 50000, 150000, ("고양이가 없는 집이에요", "커버 분리돼서 빨 수 있어요", "엘리베이터 있는 1층입니다")),
    ("수납 서랍장", "furniture", 10000, 35000, ("서랍 5칸짜리예요", "손잡이 하나 헐거워요")),
    ("퀸사이즈 침대 프레임", "furniture", 30000, 90000, ("매트리스는 없어요", "직접 분해해 가셔야 해요")),
    ("아기 내복 세트", "kids_clothes", 5000, 15000, ("80 사이즈 5벌이에요", "한두 번 입고 보관만 했어요")),
    ("여아 겨울 패딩", "kids_clothes", 10000, 30000, ("130 사이즈예요", "소매에 작은 얼룩 있어요")),
    ("유아 카시트", "kids", 30000, 80000, ("사고 이력 없어요", "커버 세탁 완료")),
    ("아기 보행기", "kids", 10000, 30000, ("소리 나는 장난감 붙어 있어요", "건전지 새로 넣었어요")),
    ("남아 운동화 200mm", "kids", 5000, 20000, ("몇 번 안 신었어요", "밑창 깨끗해요")),
    ("아이패드 9세대", "electronics", 200000, 320000, ("64기가 와이파이 모델", "배터리 성능 괜찮아요", "케이스랑 같이 드려요")),
    ("닌텐도 스위치", "electronics", 150000, 250000, ("조이콘 쏠림 없어요", "마리오카트 칩 포함")),
    ("블루투스 스피커", "electronics", 10000, 40000, ("충전 케이블 포함", "소리 빵빵해요")),
    ("27인치 모니터", "electronics", 60000, 130000, ("불량화소 없어요", "HDMI 케이블 드려요")),
    ("전기포트", "appliance", 5000, 15000, ("물때 깨끗이 닦았어요",)),
    ("에어프라이어", "appliance", 20000, 50000, ("5.5리터 대용량이에요", "바스켓 코팅 멀쩡해요")),
    ("무선 청소기", "appliance", 40000, 120000, ("배터리 1개 추가로 있어요", "헤드 솔 새로 갈았어요")),
    ("제습기", "appliance", 40000, 100000, ("여름에만 잠깐 썼어요", "물통 깨끗해요")),
    ("해리포터 전집", "books", 20000, 50000, ("1~7권 전부 있어요", "밑줄 없어요")),
    ("토익 문제집 세트", "books", 5000, 15000, ("앞부분만 조금 풀었어요", "연필로 써서 지우면 돼요")),
    ("그림책 30권", "books", 15000, 40000, ("아이가 좋아하던 책들이에요", "한두 권은 모서리 닳았어요")),
    ("요리책 몇 권", "books", 3000, 10000, ("표지 깨끗해요",)),
    ("로드 자전거", "bike", 150000, 400000, ("54 사이즈예요", "체인 기름칠 했어요", "타이어 교체한 지 얼마 안 됐어요")),
    ("접이식 미니벨로", "bike", 60000, 150000, ("접으면 트렁크에 들어가요", "바구니 달려 있어요")),
    ("어린이 두발자전거", "bike", 20000, 50000, ("보조바퀴 같이 드려요", "16인치예요")),
    ("몬스테라 화분", "plants", 10000, 30000, ("키가 1m 정도 돼요", "분갈이 한 번 했어요")),
    ("다육이 여러 개", "plants", 3000, 10000, ("화분째로 가져가세요", "햇빛만 잘 보면 잘 커요")),
    ("스투키", "plants", 5000, 15000, ("물 한 달에 한 번이면 돼요",)),
    ("캠핑 의자 2개", "outdoor", 15000, 40000, ("파우치 있어요", "한 시즌 썼어요")),
    ("요가 매트", "sports", 5000, 15000, ("두께 10mm", "돌돌 말아서 보관했어요")),
    ("덤벨 세트", "sports", 20000, 60000, ("5kg 두 개랑 10kg 두 개", "녹 없어요")),
    ("겨울 롱패딩", "clothes", 30000, 80000, ("남성 L 사이즈", "드라이 한 번 했어요")),
    ("가죽 크로스백", "clothes", 20000, 70000, ("끈 길이 조절돼요", "모서리 살짝 까졌어요")),
    ("전자 피아노", "music", 100000, 250000, ("88건반이에요", "의자는 없어요", "헤드폰 잭 잘 돼요")),
    ("통기타", "music", 40000, 120000, ("줄 새로 갈았어요", "소프트 케이스 포함")),
    ("커피 머신", "appliance", 40000, 150000, ("캡슐 몇 개 남은 거 같이 드려요", "석회 제거 했어요")),
)

KO_INTROS = (
    "{item} 팝니다.", "{item} 판매해요.", "{item} 내놓아요~", "{item_eul} 정리합니다.",
    "{item} 필요하신 분 계실까요?", "{item} 저렴하게 드려요", "{item} 팔아요!!", "안 쓰는 {item} 팝니다",
    "{item} 가져가실 분~", "{item_i} 집에 굴러다녀서 올려봐요", "급처) {item}", "{item} 양도해요.",
)

KO_REASONS_ANY = (
    "이사 가게 되어서 팝니다.", "헤어져서 팝니다.", "선물 받았는데 거의 안 썼어요.",
    "새로 하나 사서 정리해요.", "집 정리 중이라 하나씩 올리고 있어요.", "자리만 차지해서요 ㅠㅠ",
    "결혼하면서 짐 합쳤더니 두 개가 됐어요.", "미니멀리즘 도전 중입니다 ㅎㅎ", "해외 발령 나서 급하게 정리해요.",
    "원룸으로 옮기게 돼서 놓을 데가 없어요.", "취향이 바뀌어서요.", "부모님 댁 정리하다 나온 물건이에요.",
    "생각보다 손이 안 가더라고요.", "충동구매 했다가 후회 중이에요 ㅋㅋ",
)
KO_REASONS_BY_CAT = {
    "kids": ("아이가 커서 이제 안 써요.", "아이가 금방 커서 몇 번 못 썼어요.", "둘째 계획이 없어서 정리해요."),
    "kids_clothes": ("아이가 커서 작아진 옷이에요.", "아이가 금방 커서 몇 번 못 입었어요.", "물려받은 옷이 너무 많아서요."),
    "furniture": ("새 집 구조랑 안 맞아서 내놓아요.", "인테리어 바꾸면서 정리해요."),
    "electronics": ("새 모델로 바꿔서 팝니다.", "회사에서 지급받은 게 있어서요."),
    "bike": ("무릎 다쳐서 못 타게 됐어요.", "출퇴근용으로 샀는데 재택이 돼서요."),
    "plants": ("너무 커져서 분양해요.", "집에 화분이 너무 많아졌어요 ㅎㅎ"),
    "books": ("아이가 다 읽어서 물려드려요.", "시험 끝나서 정리합니다."),
}

KO_CONDITIONS = (
    "상태 좋아요.", "사용감 조금 있어요.", "거의 새거예요.", "생활 기스 정도 있습니다.",
    "깨끗하게 썼어요.", "사진 보시면 상태 아실 거예요.", "하자 없어요.", "오래됐지만 잘 작동해요.",
    "흠집은 사진에 다 찍었어요.", "박스는 버렸어요.", "개봉만 했어요.",
)

KO_TERMS = (
    "직거래만 해요.", "문고리 거래 가능해요.", "네고 가능합니다.", "네고는 어려워요.",
    "{place} 근처에서 거래해요.", "저녁 7시 이후에 가능해요.", "주말에만 거래 가능합니다.",
    "{place} 역 앞에서 드릴게요.", "택배는 안 해요.", "먼저 오시는 분께 드려요.",
    "가져가실 때 차 필요해요.", "채팅 주세요~",
)

KO_CLOSERS = ("감사합니다!", "관심 가져주셔서 감사해요 :)", "좋은 분께 가면 좋겠어요.", "ㅎㅎ", "편하게 연락 주세요.", "")

KO_TITLES = ("{item}", "{item} 팝니다", "{item} 판매", "[{place}] {item}", "{item} 급처", "{item} 싸게 드려요")

EN_ITEMS = (
    ("IKEA bookshelf", "furniture", 15000, 40000, ("white, 5 shelves", "a bit wobbly but fine")),
    ("office chair", "furniture", 20000, 60000, ("mesh back, adjustable height", "armrest cover is worn")),
    ("rice cooker", "appliance", 15000, 50000, ("6 cups, Korean manual only",)),
    ("kids rain boots", "kids", 3000, 10000, ("size 150", "my son wore them twice")),
    ("Kindle Paperwhite", "electronics", 50000, 90000, ("no scratches on the screen", "comes with a cover")),
    ("mountain bike", "bike", 100000, 250000, ("27.5 inch wheels", "brakes adjusted last month")),
    ("snake plant", "plants", 5000, 15000, ("pot included", "very hard to kill lol")),
    ("set of novels", "books", 5000, 20000, ("mostly English paperbacks", "some coffee stains")),
    ("electric guitar", "music", 150000, 300000, ("amp not included", "new strings")),
    ("winter coat", "clothes", 20000, 60000, ("women's M", "dry cleaned")),
    ("baby stroller", "kids", 40000, 120000, ("folds with one hand", "rain cover included")),
    ("standing desk", "furniture", 80000, 200000, ("motor works perfectly", "you need to pick it up")),
    ("air purifier", "appliance", 30000, 80000, ("filter replaced in spring",)),
    ("hiking backpack", "outdoor", 20000, 50000, ("40L", "used on two trips")),
)

EN_INTROS = (
    "Selling my {item}.", "{item} for sale.", "Anyone need a {item}?", "Letting go of my {item}",
    "{item} - cheap!", "Hi neighbours, I have a {item} to sell.", "FS: {item}",
)
EN_REASONS = (
    "Moving abroad, must go.", "Leaving Korea next month so everything has to go.",
    "Got a new one as a gift.", "My apartment is too small for it.", "Downsizing before a move.",
    "Not using it anymore.", "Contract ends soon, selling stuff.", "Bought it on impulse honestly.", "",
)
EN_CONDITIONS = (
    "Good condition.", "Works fine.", "Like new.", "Some wear but nothing major.",
    "See photos for condition.", "Used for about a year.",
)
EN_TERMS = (
    "Pick up only near {place} station.", "Price is negotiable.", "No nego please.", "Can meet after 6pm.",
    "Korean or English chat ok.", "First come first served.", "I can leave it at the door.",
)
EN_CLOSERS = ("Thanks!", "Message me :)", "Cheers", "")
EN_TITLES = ("{item}", "{item} for sale", "Selling {item}", "{item} (cheap)")

# Professional-seller campaigns: each post is a mutation of `text`.  {price} and
# {phone} are filled once per campaign, so the rendered text is the campaign's base.
CAMPAIGNS = (
    dict(slug="phonecase", category="electronics", price=9000, unit="won",
         title="아이폰 케이스 새상품 팝니다",
         text="선물용으로 샀는데 너무 많이 사서 팝니다.\n아이폰 13~15, 갤럭시 S23 케이스 전부 있어요.\n"
              "개당 {price}, 여러 개 사시면 더 싸게 드려요.\n채팅보다 문자 주세요 {phone}"),
    dict(slug="refurb-iphone", category="electronics", price=690000, unit="won",
         title="아이폰14 프로 256 미개봉 리퍼",
         text="아이폰 14 프로 256기가 정품 리퍼 미개봉 팝니다.\n배터리 성능 100%이고 공기계입니다.\n"
              "{price}에 드려요. 다른 색상 다른 모델도 재고 있어요.\n카톡이나 문자 주세요 {phone}"),
    dict(slug="side-job", category="etc", price=150000, unit="won",
         title="집에서 하는 부업 구합니다",
         text="집에서 하루 1~2시간 부업하실 분 구해요.\n휴대폰만 있으면 누구나 가능하고 일당 {price} 당일 지급합니다.\n"
              "급전 필요하신 분은 소액 대출도 상담해 드려요.\n문자 주세요 {phone}"),
    dict(slug="ticket", category="tickets", price=187000, unit="won",
         title="연말 콘서트 VIP석 2장 양도",
         text="연말 콘서트 VIP석 2연석 양도합니다.\n갑자기 출장이 잡혀서 못 가게 됐어요 ㅠㅠ 정가 {price}에 드려요.\n"
              "선입금 확인 후 바로 모바일 티켓 보내드립니다.\n카톡 아이디 vip1004 / {phone}"),
    dict(slug="cosmetics", category="beauty", price=45000, unit="won",
         title="면세 화장품 세트 정리해요",
         text="면세점에서 산 화장품 세트 정리해요.\n수분크림 세트, 앰플 세트 전부 새상품이고 유통기한 넉넉해요.\n"
              "세트당 {price}, 대량 구매 시 추가 할인해 드립니다.\n택배 가능하고 문의는 {phone}"),
    dict(slug="used-car", category="car", price=13500000, unit="man",
         title="개인 차주 아반떼 급매",
         text="개인 차주입니다. 2019년식 아반떼 무사고 6만km 팝니다.\n실내 금연 차량이고 정비 이력 다 있어요.\n"
              "{price}에 드리고 할부 전액 가능합니다.\n전화 주세요 {phone}"),
    dict(slug="airpods", category="electronics", price=129000, unit="won",
         title="에어팟 프로 2 새상품",
         text="에어팟 프로 2세대 새상품 미개봉입니다.\n회사 사은품으로 받은 거라 저렴하게 팔아요.\n"
              "{price}이고 여러 개 있어요.\n연락은 {phone}"),
    dict(slug="luxury-bag", category="clothes", price=350000, unit="won",
         title="명품 가방 정품급 팝니다",
         text="해외 직구로 들여온 명품 가방 정리합니다.\n정품과 구분 안 되는 최상급이에요.\n"
              "{price}, 다른 디자인도 사진 보내드려요.\n문자 주세요 {phone}"),
)

KO = dict(items=KO_ITEMS, intros=KO_INTROS, reasons=KO_REASONS_ANY, conditions=KO_CONDITIONS,
          terms=KO_TERMS, closers=KO_CLOSERS, titles=KO_TITLES,
          prices=("{:,}원에 드려요.", "가격은 {:,}원이요", "{:,}원", "{:,}원 생각하고 있어요.", "{:,}원 (네고X)"),
          free=("무료 나눔이에요!", "나눔합니다. 필요하신 분 가져가세요", "그냥 드려요~ 가져가실 분!"))
EN = dict(items=EN_ITEMS, intros=EN_INTROS, reasons=EN_REASONS, conditions=EN_CONDITIONS,
          terms=EN_TERMS, closers=EN_CLOSERS, titles=EN_TITLES,
          prices=("{:,} won.", "₩{:,}", "Asking {:,} KRW.", "{:,}won, cash or transfer"),
          free=("Free to whoever picks it up.", "Giving it away for free."))

GREETINGS = ("안녕하세요~ 동네 주민입니다 :)", "좋은 아침이에요!", "안녕하세요 이웃님들^^", "오늘도 좋은 하루 되세요~")
DECORATIONS = ("☆", "★", "♥", "♡", "✨", "🔥", "💯", "📱", "✅", "※", "◆")
PHONE_WORDS = "공일이삼사오육칠팔구"
LATIN_LOOKALIKES = {"다": "ㄷr", "니": "LI", "이": "OI", "가": "7r", "하": "ㅎr", "사": "人r", "비": "ㅂI"}
CIRCLED = "⓪①②③④⑤⑥⑦⑧⑨"
