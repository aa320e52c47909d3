"""Settings → Pipelines (admins): pipelines, their stages, probabilities, rotting and gates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from lejek.contacts.forms import save_through
from lejek.pipeline.forms import PipelineForm, StageForm
from lejek.pipeline.gates import field_labels
from lejek.pipeline.models import Pipeline, Stage
from lejek.pipeline.services import (
    pipeline_create,
    pipeline_update,
    stage_create,
    stage_delete,
    stage_move,
    stage_update,
)
from lejek.users.models import Role

# A new pipeline starts with one open stage and the two outcomes; the admin builds from there.
STARTER_STAGES = [
    {"name": gettext_noop("New"), "probability": 10},
    {"name": gettext_noop("Won"), "probability": 100, "is_won": True},
    {"name": gettext_noop("Lost"), "probability": 0, "is_lost": True},
]


def _ensure_admin(user) -> None:
    if user.role != Role.ADMIN:
        raise PermissionDenied(_("Only admins define pipelines."))


def _form_page(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    status = 400 if any(f.errors for f in context.values() if hasattr(f, "errors")) else 200
    return render(request, template, context, status=status)


@login_required
def pipeline_list(request: HttpRequest) -> HttpResponse:
    _ensure_admin(request.user)
    pipelines = Pipeline.objects.annotate(
        stage_count=Count("stages", distinct=True), deal_count=Count("deals", distinct=True)
    )
    return render(request, "pipeline/pipeline_list.html", {"pipelines": pipelines})


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_create_view(request: HttpRequest) -> HttpResponse:
    _ensure_admin(request.user)
    form = PipelineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        stages = [{**s, "name": _(s["name"])} for s in STARTER_STAGES]
        pipeline = save_through(
            form, lambda: pipeline_create(actor=request.user, stages=stages, **form.cleaned_data)
        )
        if pipeline is not None:
            messages.success(request, _("Pipeline “%(name)s” added.") % {"name": pipeline})
            return redirect("pipeline-edit", pipeline.pk)
    return _form_page(request, "pipeline/pipeline_form.html", {"form": form})


def _edit_page(
    request: HttpRequest,
    pipeline: Pipeline,
    form: PipelineForm | None = None,
    stage_form: StageForm | None = None,
) -> HttpResponse:
    stages = list(pipeline.stages.annotate(deal_count=Count("deals")).order_by("position"))
    for stage in stages:
        stage.required_labels = field_labels(stage.required_fields or [])
    context = {
        "pipeline": pipeline,
        "form": form or PipelineForm(pipeline=pipeline),
        "stage_form": stage_form or StageForm(prefix="new"),
        "stages": stages,
    }
    return _form_page(request, "pipeline/pipeline_edit.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_admin(request.user)
    pipeline = get_object_or_404(Pipeline, pk=pk)
    if request.method != "POST":
        return _edit_page(request, pipeline)
    form = PipelineForm(request.POST, pipeline=pipeline)
    if form.is_valid():
        saved = save_through(
            form,
            lambda: pipeline_update(
                actor=request.user, pipeline=pipeline, values=form.cleaned_data
            ),
        )
        if saved is not None:
            messages.success(request, _("Pipeline “%(name)s” saved.") % {"name": saved})
            return redirect("pipeline-edit", pipeline.pk)
        pipeline.refresh_from_db()
    return _edit_page(request, pipeline, form=form)


@login_required
@require_POST
def stage_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_admin(request.user)
    pipeline = get_object_or_404(Pipeline, pk=pk)
    form = StageForm(request.POST, prefix="new")
    if form.is_valid():
        stage = save_through(
            form, lambda: stage_create(actor=request.user, pipeline=pipeline, values=form.values())
        )
        if stage is not None:
            messages.success(request, _("Stage “%(name)s” added.") % {"name": stage})
            return redirect("pipeline-edit", pipeline.pk)
    return _edit_page(request, pipeline, stage_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def stage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_admin(request.user)
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=pk)
    form = StageForm(request.POST or None, stage=stage)
    if request.method == "POST" and form.is_valid():
        saved = save_through(
            form, lambda: stage_update(actor=request.user, stage=stage, values=form.values())
        )
        if saved is not None:
            messages.success(request, _("Stage “%(name)s” saved.") % {"name": saved})
            return redirect("pipeline-edit", stage.pipeline_id)
        stage.refresh_from_db()
    return _form_page(request, "pipeline/stage_form.html", {"form": form, "stage": stage})


@login_required
@require_POST
def stage_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Up / down buttons in the stage table: `position` is where the stage goes."""
    _ensure_admin(request.user)
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=pk)
    raw = request.POST.get("position", "")
    if raw.isdigit() and len(raw) < 6:
        stage_move(actor=request.user, stage=stage, position=int(raw))
        messages.success(request, _("Stage “%(name)s” moved.") % {"name": stage})
    return redirect("pipeline-edit", stage.pipeline_id)


@login_required
@require_http_methods(["GET", "POST"])
def stage_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks first; a stage with deals in it, or in its history, is refused with the reason."""
    _ensure_admin(request.user)
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=pk)
    errors: list[str] = []
    if request.method == "POST":
        try:
            stage_delete(actor=request.user, stage=stage)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("Stage “%(name)s” deleted.") % {"name": stage})
            return redirect("pipeline-edit", stage.pipeline_id)
    context = {"stage": stage, "errors": errors, "deal_count": stage.deals.count()}
    return render(request, "pipeline/stage_delete.html", context, status=400 if errors else 200)
