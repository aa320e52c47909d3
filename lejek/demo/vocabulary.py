"""Words the demo data is made of: Polish and English people, companies, places and phrases.

Everything here is plain data plus small pure functions that draw from a `random.Random`, so
the same seed always gives the same names, numbers and addresses.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

# Polish surnames agree with the person's gender: (male form, female form).
PL_SURNAMES = [
    ("Nowak", "Nowak"),
    ("Kowalski", "Kowalska"),
    ("Wiśniewski", "Wiśniewska"),
    ("Wójcik", "Wójcik"),
    ("Kowalczyk", "Kowalczyk"),
    ("Kamiński", "Kamińska"),
    ("Lewandowski", "Lewandowska"),
    ("Zieliński", "Zielińska"),
    ("Szymański", "Szymańska"),
    ("Woźniak", "Woźniak"),
    ("Dąbrowski", "Dąbrowska"),
    ("Kozłowski", "Kozłowska"),
    ("Jankowski", "Jankowska"),
    ("Mazur", "Mazur"),
    ("Kwiatkowski", "Kwiatkowska"),
    ("Krawczyk", "Krawczyk"),
    ("Piotrowski", "Piotrowska"),
    ("Grabowski", "Grabowska"),
    ("Nowakowski", "Nowakowska"),
    ("Pawłowski", "Pawłowska"),
    ("Michalski", "Michalska"),
    ("Nowicki", "Nowicka"),
    ("Adamczyk", "Adamczyk"),
    ("Dudek", "Dudek"),
    ("Zając", "Zając"),
    ("Wieczorek", "Wieczorek"),
    ("Jabłoński", "Jabłońska"),
    ("Król", "Król"),
    ("Majewski", "Majewska"),
    ("Olszewski", "Olszewska"),
    ("Jaworski", "Jaworska"),
    ("Wróbel", "Wróbel"),
    ("Malinowski", "Malinowska"),
    ("Pawlak", "Pawlak"),
    ("Witkowski", "Witkowska"),
    ("Walczak", "Walczak"),
    ("Stępień", "Stępień"),
    ("Górski", "Górska"),
    ("Rutkowski", "Rutkowska"),
    ("Michalak", "Michalak"),
    ("Sikora", "Sikora"),
    ("Ostrowski", "Ostrowska"),
    ("Baran", "Baran"),
    ("Duda", "Duda"),
    ("Szewczyk", "Szewczyk"),
    ("Tomaszewski", "Tomaszewska"),
    ("Pietrzak", "Pietrzak"),
    ("Marciniak", "Marciniak"),
    ("Wróblewski", "Wróblewska"),
    ("Zalewski", "Zalewska"),
    ("Jakubowski", "Jakubowska"),
    ("Jasiński", "Jasińska"),
    ("Zawadzki", "Zawadzka"),
    ("Sadowski", "Sadowska"),
    ("Bąk", "Bąk"),
    ("Chmielewski", "Chmielewska"),
    ("Włodarczyk", "Włodarczyk"),
    ("Borkowski", "Borkowska"),
    ("Czarnecki", "Czarnecka"),
    ("Sawicki", "Sawicka"),
]
PL_MEN = [
    "Jan", "Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Michał", "Marcin", "Grzegorz",
    "Jakub", "Adam", "Łukasz", "Mateusz", "Marek", "Wojciech", "Rafał", "Kamil", "Maciej",
    "Bartosz", "Dariusz", "Robert", "Sebastian", "Damian", "Przemysław", "Szymon", "Artur",
]  # fmt: skip
PL_WOMEN = [
    "Anna", "Maria", "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Ewa", "Magdalena",
    "Joanna", "Aleksandra", "Monika", "Natalia", "Karolina", "Justyna", "Paulina", "Marta",
    "Dorota", "Beata", "Zofia", "Julia", "Weronika", "Agata", "Iwona", "Izabela", "Kinga",
]  # fmt: skip
EN_FIRST = [
    "James", "Oliver", "Jack", "Harry", "George", "Thomas", "William", "Daniel", "Michael",
    "David", "Emily", "Olivia", "Sophie", "Charlotte", "Grace", "Hannah", "Emma", "Lucy",
    "Chloe", "Sarah", "Liam", "Sean", "Aoife", "Ciara",
]  # fmt: skip
EN_LAST = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
    "Jackson", "Clarke", "Murphy", "O'Brien", "Kelly", "Byrne",
]  # fmt: skip

PL_TITLES = [
    "Prezes Zarządu", "Dyrektor Handlowy", "Dyrektor Finansowy", "Dyrektor Operacyjny",
    "Kierownik Zakupów", "Kierownik IT", "Specjalista ds. zakupów", "Główna Księgowa",
    "Kierownik Magazynu", "Właściciel", "Office Manager", "Kierownik Produkcji",
    "Dyrektor ds. Cyfryzacji", "Członek Zarządu",
]  # fmt: skip
EN_TITLES = [
    "Managing Director", "Head of Procurement", "CFO", "Operations Manager", "IT Manager",
    "Finance Director", "Purchasing Manager", "COO", "Head of Digital",
]  # fmt: skip

# (city, team region, postal-code prefixes, landline area code, weight). The North team has
# two reps and the manager, the South one rep: the regions are sized to match.
PL_CITIES = [
    ("Warszawa", "north", ["00", "01", "02", "03", "04"], "22", 18),
    ("Gdańsk", "north", ["80"], "58", 6),
    ("Gdynia", "north", ["81"], "58", 3),
    ("Poznań", "north", ["60", "61"], "61", 7),
    ("Łódź", "north", ["90", "91", "92", "93", "94"], "42", 5),
    ("Szczecin", "north", ["70", "71"], "91", 4),
    ("Bydgoszcz", "north", ["85"], "52", 4),
    ("Toruń", "north", ["87"], "56", 2),
    ("Olsztyn", "north", ["10"], "89", 2),
    ("Białystok", "north", ["15"], "85", 3),
    ("Zielona Góra", "north", ["65"], "68", 1),
    ("Kraków", "south", ["30", "31"], "12", 6),
    ("Wrocław", "south", ["50", "51", "52", "53", "54"], "71", 5),
    ("Katowice", "south", ["40"], "32", 4),
    ("Lublin", "south", ["20"], "81", 2),
    ("Rzeszów", "south", ["35"], "17", 2),
    ("Kielce", "south", ["25"], "41", 1),
    ("Opole", "south", ["45"], "77", 1),
    ("Częstochowa", "south", ["42"], "34", 1),
    ("Radom", "south", ["26"], "48", 1),
]
# Foreign customers are looked after by the South team (the English-speaking rep works there).
FOREIGN_CITIES = [
    ("London", "GB", ".co.uk"),
    ("Manchester", "GB", ".co.uk"),
    ("Birmingham", "GB", ".co.uk"),
    ("Dublin", "IE", ".ie"),
    ("Cork", "IE", ".ie"),
]
PL_STREETS = [
    "Marszałkowska", "Długa", "Polna", "Leśna", "Słoneczna", "Krótka", "Szkolna", "Ogrodowa",
    "Lipowa", "Kościuszki", "Mickiewicza", "Sienkiewicza", "Piłsudskiego", "Kolejowa",
    "Przemysłowa", "Fabryczna", "Składowa", "Grunwaldzka", "Wojska Polskiego", "Jana Pawła II",
    "Legionów", "3 Maja", "Kwiatowa", "Zielona", "Warszawska", "Krakowska", "Poznańska",
    "Logistyczna", "Handlowa", "Rzemieślnicza",
]  # fmt: skip
EN_STREETS = [
    "High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue", "Mill Lane",
    "King Street", "Queen's Road", "Harbour Way",
]  # fmt: skip

INDUSTRIES = [
    "IT i oprogramowanie", "Produkcja", "Logistyka i transport", "Handel hurtowy",
    "Handel detaliczny", "Budownictwo", "Usługi finansowe", "Ochrona zdrowia", "Edukacja",
    "Energetyka", "Hotelarstwo i gastronomia", "Motoryzacja", "Rolnictwo i żywność",
    "Usługi profesjonalne",
]  # fmt: skip
BRAND_HEADS = [
    "Agro", "Bud", "Drew", "Eko", "Elektro", "Euro", "Inter", "Kom", "Las", "Mar", "Med",
    "Met", "Pol", "Prod", "Stal", "Tech", "Trans", "Bio", "Farm", "Geo", "Hydro", "Info",
    "Kart", "Nord", "Opti", "Pak", "Plast", "Rol", "Sol", "Term", "Tex", "Wod", "Auto", "Dom",
    "Chem", "Energo", "Graf", "Hurt", "Mleko", "Zbo",
]  # fmt: skip
BRAND_TAILS = [
    "pol", "mex", "tex", "bud", "max", "tron", "soft", "net", "med", "trans", "serwis", "plast",
    "stal", "gaz", "rol", "lux", "mar", "dar", "pak", "sped", "kom", "land", "tech", "wit", "san",
]  # fmt: skip
PL_LEGAL_FORMS = ["sp. z o.o."] * 6 + ["S.A.", "sp.j.", "sp.k.", "s.c."]
# (trade, industry): a family business named after its owner, "Hurtownia Kowalski".
TRADES = [
    ("Hurtownia", "Handel hurtowy"),
    ("Przedsiębiorstwo Budowlane", "Budownictwo"),
    ("Zakład Stolarski", "Produkcja"),
    ("Drukarnia", "Produkcja"),
    ("Piekarnia", "Rolnictwo i żywność"),
    ("Transport i Spedycja", "Logistyka i transport"),
    ("Biuro Rachunkowe", "Usługi finansowe"),
    ("Kancelaria Podatkowa", "Usługi profesjonalne"),
    ("Zakład Mechaniczny", "Produkcja"),
    ("Centrum Medyczne", "Ochrona zdrowia"),
    ("Pracownia Projektowa", "Usługi profesjonalne"),
    ("Serwis Klimatyzacji", "Usługi profesjonalne"),
    ("Hotel", "Hotelarstwo i gastronomia"),
    ("Szkoła Językowa", "Edukacja"),
    ("Warsztat Samochodowy", "Motoryzacja"),
    ("Tartak", "Produkcja"),
    ("Mleczarnia", "Rolnictwo i żywność"),
    ("Auto Komis", "Motoryzacja"),
]
EN_HEADS = [
    "Blue", "North", "Silver", "Green", "Bright", "Oak", "River", "Summit", "Clear", "Red",
    "Stone", "Golden", "Iron", "Maple", "Harbour", "Swift", "Cedar", "Pine", "Crown", "Eagle",
    "Falcon", "Granite", "Sterling", "Orbit", "West", "East", "High", "Fair",
]  # fmt: skip
EN_TAILS = ["field", "wind", "gate", "line", "point", "path", "ridge", "bay", "stone", "brook",
            "view", "wave", "light", "peak", "wood", "ford"]  # fmt: skip
# (word, industry): "Bluefield Logistics".
EN_KINDS = [
    ("Logistics", "Logistyka i transport"),
    ("Software", "IT i oprogramowanie"),
    ("Solutions", "IT i oprogramowanie"),
    ("Systems", "IT i oprogramowanie"),
    ("Foods", "Rolnictwo i żywność"),
    ("Manufacturing", "Produkcja"),
    ("Consulting", "Usługi profesjonalne"),
    ("Energy", "Energetyka"),
    ("Retail", "Handel detaliczny"),
    ("Finance", "Usługi finansowe"),
    ("Health", "Ochrona zdrowia"),
    ("Motors", "Motoryzacja"),
]
PERSONAL_MAIL_DOMAINS = ["gmail.com", "wp.pl", "onet.pl", "o2.pl", "interia.pl"]
# Polish mobile prefixes in use, so generated numbers parse as valid mobiles.
PL_MOBILE_PREFIXES = ["501", "502", "505", "509", "510", "512", "516", "530", "535", "570",
                      "600", "601", "602", "604", "605", "660", "661", "664", "690", "691",
                      "693", "696", "720", "724", "728", "730", "733", "780", "783", "790",
                      "791", "798", "880", "881", "883", "887"]  # fmt: skip
NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)

LATIN = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")


def ascii_slug(text: str, sep: str = "-") -> str:
    """Lower-case ASCII for e-mail addresses and domains: "Wiśniewska" → "wisniewska"."""
    text = text.translate(LATIN).lower().replace("'", "")
    return re.sub(r"[^a-z0-9]+", sep, text).strip(sep)


def nip_check_digit(first_nine: str) -> int | None:
    """The tenth digit of a NIP, or None when the nine digits have no valid check digit."""
    digit = sum(w * int(d) for w, d in zip(NIP_WEIGHTS, first_nine, strict=True)) % 11
    return None if digit == 10 else digit


def random_nip(rng: random.Random) -> str:
    # The first three digits are a tax office code, which never starts with 0.
    while True:
        first_nine = str(rng.randint(101, 999)) + f"{rng.randrange(1_000_000):06d}"
        check = nip_check_digit(first_nine)
        if check is not None:
            return first_nine + str(check)


def pl_mobile(rng: random.Random) -> str:
    rest = f"{rng.randrange(1_000_000):06d}"
    return f"+48 {rng.choice(PL_MOBILE_PREFIXES)} {rest[:3]} {rest[3:]}"


def uk_mobile(rng: random.Random) -> str:
    return f"+44 7{rng.randint(400, 999)} {rng.randrange(1_000_000):06d}"


def landline(rng: random.Random, area: str) -> str:
    rest = f"{rng.randrange(2_000_000, 9_000_000):07d}"
    return f"+48 {area} {rest[:3]} {rest[3:5]} {rest[5:]}"


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    english: bool

    def email_at(self, domain: str, style: int) -> str:
        first, last = ascii_slug(self.first_name, ""), ascii_slug(self.last_name, "")
        local = [f"{first}.{last}", f"{first[0]}.{last}", f"{first[0]}{last}", first][style % 4]
        return f"{local}@{domain}"


def random_person(rng: random.Random, *, english: bool = False) -> Person:
    if english:
        return Person(rng.choice(EN_FIRST), rng.choice(EN_LAST), True)
    male, female = rng.choice(PL_SURNAMES)
    if rng.random() < 0.5:
        return Person(rng.choice(PL_MEN), male, False)
    return Person(rng.choice(PL_WOMEN), female, False)


@dataclass(frozen=True)
class Firm:
    """A company as the generator imagines it, before it becomes a Company row or a lead's text."""

    name: str
    brand: str
    domain: str
    industry: str
    city: str
    region: str
    country: str
    postal_code: str
    street: str
    phone: str
    size: int

    @property
    def english(self) -> bool:
        return self.country != "PL"


