"""The demo company's world: who works there, what it sells, where its leads come from and
how its funnel behaves. `data.py` builds the records from these facts."""

from __future__ import annotations

from dataclasses import dataclass

from lejek.core.models import CustomField
from lejek.demo import vocabulary as words
from lejek.leads.models import Lead, Source
from lejek.users.models import Role

DEMO_PASSWORD = "lejek-demo"
DEFAULT_SEED = 42
SIZES = {"small": 2_000, "large": 20_000}
TEAM_NAMES = {"north": "Sprzedaż Północ", "south": "Sprzedaż Południe"}
ROLE_NAMES = {
    Role.ADMIN: "admin",
    Role.MANAGER: "sales manager",
    Role.REP: "sales rep",
    Role.MARKETING: "marketing",
}


@dataclass(frozen=True)
class DemoUser:
    key: str
    email: str
    first_name: str
    last_name: str
    role: str
    regions: tuple[str, ...] = ()
    language: str = "pl"


DEMO_USERS = [
    DemoUser("admin", "admin@lejek.demo", "Adam", "Nowak", Role.ADMIN),
    DemoUser("manager", "manager@lejek.demo", "Magdalena", "Kowalska", Role.MANAGER, ("north",)),
    DemoUser("anna", "anna@lejek.demo", "Anna", "Wiśniewska", Role.REP, ("north",)),
    DemoUser("piotr", "piotr@lejek.demo", "Piotr", "Zieliński", Role.REP, ("north",)),
    DemoUser("john", "john@lejek.demo", "John", "Carter", Role.REP, ("south",), "en"),
    DemoUser("marketing", "marketing@lejek.demo", "Marta", "Lewandowska", Role.MARKETING),
]
# Who owns a region's records, and how often: the manager keeps a few accounts personally.
OWNERS = {"north": [("anna", 42), ("piotr", 42), ("manager", 16)], "south": [("john", 1)]}


@dataclass(frozen=True)
class PipelineSpec:
    name: str
    is_default: bool
    open_stages: list[tuple[str, int]]
    won: str
    lost: str
    # Per open stage: the odds that the next move is forward, and that it is to lost; in the
    # remaining cases the deal stalls where it is.
    odds: list[tuple[float, float]]
    days_per_stage: tuple[int, int]
    activities: list[list[tuple[str, str, str]]]
    tasks: list[str]


NEW_BUSINESS = PipelineSpec(
    name="Nowy biznes",
    is_default=True,
    open_stages=[
        ("Zakwalifikowany", 10),
        ("Analiza potrzeb", 25),
        ("Propozycja", 50),
        ("Negocjacje", 75),
    ],
    won="Wygrana",
    lost="Przegrana",
    odds=[(0.64, 0.15), (0.64, 0.17), (0.62, 0.2), (0.62, 0.28)],
    days_per_stage=(4, 28),
    activities=words.NEW_BUSINESS_ACTIVITIES,
    tasks=words.NEW_BUSINESS_TASKS,
)
RENEWALS = PipelineSpec(
    name="Odnowienia",
    is_default=False,
    open_stages=[("Do odnowienia", 40), ("Oferta odnowienia", 70)],
    won="Odnowione",
    lost="Nieodnowione",
    odds=[(0.75, 0.1), (0.78, 0.14)],
    days_per_stage=(5, 30),
    activities=words.RENEWAL_ACTIVITIES,
    tasks=words.RENEWAL_TASKS,
)

# (key, name, channel, weight among the leads that arrive without a campaign)
SOURCES = [
    ("web", "Formularz na stronie", Source.Kind.WEB_FORM, 34),
    ("ads", "Kampanie reklamowe", Source.Kind.CAMPAIGN, 0),
    ("events", "Targi i konferencje", Source.Kind.EVENT, 5),
    ("import", "Import z pliku", Source.Kind.IMPORT, 12),
    ("api", "Integracja API", Source.Kind.API, 6),
    ("manual", "Wprowadzone ręcznie", Source.Kind.MANUAL, 14),
    ("email", "E-mail do działu sprzedaży", Source.Kind.EMAIL, 15),
    ("referral", "Polecenia klientów", Source.Kind.REFERRAL, 14),
]
# Leads that arrive by themselves are logged by the system; lists and campaigns by marketing.
SYSTEM_SOURCES = ("web", "api", "email")
MARKETING_SOURCES = ("ads", "events", "import")
# (name, channel, source, starts days ago, days long, cost in PLN, share of campaign leads)
CAMPAIGNS = [
    ("Google Ads — ERP dla produkcji", "Google Ads", "ads", 330, 90, "18500.00", 22),
    ("Targi przemysłowe w Poznaniu", "Targi", "events", 215, 4, "42000.00", 18),
    ("LinkedIn — dyrektorzy finansowi", "LinkedIn", "ads", 180, 60, "12800.00", 18),
    ("Webinar: magazyn bez papieru", "Webinar", "events", 100, 1, "3200.00", 10),
    ("Newsletter kwartalny", "E-mail", "email", 70, 10, "900.00", 8),
    ("Google Ads — chmura dla MŚP", "Google Ads", "ads", 45, 75, "9600.00", 24),
]
CAMPAIGN_SHARE = 0.35
# Leads keep arriving for two weeks after a campaign ends (late clicks, badge scans typed in).
CAMPAIGN_TAIL_DAYS = 14
# (entity, key, label, type, choices)
CUSTOM_FIELDS = [
    ("lead", "budzet", "Budżet", CustomField.Type.DECIMAL, []),
    ("company", "segment", "Segment", CustomField.Type.CHOICE, ["MŚP", "Średnie", "Korporacja"]),
    ("deal", "konkurencja", "Konkurencja", CustomField.Type.TEXT, []),
    ("contact", "newsletter", "Zgoda na newsletter", CustomField.Type.BOOLEAN, []),
]
LEAD_SCORES = {
    Lead.Status.NEW: (5, 40),
    Lead.Status.CONTACTED: (15, 55),
    Lead.Status.MQL: (40, 70),
    Lead.Status.SQL: (60, 90),
    Lead.Status.CONVERTED: (65, 98),
    Lead.Status.DISQUALIFIED: (0, 25),
}
# Leads someone has talked to that are still in play: each may have a follow-up task.
OPEN_TOUCHED = (Lead.Status.CONTACTED, Lead.Status.MQL, Lead.Status.SQL)
DURATIONS = {"call": (5, 40), "meeting": (30, 120)}


def lead_status_odds(age_days: float) -> tuple[list[str], list[int]]:
    """Where a lead of this age has got to: young leads are new, old ones spread down the funnel."""
    status = Lead.Status
    if age_days < 3:
        return [status.NEW, status.CONTACTED], [85, 15]
    if age_days < 14:
        return [status.NEW, status.CONTACTED, status.MQL, status.SQL], [50, 35, 10, 5]
    return (
        [
            status.NEW,
            status.CONTACTED,
            status.MQL,
            status.SQL,
            status.CONVERTED,
            status.DISQUALIFIED,
        ],
        [22, 26, 12, 8, 18, 14],
    )
