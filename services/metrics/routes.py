"""REST routes for outcome metrics (JSON and CSV) and the KPI import."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Query, Request, Response

from services.api.deps import ActorDep, PathId, SessionDep
from services.api.problems import problem
from services.db import utcnow
from services.errors import Invalid
from services.metrics import export, kpis, service
from services.metrics.models import CohortMetrics, KpiImportReport, MemberMetrics

router = APIRouter(tags=["metrics"])

Weeks = Annotated[int, Query(ge=1, le=service.MAX_WEEKS,
                             description="how many of the newest complete weeks to list")]
By = Annotated[str | None, Query(pattern="^(team|level|region)$",
                                 description="break the cohort down by team, level or region")]
CSV: Final = "text/csv; charset=utf-8"


def _csv(text: str, name: str) -> Response:
    return Response(text, media_type=CSV,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/cohorts/{cohort_id}/metrics")
async def cohort_metrics(
    session: SessionDep, actor: ActorDep, cohort_id: PathId,
    weeks: Weeks = service.DEFAULT_WEEKS, by: By = None,
) -> CohortMetrics:
    return await service.cohort_metrics(session=session, actor=actor, cohort_id=cohort_id,
                                        weeks=weeks, by=by, now=utcnow())


@router.get("/cohorts/{cohort_id}/metrics.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
async def cohort_metrics_csv(
    session: SessionDep, actor: ActorDep, cohort_id: PathId,
    weeks: Weeks = service.DEFAULT_WEEKS, by: By = None,
) -> Response:
    metrics = await service.cohort_metrics(session=session, actor=actor, cohort_id=cohort_id,
                                           weeks=weeks, by=by, now=utcnow())
    return _csv(export.to_csv(export.cohort_rows(metrics)), f"cohort-{cohort_id}-metrics.csv")


@router.get("/members/{member_id}/metrics")
async def member_metrics(
    session: SessionDep, actor: ActorDep, member_id: PathId,
    weeks: Weeks = service.DEFAULT_WEEKS,
) -> MemberMetrics:
    return await service.member_metrics(session=session, actor=actor, member_id=member_id,
                                        weeks=weeks, now=utcnow())


@router.get("/members/{member_id}/metrics.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
async def member_metrics_csv(
    session: SessionDep, actor: ActorDep, member_id: PathId,
    weeks: Weeks = service.DEFAULT_WEEKS,
) -> Response:
    metrics = await service.member_metrics(session=session, actor=actor, member_id=member_id,
                                           weeks=weeks, now=utcnow())
    return _csv(export.to_csv(export.member_rows(metrics)), f"member-{member_id}-metrics.csv")


@router.post("/kpis/import", response_model=KpiImportReport,
             responses={422: {"description": "invalid rows, with their line numbers"}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string"}}}}})
async def import_kpis(
    request: Request, session: SessionDep, actor: ActorDep, skip_invalid: bool = False
) -> object:
    """Import a KPI CSV (see the docs for its columns); 422 lists every bad row unless
    `skip_invalid`, and then nothing is written."""
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("the file is not UTF-8 text", field="file") from exc
    report = await kpis.import_kpis(session=session, actor=actor, text=text,
                                    skip_invalid=skip_invalid, today=utcnow().date())
    if report.errors and not skip_invalid:
        return problem(422, f"{len(report.errors)} invalid row(s); nothing was imported",
                       title="Invalid input", errors=[e.model_dump() for e in report.errors])
    return report
