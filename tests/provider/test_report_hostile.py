"""aoai-ft report on hostile results.csv files: clear errors naming file and line, never a traceback, and
memory that does not grow with the file (it is read streamed, in passes)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from pulumi_aoai_finetune import results
from pulumi_aoai_finetune.cli import main

HEADER = ",".join(results.COLUMNS) + "\n"


def rows(n: int, start: int = 1) -> str:
    return "".join(f"{i},{1 / (i + 1):.5f},{0.5 + i / (2 * n):.5f},{1 / (i + 1) + 0.01:.5f},0.5,"
                   + (f"{1 / (i + 1) + 0.02:.5f},0.51" if i % max(1, n // 3) == 0 else ",") + "\n"
                   for i in range(start, start + n))


def report(tmp_path, name: str, content: bytes, *extra: str):
    path = tmp_path / name
    path.write_bytes(content)
    return CliRunner().invoke(main, ["report", str(path), "--out", str(tmp_path / "out"), *extra])


@pytest.mark.parametrize("name, content, message", [
    ("utf8.csv", (HEADER + rows(5)).encode() + b"6,\xff\xfe,0.5,,,,\n", "utf8.csv:7: not UTF-8 text"),
    ("field.csv", (HEADER + rows(5)).encode() + b"6," + b"9" * (50 * 1024 * 1024) + b",0.5,,,,\n",
     "field.csv:7: a line longer than 64 KiB"),
    ("quoted.csv", (HEADER + rows(2)).encode() + b'3,"' + b"x\n" * 200_000 + b'",,,,,\n', "quoted.csv:"),
    ("empty.csv", b"", "no result rows"),
    ("header-only.csv", HEADER.encode(), "no result rows"),
])
def test_a_broken_results_csv_is_a_clear_error(tmp_path, name, content, message):
    result = report(tmp_path, name, content)
    assert result.exit_code == 1 and message in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_absurd_figures_are_treated_as_missing_and_the_plot_and_json_still_work(tmp_path):
    content = (HEADER + rows(5) + "6,1e308,0.5,1e308,0.5,1e308,0.5\n7,-1e308,0.5,1e308,0.5,,\n"
               "8,inf,nan,,,,\n").encode()
    result = report(tmp_path, "big.csv", content, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output, parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))
    assert doc["summary"]["steps"] == 8 and doc["summary"]["final_train_loss"] == pytest.approx(1 / 6, abs=1e-4)
    assert (tmp_path / "out" / "big.png").stat().st_size > 1000


def test_a_streamed_file_gives_the_same_summary_as_the_parsed_text(tmp_path):
    text = HEADER + rows(3000)
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    for epochs in (None, 3, 7):
        assert results.summarize(results.ResultsFile(path), n_epochs=epochs) == \
            results.summarize(results.parse(text), n_epochs=epochs)
    assert list(results.ResultsFile(path)) == results.parse(text)


def test_memory_does_not_grow_with_the_file(tmp_path):
    """A 77 MB results.csv took 2.0 GB: the rows were held as dicts, twice. Peak RSS of `aoai-ft report` on
    a 20 MB file against the same command on a 20 KB one, each in a fresh interpreter."""
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    small.write_text(HEADER + rows(300), encoding="utf-8")
    with large.open("w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for start in range(1, 600_001, 50_000):
            fh.write(rows(50_000, start))
    assert large.stat().st_size > 20_000_000
    # VmHWM, not ru_maxrss: the latter keeps the parent's peak across fork and exec
    code = textwrap.dedent("""
        import sys
        from pulumi_aoai_finetune.cli import main
        try:
            main(["report", sys.argv[1], "--out", sys.argv[2]], standalone_mode=False)
        finally:
            hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
            print("PEAK", hwm, flush=True)
    """)

    def peak_kib(path) -> int:
        done = subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / "out")], capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        return int(done.stdout.rsplit("PEAK", 1)[1])

    base, big = peak_kib(small), peak_kib(large)
    print(f"\n[report] peak RSS: {base / 1024:.0f} MiB for 20 KB, {big / 1024:.0f} MiB for "
          f"{large.stat().st_size / 1e6:.0f} MB")
    assert big - base < 64 * 1024, (base, big)  # was ~25x the file's size
