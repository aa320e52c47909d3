"""Named people shared by every test: an admin, a manager and two reps in different teams,
a marketer, and a stranger in a third team who must see nothing of the others."""

from __future__ import annotations

import pytest
from django.test import Client

from lejek.pipeline.models import Pipeline
from lejek.pipeline.services import pipeline_create
from lejek.users.models import Role
from lejek.users.services import team_create, user_create

PASSWORD = "correct horse battery staple"


@pytest.fixture
def north(db):
    return team_create(actor=None, name="North")


@pytest.fixture
def south(db):
    return team_create(actor=None, name="South")


def make_user(email, role, teams, first, last):
    return user_create(
        actor=None,
        email=email,
        password=PASSWORD,
        first_name=first,
        last_name=last,
        role=role,
        teams=teams,
        language="en",
    )


@pytest.fixture
def admin(db):
    return make_user("ada@example.com", Role.ADMIN, [], "Ada", "Admin")


@pytest.fixture
def manager(north):
    return make_user("max@example.com", Role.MANAGER, [north], "Max", "Manager")


@pytest.fixture
def rep(north):
    return make_user("rita@example.com", Role.REP, [north], "Rita", "Rep")


@pytest.fixture
def teammate(north):
    return make_user("tom@example.com", Role.REP, [north], "Tom", "Teammate")


@pytest.fixture
def other_rep(south):
    return make_user("oskar@example.com", Role.REP, [south], "Oskar", "Other")


@pytest.fixture
def marketer(db):
    return make_user("mia@example.com", Role.MARKETING, [], "Mia", "Marketing")


@pytest.fixture
def pipeline(db) -> Pipeline:
    return pipeline_create(
        actor=None,
        name="New business",
        is_default=True,
        stages=[
            {"name": "Qualified", "probability": 10},
            {"name": "Proposal", "probability": 40},
            {"name": "Negotiation", "probability": 70},
            {"name": "Won", "probability": 100, "is_won": True},
            {"name": "Lost", "probability": 0, "is_lost": True},
        ],
    )


@pytest.fixture
def onboarding(admin) -> Pipeline:
    """A second pipeline, for after-sales work."""
    return pipeline_create(
        actor=admin,
        name="Onboarding",
        stages=[
            {"name": "Kick-off", "probability": 0},
            {"name": "Live", "probability": 100, "is_won": True},
            {"name": "Churned", "probability": 0, "is_lost": True},
        ],
    )


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_for():
    return login


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2's deliberate slowness would dominate the suite; tests need no real hashing cost."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def english_for_visitors(settings):
    """Signed-out pages speak English in tests; each persona carries its own language."""
    settings.LANGUAGE_CODE = "en"
