"""Bulk provider-product onboarding (seed 003): register every code of a file, within Osigu's rate limit.

Requests go through the BFF's own UpstreamClient (token cache, idempotency keys) under a RateLimiter;
every result is fsynced to an append-only journal, so a run killed at any point resumes without
sending again what already succeeded.
"""

import csv
import email.utils
import io
import json
import os
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from urllib.parse import quote

import limits

from .upstream import UpstreamError

PROVIDER_PRODUCTS = "/arc/v1/providers/products"
# Seed 003: medications are listed by the medical catalogue, labs, imaging and procedures by ARC's.
CATALOGUES = ("/medical-catalogs/v1/medications", "/arc/v1/products")
PAGE_SIZE = 100
MAX_CODE_LENGTH = 20  # Osigu refuses longer codes with a 422
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
DELIMITERS = ",;\t"
ALREADY_REGISTERED = "071-102"
SUCCESS = frozenset({"registered", "already_registered"})
MAX_ATTEMPTS = 4  # per code, after a 5xx or a lost connection
MAX_RATE_LIMITED = 20  # per code, 429s waited out (the limiter makes even one rare)
MIN_RETRY_AFTER, MAX_RETRY_AFTER = 1.0, 300.0
REPORT_COLUMNS = ("line", "product_code", "outcome", "status", "error_code", "message")


class SyncError(Exception):
    """The run cannot go on (refused credentials, a journal of another tenant); the message says why."""


@dataclass(frozen=True)
class Row:
    line: int
    code: str


@dataclass(frozen=True)
class Result:
    line: int | None
    product_code: str
    outcome: str
    status: int | None = None
    error_code: str | None = None
    message: str = ""


@dataclass
class CodeFile:
    rows: list
    bad_rows: list  # Results with outcome "malformed"
    duplicates: int = 0


def parse_rate(text):
    """Read --rate: requests per minute ("50"), or a limit such as "50/minute" or "50 per 3 seconds"."""
    if text.strip().isdigit():
        return int(text), 60.0
    item = limits.parse(text)
    return item.amount, float(item.get_expiry())


def code_problem(code):
    """Say what is wrong with a product code, or return None."""
    if not code:
        return "no product_code"
    if any(character.isspace() for character in code):
        return "whitespace inside the code"
    if len(code) > MAX_CODE_LENGTH:
        return f"longer than {MAX_CODE_LENGTH} characters"
    if not CODE.fullmatch(code):
        return "only letters, digits, '.', '_' and '-' (first a letter or digit)"
    return None


