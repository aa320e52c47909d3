"""The Polish catalogue: complete, not fuzzy, compiled, and actually spoken by the pages."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import set_language

LOCALE_DIR = Path(settings.BASE_DIR) / "lejek" / "locale" / "pl" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"
POLISH_PLURALS = (
    "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w+\}")


# A tiny .po reader: enough for what makemessages writes ---------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is not None:
            return [self.msgstr_plural.get(i, "") for i in range(3)]
        return [self.msgstr]


def parse_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None

    def finish():
        nonlocal current
        if current is not None:
            entries.append(current)
        current = None

    def append(text: str):
        name, index = target
        if name == "msgstr_plural":
            current.msgstr_plural[index] = current.msgstr_plural.get(index, "") + text
        else:
            setattr(current, name, (getattr(current, name) or "") + text)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            target = None
            continue
        if line.startswith("#~"):  # obsolete entries are not part of the catalogue
            continue
        if line.startswith("#"):
            if current is not None and target is not None and target[0].startswith("msgstr"):
                finish()  # a comment after a msgstr starts the next entry
                target = None
            if current is None:
                current = Entry(line=number)
            if line.startswith("#,"):
                current.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.startswith('"'):
            append(ast.literal_eval(line))
            continue
        starts_entry = keyword in ("msgctxt", "msgid")
        if starts_entry and current is not None and target and target[0].startswith("msgstr"):
            finish()
        if current is None:
            current = Entry(line=number)
        match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
        if match:
            target = ("msgstr_plural", int(match.group(1)))
        elif keyword in ("msgid", "msgid_plural", "msgctxt", "msgstr"):
            target = (keyword, None)
            if keyword in ("msgid_plural", "msgctxt"):
                setattr(current, keyword, "")
        else:
            raise ValueError(f"{path}:{number}: cannot read {raw!r}")
        append(ast.literal_eval(rest))
    finish()
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    assert PO_PATH.exists(), f"{PO_PATH} is missing: run makemessages -l pl"
    return parse_po(PO_PATH)


@pytest.fixture(scope="module")
def messages(entries) -> list[Entry]:
    return [e for e in entries if not e.is_header]


def describe(entry: Entry) -> str:
    return f"line {entry.line}: {entry.msgid!r}"


# (a) The catalogue is complete ----------------------------------------------------------------


def test_catalogue_has_messages_and_a_polish_header(entries, messages):
    header = next(e for e in entries if e.is_header)
    assert "Language: pl\n" in header.msgstr
    assert f"Plural-Forms: {POLISH_PLURALS}\n" in header.msgstr
    assert "charset=UTF-8" in header.msgstr
    assert "fuzzy" not in header.flags
    assert len(messages) > 100


def test_no_message_is_fuzzy(messages):
    fuzzy = [describe(e) for e in messages if "fuzzy" in e.flags]
    assert not fuzzy, f"fuzzy entries are ignored at run time: {fuzzy}"


def test_no_message_is_left_untranslated(messages):
    empty = [describe(e) for e in messages if not all(t.strip() for t in e.translations)]
    assert not empty, f"untranslated entries: {empty}"


def test_every_plural_has_the_three_polish_forms(messages):
    plurals = [e for e in messages if e.msgid_plural is not None]
    assert plurals
    for entry in plurals:
        assert sorted(entry.msgstr_plural) == [0, 1, 2], describe(entry)


def test_translations_keep_placeholders_and_edge_whitespace(messages):
    for entry in messages:
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        wanted = set(PLACEHOLDER.findall(" ".join(sources)))
        for text in entry.translations:
            assert set(PLACEHOLDER.findall(text)) == wanted, describe(entry)
            assert text[:1].isspace() == entry.msgid[:1].isspace(), describe(entry)
            assert text[-1:].isspace() == entry.msgid[-1:].isspace(), describe(entry)


# (b) The committed .mo is what the .po compiles to --------------------------------------------


def test_compiled_catalogue_is_up_to_date(messages, tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt (GNU gettext) is not installed")
    assert MO_PATH.exists(), f"{MO_PATH} is missing: run compilemessages -l pl"
    fresh_path = tmp_path / "django.mo"
    subprocess.run(
        [msgfmt, "--check-format", "-c", "-o", str(fresh_path), str(PO_PATH)],
        check=True,
        capture_output=True,
    )
    with MO_PATH.open("rb") as handle:
        committed = gettext.GNUTranslations(handle)
    with fresh_path.open("rb") as handle:
        fresh = gettext.GNUTranslations(handle)

    stale = []
    for entry in messages:
        if entry.msgid_plural is not None:
            for n in (1, 2, 5, 12, 22, 101):
                args = (entry.msgid, entry.msgid_plural, n)
                if entry.msgctxt is None:
                    got, want = committed.ngettext(*args), fresh.ngettext(*args)
                else:
                    got = committed.npgettext(entry.msgctxt, *args)
                    want = fresh.npgettext(entry.msgctxt, *args)
                if got != want:
                    stale.append(f"{describe(entry)} n={n}")
        else:
            if entry.msgctxt is None:
                got, want = committed.gettext(entry.msgid), fresh.gettext(entry.msgid)
            else:
                got = committed.pgettext(entry.msgctxt, entry.msgid)
                want = fresh.pgettext(entry.msgctxt, entry.msgid)
            if got != want or got != entry.msgstr:
                stale.append(describe(entry))
    assert not stale, f"django.mo is stale; run compilemessages -l pl. Differs: {stale}"
    assert committed.plural(1) == 0 and committed.plural(3) == 1 and committed.plural(5) == 2


def test_polish_plural_forms_pick_the_right_word():
    with MO_PATH.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)

    def leads(n):
        return catalogue.ngettext("%(shown)s lead", "%(shown)s leads", n) % {"shown": n}

    assert leads(1) == "1 lead"
    assert leads(2) == "2 leady"
    assert leads(4) == "4 leady"
    assert leads(5) == "5 leadów"
    assert leads(12) == "12 leadów"
    assert leads(22) == "22 leady"
    assert leads(25) == "25 leadów"


# (c) The pages speak the user's language ------------------------------------------------------


POLISH = ["Leady", "Szanse", "Kontakty", "Firmy", "Zadania", "Ustawienia", "Wyloguj"]
ENGLISH = ["Leads", "Deals", "Contacts", "Companies", "Tasks", "Settings", "Log out"]


def visible_text(response) -> str:
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def contains(text: str, phrase: str) -> bool:
    """Whole-word match, so "Lead" does not count as "Leady" and vice versa."""
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def shell_pages(user) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    return {url: visible_text(client.get(url)) for url in ("/", "/leads/")}


@pytest.mark.django_db
def test_polish_user_sees_polish_pages(rep):
    set_language(rep, "pl")
    rep.refresh_from_db()
    for url, text in shell_pages(rep).items():
        for word in POLISH:
            assert contains(text, word), f"{url}: {word!r} missing"
        for word in ENGLISH:
            assert not contains(text, word), f"{url}: English {word!r} on a Polish page"
    assert "Witaj, Rita" in shell_pages(rep)["/"]
    assert "Szukaj leadów" in shell_pages(rep)["/leads/"]


@pytest.mark.django_db
def test_english_user_sees_english_pages(rep):
    set_language(rep, "en")
    rep.refresh_from_db()
    for url, text in shell_pages(rep).items():
        for word in ENGLISH:
            assert contains(text, word), f"{url}: {word!r} missing"
        for word in POLISH:
            assert not contains(text, word), f"{url}: Polish {word!r} on an English page"
    assert "Hello, Rita" in shell_pages(rep)["/"]
    assert "Search leads" in shell_pages(rep)["/leads/"]


@pytest.mark.django_db
def test_switching_language_switches_the_same_session(rep):
    client = Client()
    client.force_login(rep)
    assert "Log out" in visible_text(client.get("/leads/"))
    set_language(rep, "pl")
    text = visible_text(client.get("/leads/"))
    assert "Wyloguj" in text and "Log out" not in text
    assert client.get("/leads/").headers["Content-Language"] == "pl"
