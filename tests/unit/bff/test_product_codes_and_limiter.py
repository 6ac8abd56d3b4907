"""Reading a file of product codes, the rate limiter's schedule, and the journal a resumed run reads."""

import itertools
import threading
import time

import pytest

from bff.products_sync import Journal, Result, parse_rate, read_codes, retry_after_seconds
from bff.rate_limit import LimiterClosed, RateLimiter

TENANT = {"base_url": "http://127.0.0.1:8070", "client_id": "demo-pharmacy"}


def read(tmp_path, text, name="codes.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_codes(path)


def test_a_csv_gives_its_product_code_column_with_line_numbers(tmp_path):
    found = read(tmp_path, "\ufeffsku;Product_Code;name\n1;MED-001;a; b\n\n2;LAB-001;\n3;MED-001;again\n4;;x\n")
    assert [(row.line, row.code) for row in found.rows] == [(2, "MED-001"), (4, "LAB-001")]
    assert found.duplicates == 1
    assert [(bad.line, bad.message) for bad in found.bad_rows] == [(6, "no product_code")]


def test_a_plain_list_is_one_code_per_line_and_bad_ones_are_named(tmp_path):
    found = read(tmp_path, "MED-001\n  LAB-002  \n\nMED 003\n" + "X" * 21 + "\nMED/004\n-MED-5\nMED-001\n")
    assert [row.code for row in found.rows] == ["MED-001", "LAB-002"]
    assert [(bad.line, bad.message) for bad in found.bad_rows] == [
        (4, "whitespace inside the code"), (5, "longer than 20 characters"),
        (6, "only letters, digits, '.', '_' and '-' (first a letter or digit)"),
        (7, "only letters, digits, '.', '_' and '-' (first a letter or digit)")]


def test_a_csv_without_a_product_code_column_is_one_bad_row(tmp_path):
    found = read(tmp_path, "\n\nsku,code\n1,MED-001\n")
    assert found.rows == [] and [(bad.line, bad.message) for bad in found.bad_rows] == [
        (3, "a CSV needs a product_code column")]


def test_a_latin1_export_still_gives_its_codes(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_bytes("product_code;name\nMED-001;Paracetamol niño\nMED-0Ñ2;x\n".encode("latin-1"))
    found = read_codes(path)
    assert [row.code for row in found.rows] == ["MED-001"] and [bad.line for bad in found.bad_rows] == [3]


def test_a_header_alone_or_an_empty_file_has_no_codes(tmp_path):
    assert read(tmp_path, "product_code\n").rows == [] and read(tmp_path, "\n \n").bad_rows == []


@pytest.mark.parametrize("text, limit", [("50", (50, 60.0)), ("50/minute", (50, 60.0)),
                                         ("50 per 3 seconds", (50, 3.0)), ("600/hour", (600, 3600.0))])
def test_rates_read_per_minute_or_as_a_limit(text, limit):
    assert parse_rate(text) == limit


def test_retry_after_is_seconds_or_a_date_from_one_second_to_five_minutes():
    assert retry_after_seconds("7", 0) == 7 and retry_after_seconds(None, 3) == 8
    assert retry_after_seconds("100000", 0) == 300
    assert retry_after_seconds("0", 0) == 1 and retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 0) == 1


def test_the_limiter_never_lets_more_than_the_limit_into_any_window():
    limiter, starts, lock = RateLimiter(5, 0.5), [], threading.Lock()

    def work():
        for _ in range(4):
            started = limiter.acquire()  # the limiter's own clock: a thread descheduled after it changes nothing
            with lock:
                starts.append(started)
            limiter.release()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    assert len(starts) == 16
    assert all(later - earlier >= 0.1 - 0.001 for earlier, later in itertools.pairwise(starts))  # evenly spaced
    assert all(sum(1 for t in starts if start <= t < start + 0.5) <= 5 for start in starts)


def test_a_slow_answer_holds_its_place_in_the_window_until_a_period_after_it():
    limiter = RateLimiter(2, 0.3)
    limiter.acquire()
    limiter.acquire()
    time.sleep(0.4)  # the two answers take longer than the period: the server may count them late
    limiter.release()
    released = time.monotonic()
    limiter.release()
    limiter.acquire()
    assert time.monotonic() - released >= 0.3 - 0.001


def test_pause_delays_every_start_and_close_stops_waiters():
    limiter = RateLimiter(100, 1)
    limiter.pause(0.2)
    before = time.monotonic()
    with limiter:
        assert time.monotonic() - before >= 0.2 - 0.001
    limiter.close()
    with pytest.raises(LimiterClosed):
        limiter.acquire()


def test_a_resumed_journal_knows_what_succeeded_and_which_key_each_code_went_with(tmp_path):
    path = tmp_path / "codes.csv.journal"
    journal = Journal(path, TENANT, resume=False)
    journal.sending("MED-001", "key-1")
    journal.ended(Result(2, "MED-001", "registered", 201))
    journal.sending("LAB-001", "key-2")
    journal.ended(Result(3, "LAB-001", "failed", 503, "000-503", "down"))
    journal.sending("IMG-001", "key-3")
    journal.close()
    with path.open("a") as handle:
        handle.write('{"line": 4, "product_code": "IMG')  # killed while writing

    again = Journal(path, TENANT, resume=True)
    again.ended(Result(4, "IMG-001", "already_registered", 409))
    again.close()
    assert set(again.done) == {"MED-001"} and again.keys == {"MED-001": "key-1", "LAB-001": "key-2",
                                                             "IMG-001": "key-3"}
    third = Journal(path, TENANT, resume=True)
    third.close()
    assert set(third.done) == {"MED-001", "IMG-001"}


def test_a_journal_of_another_tenant_is_refused(tmp_path):
    path = tmp_path / "codes.csv.journal"
    Journal(path, TENANT, resume=False).close()
    with pytest.raises(Exception, match="journal of a run for demo-pharmacy"):
        Journal(path, TENANT | {"client_id": "demo-clinic"}, resume=True)
