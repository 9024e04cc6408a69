"""Data-plane routes: ``/accounts/{account}/openai/...`` (api-version required) and the same routes under
``/accounts/{account}/openai/v1/...`` (the v1 API: no api-version). Parse, call :mod:`..dataplane`,
serialize; behaviour lives there.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from .. import dataplane as dp
from .. import inference
from ..errors import invalid_payload
from ..strict import check_form

router = APIRouter()
PREFIXES = (("/accounts/{account}/openai", False), ("/accounts/{account}/openai/v1", True))


def _backend(request: Request):
    return request.app.state.backend


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise invalid_payload(f"The request body is not valid JSON: {exc}.") from None


def _created(request: Request, record: dict[str, Any], path: str) -> JSONResponse:
    location = str(request.base_url).rstrip("/") + path
    return JSONResponse(record, status_code=201, headers={"Location": location})


def _stream_file(path, chunk_size: int = 1 << 20):
    with open(path, "rb") as source:
        while chunk := source.read(chunk_size):
            yield chunk


def _mount(prefix: str, v1: bool) -> None:
    def caller(request: Request, account: str) -> dp.Caller:
        backend = _backend(request)
        backend.tick()
        return dp.authorize(backend, account, request.headers, request.query_params.get("api-version"), v1=v1)

    # -- files ---------------------------------------------------------------------------------
    @router.post(prefix + "/files", status_code=201)
    async def upload_file(request: Request, c: dp.Caller = Depends(caller)):
        backend = _backend(request)
        try:
            form = await request.form(max_files=1, max_fields=20)
        except Exception as exc:  # malformed multipart, wrong content type
            raise invalid_payload(f"Expected a multipart/form-data body with 'purpose' and 'file': {exc}.") from None
        try:
            check_form(request, {key: value for key, value in form.multi_items()})
            purpose = form.get("purpose")
            upload = form.get("file")
            if upload is None:
                raise invalid_payload("'file' is required.", target="file")
            dp.check_purpose(purpose)
            if isinstance(upload, str):
                import io
                source, filename = io.BytesIO(upload.encode("utf-8")), "file"
            else:
                source, filename = upload.file, upload.filename
            record = await run_in_threadpool(dp.upload_file, backend, c, source, filename, purpose)
        finally:
            await form.close()
        return _created(request, record, f"/accounts/{c.account}/openai/files/{record['id']}")

    @router.post(prefix + "/files/import", status_code=201)
    async def import_file(request: Request, c: dp.Caller = Depends(caller)):
        record = await dp.import_file(_backend(request), c, await _json_body(request))
        return _created(request, record, f"/accounts/{c.account}/openai/files/{record['id']}")

    @router.get(prefix + "/files")
    def list_files(request: Request, c: dp.Caller = Depends(caller), purpose: str | None = None,
                   after: str | None = None, limit: str | None = None, order: str | None = None):
        return dp.list_files(_backend(request), c, purpose=purpose, after=after, limit=limit, order=order)

    @router.get(prefix + "/files/{file_id}")
    def get_file(request: Request, file_id: str, c: dp.Caller = Depends(caller)):
        return dp.get_file(_backend(request), c, file_id)

    @router.delete(prefix + "/files/{file_id}")
    def delete_file(request: Request, file_id: str, c: dp.Caller = Depends(caller)):
        return dp.delete_file(_backend(request), c, file_id)

    @router.get(prefix + "/files/{file_id}/content")
    def file_content(request: Request, file_id: str, c: dp.Caller = Depends(caller)):
        path = dp.file_content_path(_backend(request), c, file_id)
        return StreamingResponse(_stream_file(path), media_type="application/octet-stream",
                                 headers={"Content-Length": str(path.stat().st_size)})

    # -- fine-tuning jobs ----------------------------------------------------------------------
    @router.post(prefix + "/fine_tuning/jobs", status_code=201)
    async def create_job(request: Request, c: dp.Caller = Depends(caller)):
        body = await _json_body(request)
        job = await run_in_threadpool(dp.create_job, _backend(request), c, body)
        return _created(request, job, f"/accounts/{c.account}/openai/fine_tuning/jobs/{job['id']}")

    @router.get(prefix + "/fine_tuning/jobs")
    def list_jobs(request: Request, c: dp.Caller = Depends(caller), after: str | None = None,
                  limit: str | None = None):
        return dp.list_jobs(_backend(request), c, after=after, limit=limit)

    @router.get(prefix + "/fine_tuning/jobs/{job_id}")
    def get_job(request: Request, job_id: str, c: dp.Caller = Depends(caller)):
        return dp.get_job(_backend(request), c, job_id)

    @router.delete(prefix + "/fine_tuning/jobs/{job_id}", status_code=204)
    def delete_job(request: Request, job_id: str, c: dp.Caller = Depends(caller)):
        dp.delete_job(_backend(request), c, job_id)
        return Response(status_code=204)

    @router.post(prefix + "/fine_tuning/jobs/{job_id}/cancel")
    def cancel_job(request: Request, job_id: str, c: dp.Caller = Depends(caller)):
        return dp.cancel_job(_backend(request), c, job_id)

    @router.post(prefix + "/fine_tuning/jobs/{job_id}/pause")
    def pause_job(request: Request, job_id: str, c: dp.Caller = Depends(caller)):
        return dp.pause_job(_backend(request), c, job_id)

    @router.post(prefix + "/fine_tuning/jobs/{job_id}/resume")
    def resume_job(request: Request, job_id: str, c: dp.Caller = Depends(caller)):
        return dp.resume_job(_backend(request), c, job_id)

    @router.get(prefix + "/fine_tuning/jobs/{job_id}/events")
    def list_events(request: Request, job_id: str, c: dp.Caller = Depends(caller), after: str | None = None,
                    limit: str | None = None):
        return dp.list_events(_backend(request), c, job_id, after=after, limit=limit)

    @router.get(prefix + "/fine_tuning/jobs/{job_id}/checkpoints")
    def list_checkpoints(request: Request, job_id: str, c: dp.Caller = Depends(caller), after: str | None = None,
                         limit: str | None = None):
        return dp.list_checkpoints(_backend(request), c, job_id, after=after, limit=limit)

    # -- models --------------------------------------------------------------------------------
    @router.get(prefix + "/models")
    def list_models(request: Request, c: dp.Caller = Depends(caller)):
        return dp.list_models(_backend(request), c)

    @router.get(prefix + "/models/{model_id}")
    def get_model(request: Request, model_id: str, c: dp.Caller = Depends(caller)):
        return dp.get_model(_backend(request), c, model_id)


    # -- inference -----------------------------------------------------------------------------
    if not v1:
        @router.post(prefix + "/deployments/{deployment}/chat/completions")
        async def chat_completions(request: Request, deployment: str, c: dp.Caller = Depends(caller)):
            body = await _json_body(request)
            return await run_in_threadpool(inference.chat_completion, _backend(request), c, deployment, body)


for _prefix, _v1 in PREFIXES:
    _mount(_prefix, _v1)


@router.api_route("/accounts/{account}/openai/{rest:path}",
                  methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def unknown_operation(request: Request, account: str, rest: str):
    """Any other data-plane path (or method): Azure's 404 rather than the framework's."""
    raise dp.resource_not_found()

