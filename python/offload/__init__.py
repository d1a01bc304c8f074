"""Report training progress and metrics to offload, from inside a training script.

Standard library only, Python 3.8+. Each call to report() prints one line

    @offload {"offload": 1, "type": "report", "step": 10, "metrics": {"loss": 0.5}, ...}

to stdout, so the report travels in order with the rest of the log that offload streams home,
and, when the environment variable OFFLOAD_EVENTS names a file, appends the same JSON (without
the marker) to it as one write, so a reader tailing the file never sees half a line.
"""

import json
import math
import os
import sys
import threading
import time

__all__ = ["report", "MARKER", "FORMAT_VERSION"]

MARKER = "@offload "
FORMAT_VERSION = 1

_lock = threading.Lock()
_events_fd = None
_events_path = None


def report(step=None, epoch=None, epochs=None, steps=None, **metrics):
    """Report where training stands and any named numbers, e.g. report(step=100, loss=0.25).

    Metric values may be ints, floats, or anything with ``__float__`` (NumPy scalars, one-element
    torch tensors). NaN and infinities are kept: written as null with their spelling under
    "nonfinite", so the JSON stays valid. A value that is not a number is skipped with a warning on
    stderr rather than stopping the training.
    """
    record = {"offload": FORMAT_VERSION, "type": "report", "time": round(time.time(), 3)}
    for key, value in (("step", step), ("steps", steps), ("epoch", epoch), ("epochs", epochs)):
        if value is not None:
            number = _to_number(key, value)
            if number is not None and math.isfinite(number):
                record[key] = number
    values = {}
    nonfinite = {}
    for name, value in metrics.items():
        number = _to_number(name, value)
        if number is None:
            continue
        if math.isfinite(number):
            values[name] = number
        else:
            values[name] = None
            nonfinite[name] = "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf")
    record["metrics"] = values
    if nonfinite:
        record["nonfinite"] = nonfinite
    line = json.dumps(record, allow_nan=False, separators=(",", ":"))
    with _lock:
        _write_stdout(line)
        _append_events(line)


def _to_number(name, value):
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return value
    item = getattr(value, "item", None)
    try:
        number = item() if callable(item) else value
        return float(number) if not isinstance(number, int) else number
    except (TypeError, ValueError):
        sys.stderr.write("offload.report: skipping %s=%r: not a number\n" % (name, value))
        return None


def _write_stdout(line):
    # One write of the whole line, then flush: print() may split the text and the newline, and a
    # block-buffered stdout (a file, as under offload) would hold the report back from the log.
    try:
        sys.stdout.write(MARKER + line + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):
        pass


def _append_events(line):
    global _events_fd, _events_path
    path = os.environ.get("OFFLOAD_EVENTS")
    if not path:
        return
    if _events_fd is None or path != _events_path:
        if _events_fd is not None:
            os.close(_events_fd)
        _events_fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        _events_path = path
    data = (line + "\n").encode("utf-8")
    # O_APPEND puts each write at the end as one piece; loop only for the rare short write.
    while data:
        written = os.write(_events_fd, data)
        data = data[written:]