def _cells(text):
    """Yield (line number, code) from a CSV with a product_code column, or from one code per line."""
    lines = text.splitlines()
    first = next((number for number, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return
    header = lines[first]
    delimiter = next((d for d in DELIMITERS if d in header), ",")
    names = [name.strip().lower() for name in next(csv.reader([header], delimiter=delimiter))]
    if "product_code" not in names:
        if delimiter in header:
            raise ValueError(first + 1, "a CSV needs a product_code column")
        yield from ((number, line.strip()) for number, line in enumerate(lines, 1) if line.strip())
        return
    column = names.index("product_code")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    for row in reader:
        if reader.line_num > first + 1 and any(cell.strip() for cell in row):
            yield reader.line_num, (row[column].strip() if column < len(row) else "")


def read_codes(path):
    """Read a file of product codes: each good code once (at its first line), each bad row with its line."""
    # Undecodable bytes (a Latin-1 export) become U+FFFD: other columns are ignored, a code with one is malformed.
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        text = handle.read()
    found, seen = CodeFile([], []), set()
    try:
        for line, code in _cells(text):
            if problem := code_problem(code):
                found.bad_rows.append(Result(line, code, "malformed", message=problem))
            elif code in seen:
                found.duplicates += 1
            else:
                seen.add(code)
                found.rows.append(Row(line, code))
    except ValueError as error:
        line, message = error.args
        found.bad_rows.append(Result(line, "", "malformed", message=message))
    return found


class Journal:
    """An append-only JSON-lines record of a run: what was sent, with which key, and how it ended (fsynced)."""

    def __init__(self, path, tenant, resume):
        self.path, self.done, self.keys = path, {}, {}
        self.resumed = resume and os.path.exists(path)
        if self.resumed:
            self._load(tenant)
        self._file = open(path, "a" if self.resumed else "w", encoding="utf-8")
        self._lock = threading.Lock()
        if not self.resumed:
            self._append({"journal": "osigu-widgets products sync"} | tenant)

    def _load(self, tenant):
        with open(self.path, encoding="utf-8") as handle:
            text = handle.read()
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # the last line of a run killed while writing it
            if "journal" in record and {k: record.get(k) for k in tenant} != tenant:
                raise SyncError(f"{self.path} is the journal of a run for {record.get('client_id')} at "
                                f"{record.get('base_url')}; delete it or pick another --journal.")
            if "key" in record:
                self.keys[record["product_code"]] = record["key"]
            elif record.get("outcome") in SUCCESS:
                self.done[record["product_code"]] = Result(**record)
        if text and not text.endswith("\n"):
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write("\n")  # so the next record does not continue the broken one

    def _append(self, record, durable=True):
        line = json.dumps(record) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()  # in the operating system's hands: survives the process being killed
            if durable:
                os.fsync(self._file.fileno())  # on disk: survives the machine losing power

    def sending(self, code, key):
        """Record the key before the request goes: a resumed run resends with it, so Osigu sees one request.

        Not fsynced: should a power cut lose it, the resent request with a new key is answered 409
        (already registered), which counts as done all the same.
        """
        self._append({"product_code": code, "key": key}, durable=False)

    def ended(self, result):
        self._append(asdict(result))

    def close(self):
        self._file.close()


def retry_after_seconds(value, attempt):
    """Seconds to wait: Osigu's Retry-After (seconds or an HTTP date), else a short exponential backoff.

    At least a second: Retry-After counts whole seconds, so "0" means "less than one", not "now".
    """
    seconds = None
    if value:
        try:
            seconds = float(value)
        except ValueError:
            moment = email.utils.parsedate_to_datetime(value) if email.utils.parsedate(value) else None
            seconds = moment and moment.timestamp() - time.time()
    return min(max(seconds if seconds is not None else 2.0 ** attempt, MIN_RETRY_AFTER), MAX_RETRY_AFTER)


def outcome_of(row, error):
    """Classify Osigu's refusal of one registration."""
    if error.status in (401, 403) or error.error_code == "BFF-OAUTH":
        raise SyncError(f"Osigu refused these credentials ({error.status} {error.error_code}: {error.message}).")
    if error.status == 409 and error.error_code == ALREADY_REGISTERED:
        return Result(row.line, row.code, "already_registered", 409, error.error_code, error.message)
    outcome = "unknown" if error.status == 404 else "failed"
    return Result(row.line, row.code, outcome, error.status, error.error_code, error.message)


class Registrar:
    """Registers codes one request each, under the limiter, resending on 429/5xx with the same idempotency key."""

    def __init__(self, client, limiter, journal):
        self.client, self.limiter, self.journal = client, limiter, journal
        self.rate_limited = 0  # 429s Osigu answered, each waited out and resent
        self._count_lock = threading.Lock()

    def register(self, row):
        key = self.journal.keys.get(row.code) or str(uuid.uuid4())
        result = self._send(row, key)
        self.journal.ended(result)
        return result

    def _send(self, row, key):
        failures = limited = 0
        while True:
            with self.limiter:
                if not failures + limited:
                    self.journal.sending(row.code, key)  # once its turn has come, just before it goes
                try:
                    self.client.request("POST", PROVIDER_PRODUCTS, json={"product_code": row.code},
                                        idempotency_key=key)
                    return Result(row.line, row.code, "registered", 201)
                except UpstreamError as error:
                    last = error
            if last.status == 429:
                with self._count_lock:
                    self.rate_limited += 1
                limited += 1
            else:
                failures += 1
            if not last.retryable or failures == MAX_ATTEMPTS or limited == MAX_RATE_LIMITED:
                return outcome_of(row, last)
            # Every worker would meet the same answer: the whole run waits, not just this request.
            self.limiter.pause(retry_after_seconds(last.retry_after, failures))


def run_concurrently(work, items, concurrency, limiter, on_result):
    """Call work(item) on `concurrency` threads and on_result(result) as each ends; stop cleanly on Ctrl-C.

    Returns False if the run was interrupted: requests in flight still end and are reported, the rest
    never start. A SyncError from work stops the run the same way, then propagates.
    """
    pool = ThreadPoolExecutor(concurrency, thread_name_prefix="products-sync")
    futures = [pool.submit(work, item) for item in items]
    pending = set(futures)
    try:
        for future in as_completed(futures):
            pending.discard(future)
            on_result(future.result())
        return True
    except KeyboardInterrupt:
        return False
    finally:
        if pending:
            limiter.close()
        pool.shutdown(wait=True, cancel_futures=True)
        for future in pending:
            if not future.cancelled() and future.exception() is None:
                on_result(future.result())


def list_all(client, path, limiter=None):
    """Every item of a paginated Osigu list (through the limiter when the endpoint is rate limited)."""
    items, page = [], 1
    while True:
        if limiter:
            with limiter:
                body = client.get_json(path, page=page, page_size=PAGE_SIZE)
        else:
            body = client.get_json(path, page=page, page_size=PAGE_SIZE)
        items += body["data"]
        if page >= body["pagination"]["total_pages"]:
            return items
        page += 1


def registered_codes(client, limiter):
    """The codes registered for this provider now."""
    return {item["product_code"] for item in list_all(client, PROVIDER_PRODUCTS, limiter)}


def catalogue_codes(client):
    """Every code in Osigu's global catalogues (medications, labs, imaging, procedures)."""
    return {item["product_code"] for path in CATALOGUES for item in list_all(client, path)}


def check_catalogue(client, limiter, rows):
    """What a sync would do for each code, asking Osigu without registering anything."""
    catalogue, registered = catalogue_codes(client), registered_codes(client, limiter)
    for row in rows:
        if row.code in registered:
            yield Result(row.line, row.code, "already_registered")
        elif row.code in catalogue:
            yield Result(row.line, row.code, "would_register")
        else:
            yield Result(row.line, row.code, "unknown", message="not in Osigu's global catalogue")


def remove(client, limiter, code):
    """Remove one registration; Osigu keeps the history of what used it. A code already gone counts as removed."""
    with limiter:
        try:
            client.request("DELETE", f"{PROVIDER_PRODUCTS}/{quote(code, safe='')}")
        except UpstreamError as error:
            if error.status != 404:
                return Result(None, code, "failed", error.status, error.error_code, error.message)
    return Result(None, code, "removed", 204)
