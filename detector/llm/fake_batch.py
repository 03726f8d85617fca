"""The OpenAI Files and Batches API, in memory, for ``FakeLLM`` (tests and the offline demo).

Wire shapes follow the real API as the ``openai`` SDK reads them: a file object (``object: file``,
``purpose``, ``bytes``), a batch object (``status``, ``input_file_id``, ``output_file_id``,
``error_file_id``, ``request_counts {total, completed, failed}``, ``metadata``, the ``*_at`` stamps),
a cursor list (``data``, ``first_id``, ``last_id``, ``has_more``; newest first, ``after``/``limit``),
output lines ``{"id": "batch_req_..", "custom_id", "response": {"status_code", "request_id", "body"},
"error": null}`` and error lines (a non-200 ``response``, or ``response: null`` with an ``error`` such
as ``batch_expired``). Each request line is answered by ``FakeLLM.answer``, so ``fail_next`` scripts
single lines (``malformed``, ``refusal``, ``length`` end up in the output file; ``429``, ``500`` and
``timeout`` in the error file).

A batch is ``validating`` when created, ``in_progress`` on the next retrieves and finishes on the
``complete_after``-th retrieve; ``end_next("expired", answered=k)`` (or ``failed``/``cancelled``)
scripts how the next batch ends, and ``cancel`` moves one to ``cancelling`` then ``cancelled``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from email import message_from_bytes
from email.policy import HTTP

ENDPOINTS = ("/v1/chat/completions",)


def api_error(status: int, message: str, code: str | None = None) -> tuple[int, dict]:
    return status, {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """``{field: (filename, bytes)}`` of a ``multipart/form-data`` body (the SDK's file upload)."""
    message = message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=HTTP)
    fields = {}
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        fields[name] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return fields


