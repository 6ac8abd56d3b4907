"""What `products sync` shows and writes: a progress bar or plain lines, the --report CSV, a summary table."""

import csv
import time
from contextlib import contextmanager
from dataclasses import astuple

from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from .products_sync import REPORT_COLUMNS

OUTCOME_LABELS = {
    "registered": "registered",
    "already_registered": "already registered",
    "would_register": "would be registered",
    "unknown": "unknown to Osigu's catalogue",
    "failed": "failed",
    "malformed": "malformed row",
    "would_remove": "would be removed (--prune)",
    "removed": "removed (--prune)",
}
PLAIN_LINE_EVERY_SECONDS = 10


class PerMinuteColumn(ProgressColumn):
    """The rate in requests a minute, the unit of Osigu's limit."""

    def render(self, task):
        speed = task.finished_speed or task.speed
        return Text(f"{speed * 60:5.1f}/min" if speed else "    -/min", style="progress.data.speed")


def clock(seconds):
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"


class PlainProgress:
    """Progress for logs and pipes: a line per tenth of the run, and at least every 10 seconds."""

    def __init__(self, console, total, label):
        self.console, self.total, self.label = console, total, label
        self.done, self.first_done_at = 0, None
        self._next_count, self._next_time = 0, time.monotonic()
        self.advance(0)

    def advance(self, step=1):
        self.done += step
        now = time.monotonic()
        if self.done and self.first_done_at is None:
            self.first_done_at = now
        if self.done < self.total and self.done < self._next_count and now < self._next_time:
            return
        self._next_count = self.done + max(self.total // 10, 1)
        self._next_time = now + PLAIN_LINE_EVERY_SECONDS
        # Measured from the first answer, so the first request's own latency does not count as throughput.
        elapsed = now - (self.first_done_at or now)
        speed = (self.done - 1) / elapsed if elapsed else 0
        rate, eta = (f"{speed * 60:.1f}/min", clock((self.total - self.done) / speed)) if speed else ("-/min", "-")
        percent = 100 * self.done // self.total if self.total else 100
        self.console.print(f"{self.label}: {self.done}/{self.total} ({percent}%)  {rate}  ETA {eta}",
                           markup=False, highlight=False, soft_wrap=True)


@contextmanager
def progress(console, total, label):
    """Yield advance(): a live bar with rate and ETA on a terminal, plain lines otherwise."""
    if not console.is_terminal:
        yield PlainProgress(console, total, label).advance
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), PerMinuteColumn(),
               TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)


class Report:
    """The --report CSV, one row per code, flushed as each result arrives so an interrupted run leaves one too."""

    def __init__(self, path):
        self._file = open(path, "w", newline="", encoding="utf-8") if path else None
        if self._file:
            self._writer = csv.writer(self._file)
            self._writer.writerow(REPORT_COLUMNS)

    def write(self, result):
        if self._file:
            self._writer.writerow(["" if value is None else value for value in astuple(result)])
            self._file.flush()

    def close(self):
        if self._file:
            self._file.close()


def summary_table(counts):
    """One row per outcome that happened."""
    table = Table(title="products sync")
    table.add_column("outcome")
    table.add_column("codes", justify="right")
    for outcome, label in OUTCOME_LABELS.items():
        if counts[outcome]:
            table.add_row(label, str(counts[outcome]))
    return table