def _size(rng: random.Random) -> int:
    low, high = rng.choices(
        [(1, 9), (10, 49), (50, 249), (250, 999), (1000, 5000)], weights=[15, 35, 33, 13, 4]
    )[0]
    return rng.randint(low, high)


def _polish_brand(rng: random.Random) -> tuple[str, str, str, str]:
    """(name, brand, domain stem, industry) of a company registered in Poland."""
    kind = rng.random()
    if kind < 0.5:
        tails = rng.sample(BRAND_TAILS, 2 if rng.random() < 0.3 else 1)
        brand = rng.choice(BRAND_HEADS) + "".join(tails)
        name = f"{brand} {rng.choice(PL_LEGAL_FORMS)}"
        return name, brand, ascii_slug(brand), rng.choice(INDUSTRIES)
    if kind < 0.8:
        trade, industry = rng.choice(TRADES)
        brand = f"{trade} {rng.choice(PL_SURNAMES)[0]}"
        return brand, brand, ascii_slug(brand), industry
    brand, industry = _english_brand(rng)
    return f"{brand} sp. z o.o.", brand, ascii_slug(brand), industry


def _english_brand(rng: random.Random) -> tuple[str, str]:
    word, industry = rng.choice(EN_KINDS)
    return f"{rng.choice(EN_HEADS)}{rng.choice(EN_TAILS)} {word}", industry