class FakeBatchAPI:
    """Files and batches of one fake endpoint; ``created`` counts every ``POST /v1/batches`` that made one."""

    def __init__(self, llm, *, complete_after: int = 1):
        self.llm, self.complete_after = llm, max(1, complete_after)
        self.files: dict[str, dict] = {}
        self.contents: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.retrieves: dict[str, int] = {}
        self._ends: list[tuple[str, int]] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    @property
    def created(self) -> int:
        return len(self.batches)

    def end_next(self, status: str, *, answered: int = 0) -> FakeBatchAPI:
        """The next batch to finish ends ``expired``/``failed``/``cancelled`` after answering ``answered`` lines."""
        assert status in ("completed", "expired", "failed", "cancelled"), status
        self._ends.append((status, answered))
        return self

    # -- routing ---------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict, content_type: str, body: bytes) -> tuple[int, object]:
        """``(status, JSON object or raw bytes)`` for a Files/Batches request; 404 for anything else."""
        parts = [p for p in path.split("/v1/", 1)[-1].split("/") if p]
        with self._lock:
            if parts[:1] == ["files"]:
                if method == "POST" and len(parts) == 1:
                    return self._upload(content_type, body)
                if method == "GET" and len(parts) >= 2 and parts[1] in self.files:
                    return (200, self.files[parts[1]]) if len(parts) == 2 else (200, self.contents[parts[1]])
                return api_error(404, "No such File object", "not_found")
            if parts[:1] == ["batches"]:
                if method == "POST" and len(parts) == 1:
                    return self._create(body)
                if method == "GET" and len(parts) == 1:
                    return 200, self._list(query)
                batch = self.batches.get(parts[1]) if len(parts) > 1 else None
                if batch is None:
                    return api_error(404, "No batch found", "not_found")
                if method == "GET" and len(parts) == 2:
                    return 200, self._advance(batch)
                if method == "POST" and parts[2:] == ["cancel"]:
                    if batch["status"] in ("validating", "in_progress", "finalizing"):
                        batch.update(status="cancelling", cancelling_at=int(time.time()))
                    return 200, batch
        return api_error(404, f"unknown route {method} {path}")

    # -- files -----------------------------------------------------------------------------------------
    def _upload(self, content_type: str, body: bytes) -> tuple[int, dict]:
        fields = parse_multipart(content_type, body)
        purpose = fields.get("purpose", (None, b""))[1].decode()
        if "file" not in fields or purpose not in ("batch", "assistants", "fine-tune", "user_data"):
            return api_error(400, "a file and a valid purpose are required")
        filename, data = fields["file"]
        return 200, self._store(data, filename or "upload.jsonl", purpose)

    def _store(self, data: bytes, filename: str, purpose: str) -> dict:
        file_id = f"file-fake{next(self._ids):06d}"
        self.files[file_id] = {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                               "filename": filename, "purpose": purpose, "status": "processed",
                               "expires_at": None, "status_details": None}
        self.contents[file_id] = data
        return self.files[file_id]

    # -- batches ---------------------------------------------------------------------------------------
    def _create(self, body: bytes) -> tuple[int, dict]:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            return api_error(400, "invalid JSON body")
        metadata = params.get("metadata") or {}
        if params.get("endpoint") not in ENDPOINTS or params.get("completion_window") != "24h":
            return api_error(400, "endpoint must be /v1/chat/completions and completion_window 24h")
        if len(metadata) > 16 or any(not isinstance(v, str) or len(v) > 512 for v in metadata.values()):
            return api_error(400, "metadata: at most 16 string values of at most 512 characters")
        file = self.files.get(params.get("input_file_id"))
        if file is None or file["purpose"] != "batch":
            return api_error(400, "input_file_id must be a file uploaded with purpose=batch")
        batch_id = f"batch_fake{next(self._ids):06d}"
        now = int(time.time())
        lines, problem = self._requests(self.contents[file["id"]], params["endpoint"])
        batch = {"id": batch_id, "object": "batch", "endpoint": params["endpoint"], "errors": None,
                 "input_file_id": file["id"], "completion_window": "24h", "status": "validating",
                 "output_file_id": None, "error_file_id": None, "created_at": now, "in_progress_at": None,
                 "expires_at": now + 86400, "finalizing_at": None, "completed_at": None, "failed_at": None,
                 "expired_at": None, "cancelling_at": None, "cancelled_at": None, "metadata": metadata,
                 "model": lines[0]["body"].get("model") if lines else None,
                 "request_counts": {"total": len(lines), "completed": 0, "failed": 0}}
        if problem:
            batch.update(status="failed", failed_at=now, errors={"object": "list", "data": [
                {"code": "invalid_request", "message": problem, "param": None, "line": None}]})
        self.batches[batch_id] = batch
        self.retrieves[batch_id] = 0
        batch["_lines"] = lines
        return 200, self._public(batch)

    @staticmethod
    def _requests(data: bytes, endpoint: str) -> tuple[list[dict], str | None]:
        lines, seen, models = [], set(), set()
        for number, raw in enumerate(data.decode("utf-8").splitlines(), 1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                return [], f"line {number} is not JSON"
            if (line.get("method") != "POST" or line.get("url") != endpoint or not isinstance(line.get("body"), dict)
                    or not line.get("custom_id") or line["custom_id"] in seen):
                return [], f"line {number}: needs a unique custom_id, method POST, url {endpoint} and a body"
            seen.add(line["custom_id"])
            models.add(line["body"].get("model"))
            lines.append(line)
        if not lines or len(models) != 1:
            return [], "the file must hold at least one request, all for one model"
        return lines, None

    def _advance(self, batch: dict) -> dict:
        self.retrieves[batch["id"]] += 1
        now = int(time.time())
        if batch["status"] == "cancelling":
            self._finish(batch, "cancelled", 0)
        elif batch["status"] in ("validating", "in_progress"):
            if self.retrieves[batch["id"]] >= self.complete_after:
                self._finish(batch, *(self._ends.pop(0) if self._ends else ("completed", -1)))
            else:
                batch.update(status="in_progress", in_progress_at=batch["in_progress_at"] or now)
        return self._public(batch)

    def _finish(self, batch: dict, status: str, answered: int) -> None:
        now = int(time.time())
        lines = batch["_lines"]
        if status == "failed":
            batch.update(status="failed", failed_at=now, errors={"object": "list", "data": [
                {"code": "server_error", "message": "the batch failed (scripted)", "param": None, "line": None}]})
            return
        answered = len(lines) if answered < 0 else answered
        output, errors = [], []
        for i, line in enumerate(lines):
            request_id = f"req_fake{next(self._ids):06d}"
            entry = {"id": f"batch_req_fake{next(self._ids):06d}", "custom_id": line["custom_id"]}
            if i >= answered:
                code = "batch_expired" if status == "expired" else "batch_cancelled"
                errors.append({**entry, "response": None, "error": {
                    "code": code, "message": "This request could not be executed before the batch ended."}})
                continue
            code, body, fault = self.llm.answer(line["body"])
            code = 500 if fault == "timeout" else code
            target = output if code == 200 else errors
            target.append({**entry, "response": {"status_code": code, "request_id": request_id, "body": body},
                           "error": None})
        for key, rows in (("output_file_id", output), ("error_file_id", errors)):
            if rows:
                data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
                batch[key] = self._store(data, f"{batch['id']}_{key[:-8]}.jsonl", "batch_output")["id"]
        batch["request_counts"] = {"total": len(lines), "completed": len(output), "failed": len(errors)}
        batch.update(status=status, finalizing_at=now, **{f"{status}_at": now})

    def _list(self, query: dict) -> dict:
        rows = list(reversed(self.batches.values()))  # newest first, as the API lists them
        if query.get("after") in self.batches:
            rows = rows[[r["id"] for r in rows].index(query["after"]) + 1:]
        limit = max(1, min(100, int(query.get("limit") or 20)))
        page = [self._public(r) for r in rows[:limit]]
        return {"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None, "has_more": len(rows) > limit}

    @staticmethod
    def _public(batch: dict) -> dict:
        return {k: v for k, v in batch.items() if not k.startswith("_")}
