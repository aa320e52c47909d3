"""Who is calling (`/me`), and the people and teams records can be assigned to."""

from __future__ import annotations

from typing import Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from lejek.api.listing import text_search
from lejek.api.pagination import PageParams, page_schema, paginate
from lejek.api.schemas import choice, responses
from lejek.users.models import Role, Team, User

router = Router(tags=["people"])

RoleValue = choice(Role)


class UserOut(Schema):
    id: int
    name: str
    email: str
    role: RoleValue
    teams: list[int]
    is_active: bool

    @staticmethod
    def resolve_name(obj: User) -> str:
        return str(obj)

    @staticmethod
    def resolve_teams(obj: User) -> list[int]:
        return [team.pk for team in obj.teams.all()]


class MeOut(UserOut):
    language: str


class TeamOut(Schema):
    id: int
    name: str


UserPage = page_schema(UserOut, "UserPage")
TeamPage = page_schema(TeamOut, "TeamPage")


class UserFilters(PageParams):
    role: RoleValue | None = None
    team: int | None = None
    active: bool | None = Field(None, description="Only active (true) or deactivated (false).")
    q: str | None = Field(None, max_length=200, description="Part of a name or e-mail.")
    ordering: Literal["email", "-email", "last_name", "-last_name", "id", "-id"] = "last_name"


def users(filters: UserFilters) -> QuerySet:
    rows = User.objects.prefetch_related("teams")
    if filters.role:
        rows = rows.filter(role=filters.role)
    if filters.team is not None:
        rows = rows.filter(teams=filters.team)
    if filters.active is not None:
        rows = rows.filter(is_active=filters.active)
    return text_search(rows, filters.q, ["first_name", "last_name", "email"])


@router.get("/me", response=responses({200: MeOut}))
def me(request: HttpRequest):
    """The user the token or session belongs to."""
    return User.objects.prefetch_related("teams").get(pk=request.auth.pk)


@router.get("/users", response=responses({200: UserPage}))
def list_users(request: HttpRequest, filters: Query[UserFilters]):
    """Everyone who can own or be assigned records (everyone signed in may see this list)."""
    return paginate(request, users(filters), filters, filters.ordering)


@router.get("/teams", response=responses({200: TeamPage}))
def list_teams(request: HttpRequest, page: Query[PageParams]):
    return paginate(request, Team.objects.all(), page, "name")