def random_firm(rng: random.Random, taken: set[str]) -> Firm:
    """A company whose brand is not in `taken` (the caller adds it), so names and domains differ."""
    foreign = rng.random() < 0.08
    # A few tries, not many: once most brands are taken (the bench data set's 50,000 firms),
    # a hundred tries per firm cost more time than all the leads' rows.
    for _attempt in range(8):
        if foreign:
            brand, industry = _english_brand(rng)
            name, stem = f"{brand} Ltd", ascii_slug(brand, "")
        else:
            name, brand, stem, industry = _polish_brand(rng)
        if brand not in taken:
            break
    else:
        # A crowded namespace (the large data set): namesakes get a branch number.
        branch = len(taken) + 1
        brand, name, stem = f"{brand} {branch}", f"{name} {branch}", f"{stem}{branch}"
    if foreign:
        return _foreign_firm(rng, name, brand, stem, industry)
    city, region, prefixes, area, _weight = rng.choices(
        PL_CITIES, weights=[c[4] for c in PL_CITIES]
    )[0]
    number = str(rng.randint(1, 180)) + (f"/{rng.randint(1, 40)}" if rng.random() < 0.3 else "")
    return Firm(
        name=name,
        brand=brand,
        domain=stem + rng.choice([".pl", ".pl", ".pl", ".com.pl", ".com", ".eu"]),
        industry=industry,
        city=city,
        region=region,
        country="PL",
        postal_code=f"{rng.choice(prefixes)}-{rng.randrange(1000):03d}",
        street=f"ul. {rng.choice(PL_STREETS)} {number}",
        phone=landline(rng, area),
        size=_size(rng),
    )


