"""Tests for offload.report: run with `python3 -m unittest discover python/tests`."""

import io
import json
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import offload  # noqa: E402


def _reports(text):
    return [json.loads(line[len(offload.MARKER):]) for line in text.splitlines()]


class ReportTest(unittest.TestCase):
    def setUp(self):
        os.environ.pop("OFFLOAD_EVENTS", None)

    def test_prints_one_marked_json_line_per_call(self):
        out = io.StringIO()
        with redirect_stdout(out):
            offload.report(step=10, epoch=1, epochs=5, loss=0.25, accuracy=0.9)
            offload.report(step=20, loss=0.2)
        lines = out.getvalue().splitlines()
        self.assertEqual(len(lines), 2)
        self.assertTrue(all(line.startswith("@offload {") for line in lines))
        first, second = _reports(out.getvalue())
        self.assertEqual(first["offload"], 1)
        self.assertEqual(first["type"], "report")
        self.assertEqual((first["step"], first["epoch"], first["epochs"]), (10, 1, 5))
        self.assertEqual(first["metrics"], {"loss": 0.25, "accuracy": 0.9})
        self.assertNotIn("epoch", second)

    def test_non_finite_values_stay_valid_json(self):
        out = io.StringIO()
        with redirect_stdout(out):
            offload.report(loss=float("nan"), grad=float("inf"), low=float("-inf"), ok=1.5)
        text = out.getvalue()
        self.assertNotIn("NaN", text)
        self.assertNotIn("Infinity", text)
        (record,) = _reports(text)
        self.assertEqual(record["metrics"], {"loss": None, "grad": None, "low": None, "ok": 1.5})
        self.assertEqual(record["nonfinite"], {"loss": "nan", "grad": "inf", "low": "-inf"})

    def test_skips_values_that_are_not_numbers(self):
        out, err = io.StringIO(), io.StringIO()
        real_err = sys.stderr
        sys.stderr = err
        try:
            with redirect_stdout(out):
                offload.report(step=1, loss=0.5, note="hello")
        finally:
            sys.stderr = real_err
        (record,) = _reports(out.getvalue())
        self.assertEqual(record["metrics"], {"loss": 0.5})
        self.assertIn("note", err.getvalue())

    def test_accepts_objects_with_item_like_numpy_and_torch_scalars(self):
        class Scalar:
            def item(self):
                return 0.125

        out = io.StringIO()
        with redirect_stdout(out):
            offload.report(loss=Scalar())
        (record,) = _reports(out.getvalue())
        self.assertEqual(record["metrics"], {"loss": 0.125})

    def test_appends_the_same_lines_to_offload_events(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "events.jsonl")
            with open(path, "w") as existing:
                existing.write('{"offload":1,"type":"report","metrics":{}}\n')
            os.environ["OFFLOAD_EVENTS"] = path
            out = io.StringIO()
            try:
                with redirect_stdout(out):
                    offload.report(step=1, loss=1.0)
                    offload.report(step=2, loss=0.5)
            finally:
                os.environ.pop("OFFLOAD_EVENTS", None)
            with open(path) as f:
                lines = f.read().splitlines()
            self.assertEqual(len(lines), 3)
            printed = [line[len(offload.MARKER):] for line in out.getvalue().splitlines()]
            self.assertEqual(lines[1:], printed)


if __name__ == "__main__":
    unittest.main()