def _foreign_firm(rng: random.Random, name: str, brand: str, stem: str, industry: str) -> Firm:
    city, country, tld = rng.choice(FOREIGN_CITIES)
    phone = uk_mobile(rng) if country == "GB" else f"+353 1 {rng.randrange(2_000_000, 9_000_000)}"
    return Firm(
        name=name,
        brand=brand,
        domain=stem + tld,
        industry=industry,
        city=city,
        region="south",
        country=country,
        postal_code="",
        street=f"{rng.randint(1, 200)} {rng.choice(EN_STREETS)}",
        phone=phone,
        size=_size(rng),
    )


# What the demo company sells: ERP software, its implementation and training.
PRODUCTS = [
    ("ERP-LIC-USR", "System ERP — licencja stanowiskowa", "szt.", "2400.00", 23),
    ("ERP-MOD-WMS", "Moduł magazynowy", "szt.", "18000.00", 23),
    ("ERP-MOD-HR", "Moduł kadrowo-płacowy", "szt.", "14500.00", 23),
    ("ERP-CLOUD-M", "Abonament chmurowy (użytkownik / miesiąc)", "mies.", "189.00", 23),
    ("IMPL-START", "Wdrożenie — pakiet Start", "szt.", "25000.00", 23),
    ("IMPL-PRO", "Wdrożenie — pakiet Pro", "szt.", "68000.00", 23),
    ("CONS-HOUR", "Konsultacja wdrożeniowa", "godz.", "280.00", 23),
    ("TRAIN-DAY", "Szkolenie stacjonarne (dzień)", "dzień", "3900.00", 23),
    ("SUPPORT-Y", "Opieka serwisowa (rok)", "rok", "12000.00", 23),
    ("INT-ECOM", "Integracja ze sklepem internetowym", "szt.", "9500.00", 23),
    ("HW-SCANNER", "Czytnik kodów kreskowych", "szt.", "1150.00", 23),
    ("TRAIN-CATER", "Catering szkoleniowy (osoba)", "os.", "95.00", 8),
    ("TRAIN-HOTEL", "Nocleg uczestnika szkolenia", "doba", "340.00", 8),
]
DEAL_TOPICS = [
    "wdrożenie ERP",
    "moduł magazynowy",
    "licencje dla działu sprzedaży",
    "integracja ze sklepem",
    "szkolenia dla zespołu",
    "migracja do chmury",
    "kadry i płace",
    "rozbudowa systemu",
    "pakiet Start",
    "pakiet Pro",
]
COMPETITORS = ["Comarch", "Asseco", "Sage", "SAP Business One", "enova365", "Własne rozwiązanie"]
LOST_REASONS = [
    ("Cena", 35),
    ("Wybrali konkurencję", 25),
    ("Brak budżetu", 20),
    ("Brak decyzji", 15),
    ("Projekt wstrzymany", 5),
]
DISQUALIFY_REASONS = [
    "Poza grupą docelową",
    "Brak budżetu",
    "Nie odpowiada",
    "Konkurencja lub student",
    "Duplikat",
]
WEB_FORM_CONSENT = (
    "Wyrażam zgodę na przetwarzanie moich danych osobowych przez Lejek Demo Sp. z o.o. "
    "w celu odpowiedzi na zapytanie i przedstawienia oferty. Zgodę mogę wycofać w każdej chwili."
)
# (name, language, subject, body): merge fields as documented in docs/email.md.
EMAIL_TEMPLATES = [
    (
        "Po pierwszej rozmowie",
        "pl",
        "Dziękuję za rozmowę — {{ company.name }}",
        "Dzień dobry {{ contact.first_name }},\n\n"
        "dziękuję za dzisiejszą rozmowę. Zgodnie z ustaleniami przesyłam krótkie podsumowanie "
        "i proponuję kolejne spotkanie w przyszłym tygodniu.\n\n"
        "Pozdrawiam\n{{ rep.first_name }} {{ rep.last_name }}\n{{ rep.email }}",
    ),
    (
        "Przypomnienie o ofercie",
        "pl",
        "Oferta dla {{ company.name }} — czy mogę pomóc?",
        "Dzień dobry {{ contact.first_name }},\n\n"
        "chciałem zapytać, czy mieli Państwo okazję zapoznać się z naszą ofertą "
        "„{{ deal.title }}”. Chętnie odpowiem na pytania.\n\n"
        "Pozdrawiam\n{{ rep.first_name }} {{ rep.last_name }}",
    ),
    (
        "Follow-up after our call",
        "en",
        "Thank you for the call — {{ company.name }}",
        "Hello {{ contact.first_name }},\n\n"
        "thank you for your time today. As agreed, I will send you a proposal this week.\n\n"
        "Best regards\n{{ rep.first_name }} {{ rep.last_name }}",
    ),
]
LEAD_DESCRIPTIONS = [
    "Prośba o prezentację systemu dla {n} użytkowników.",
    "Pyta o moduł magazynowy i integrację ze sklepem.",
    "Obecny system przestaje wystarczać, szukają następcy do końca roku.",
    "Chcą porównać ofertę z obecnym dostawcą.",
    "Zainteresowani wersją w chmurze, około {n} stanowisk.",
    "Pobrał e-book o cyfryzacji magazynu.",
    "Rozmowa na stoisku, prosi o kontakt po targach.",
    "Polecenie od obecnego klienta.",
]

# Activities by pipeline stage position: (kind, subject, details).
NEW_BUSINESS_ACTIVITIES = [
    [
        (
            "call",
            "Rozmowa wstępna",
            "Omówiony obecny system i główne problemy. Do wysłania materiały.",
        ),
        ("email", "Materiały o systemie", "Wysłana prezentacja i opis modułów."),
        ("call", "Umówienie analizy potrzeb", "Termin warsztatu ustalony z działem IT."),
    ],
    [
        (
            "meeting",
            "Warsztat analizy potrzeb",
            "Zebrane wymagania: magazyn, fakturowanie, raporty.",
        ),
        ("call", "Doprecyzowanie wymagań", "Klient dosłał listę integracji do wyceny."),
        ("note", "Notatka z analizy", "Decyzję podejmuje zarząd, budżet zatwierdzany kwartalnie."),
    ],
    [
        ("email", "Wysłano ofertę", "Oferta z harmonogramem wdrożenia w załączniku."),
        ("call", "Omówienie oferty", "Pytania o koszt licencji i termin startu."),
        (
            "meeting",
            "Prezentacja oferty dla zarządu",
            "Zarząd prosi o wariant z płatnością w ratach.",
        ),
    ],
    [
        ("meeting", "Spotkanie negocjacyjne", "Rozmowa o rabacie i zakresie szkoleń."),
        ("call", "Uzgodnienie warunków umowy", "Dział prawny klienta przesłał uwagi do umowy."),
        ("email", "Poprawiona umowa", "Wysłano wersję umowy z naniesionymi uwagami."),
    ],
]
RENEWAL_ACTIVITIES = [
    [
        ("email", "Przypomnienie o odnowieniu", "Umowa serwisowa kończy się w przyszłym kwartale."),
        ("call", "Rozmowa o odnowieniu", "Klient zadowolony, pyta o nowe moduły."),
    ],
    [
        ("email", "Oferta odnowienia", "Wysłano ofertę na kolejny rok opieki serwisowej."),
        ("call", "Potwierdzenie warunków", "Czekamy na akceptację księgowości."),
    ],
]
LEAD_ACTIVITIES = [
    ("call", "Pierwszy kontakt", "Krótka rozmowa, klient prosi o więcej informacji."),
    ("email", "Odpowiedź na zapytanie", "Wysłano opis systemu i cennik orientacyjny."),
    ("call", "Nie odebrał", "Brak odpowiedzi, ponowię próbę."),
    ("email", "Zaproszenie na prezentację", "Zaproponowano dwa terminy prezentacji online."),
    ("call", "Rozmowa kwalifikacyjna", "Potwierdzony budżet i termin decyzji."),
]
WON_NOTE = ("note", "Umowa podpisana", "Klient podpisał umowę. Przekazano do zespołu wdrożeń.")
LOST_NOTE = ("note", "Szansa przegrana", "Powód: {reason}.")
DISQUALIFIED_NOTE = ("note", "Lead zdyskwalifikowany", "Brak potrzeby lub budżetu w tym roku.")

NEW_BUSINESS_TASKS = [
    "Umówić analizę potrzeb",
    "Przygotować ofertę",
    "Zadzwonić w sprawie oferty",
    "Wysłać umowę do podpisu",
]
RENEWAL_TASKS = ["Wysłać ofertę odnowienia", "Potwierdzić odnowienie"]
LEAD_TASKS = ["Pierwszy kontakt z leadem", "Oddzwonić do klienta", "Wysłać materiały"]
DONE_TASKS = ["Wysłać materiały", "Przygotować prezentację", "Uzgodnić termin spotkania"]
COMMENTS = [
    "@{handle} jak wygląda sytuacja? Klient pytał o termin decyzji.",
    "@{handle} proszę zaktualizować kwotę i datę zamknięcia przed przeglądem prognozy.",
    "@{handle} warto zaproponować szkolenie w pakiecie, to przekonało podobnych klientów.",
    "@{handle} czy potrzebujesz wsparcia na spotkaniu z zarządem?",
]
REPLIES = [
    "Po rozmowie z klientem: decyzja w przyszłym tygodniu.",
    "Zaktualizowane. Kwota po rabacie.",
    "Tak, przyda się wsparcie na negocjacjach.",
]


LEGAL_SUFFIXES = (" sp. z o.o.", " S.A.", " sp.j.", " sp.k.", " s.c.", " Ltd")


def short_name(company_name: str) -> str:
    """A company's name as people say it: without the legal form."""
    for suffix in LEGAL_SUFFIXES:
        if company_name.endswith(suffix):
            return company_name.removesuffix(suffix)
    return company_name
