"""Issue 9: bounded by design, never silently wrong, outputs all or nothing.

Defects about processes and files run the real CLI as a subprocess; docs/reliability.md
lists every case with its limit.
"""

from __future__ import annotations

import errno
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import ROOT

from fundopt.errors import InputError
from fundopt.models.limits import MAX_CELL_CHARS, MAX_SWEEP_POINTS, MAX_XLSX_UNPACKED
from fundopt.models.reading.table import read_table
from fundopt.reports.files.atomic import write_all

SAMPLE = ROOT / "inputs" / "2024.csv"
POLICY = ROOT / "inputs" / "2024.toml"


def cli(*args: str | Path, cwd: Path | None = None, timeout: float = 120,
        preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line in its own process."""
    return subprocess.run([sys.executable, "-m", "fundopt.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, check=False,
                          cwd=cwd, preexec_fn=preexec)


# fundopt's command line, then its peak resident memory (/proc/self/status) on stderr
PEAK_MEMORY = """
import atexit, sys
from pathlib import Path
atexit.register(lambda: sys.stderr.write(
    [line for line in Path("/proc/self/status").read_text().splitlines()
     if line.startswith("VmHWM:")][0] + "\\n"))
sys.argv[0] = "fundopt"
from fundopt.cli import main
main()
"""


def words(done: subprocess.CompletedProcess[str]) -> str:
    return " ".join((done.stdout + done.stderr).split())


def clean_exit_2(done: subprocess.CompletedProcess[str]) -> str:
    text = words(done)
    assert done.returncode == 2, text
    assert "Traceback" not in text and "Internal error" not in text
    assert "Exception ignored" not in text and "Warning" not in text
    return text


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    shutil.copy(SAMPLE, tmp_path / "2024.csv")
    shutil.copy(POLICY, tmp_path / "2024.toml")
    return tmp_path / "2024.csv"


# --- bounded by design ---------------------------------------------------------------------

def test_inputs_that_are_not_regular_files(sample: Path) -> None:
    fifo = sample.with_name("f.csv")
    os.mkfifo(fifo)
    text = clean_exit_2(cli("check", fifo, timeout=30))    # would block forever
    assert "the table path is not a regular file but a device, pipe or socket" in text
    text = clean_exit_2(cli("check", sample, "--policy", "/dev/zero", timeout=30))
    assert "/dev/zero: the policy path is not a regular file" in text
    text = clean_exit_2(cli("check", sample.parent, "--lang", "zh"))
    assert "表格路径不是普通文件，而是文件夹" in text


def test_symbolic_link_loops(sample: Path) -> None:
    loop = sample.with_name("loop.toml")
    os.symlink(loop, loop)
    text = clean_exit_2(cli("check", sample, "--policy", loop))
    assert "loop.toml: the policy path is a symbolic-link loop" in text
    # the same loop found beside the table is reported, not "no policy found"
    sample.with_suffix(".toml").unlink()
    os.symlink(sample.with_suffix(".toml"), sample.with_suffix(".toml"))
    text = clean_exit_2(cli("check", sample))
    assert "2024.toml: the policy path is a symbolic-link loop" in text
    shutil.copy(POLICY, sample.with_name("p.toml"))
    text = clean_exit_2(cli("solve", sample, "--policy", sample.with_name("p.toml"),
                            "-o", sample.with_name("2024.toml") / "plan.json"))
    assert "is a symbolic-link loop" in text


def _lying_workbook(path: Path, declared: int) -> None:
    """A valid workbook whose shared strings part claims to unpack to ``declared`` bytes."""
    book = openpyxl.Workbook()
    book.active.append(["id"])
    buffer = io.BytesIO()
    book.save(buffer)
    data = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        part = archive.getinfo("xl/worksheets/sheet1.xml")
    real = part.file_size.to_bytes(4, "little")
    # patch the size in the local header and in the central directory
    for at in (part.header_offset + 22, data.rindex(b"xl/worksheets/sheet1.xml") - 46 + 24):
        assert bytes(data[at:at + 4]) == real
        data[at:at + 4] = declared.to_bytes(4, "little")
    path.write_bytes(bytes(data))


def test_workbook_unpack_limits_stop_before_memory_grows(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xlsx"
    _lying_workbook(bomb, 0xFFFF_FFF0)
    text = clean_exit_2(cli("check", bomb, "--policy", POLICY))
    assert f"at most {MAX_XLSX_UNPACKED:,} bytes unpacked" in text
    # one 64 MB cell that packs to a few hundred kB (openpyxl itself cuts cells at
    # 32 767 characters, so the sheet's XML is rewritten by hand)
    book = openpyxl.Workbook()
    book.active.append(["id", "name", "region", "category", "max_ticket", "score"])
    book.active.append(["a", "PLACEHOLDER", "T", "k", 1, 1])
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as source, \
            zipfile.ZipFile(tmp_path / "cell.xlsx", "w", zipfile.ZIP_DEFLATED) as target:
        for part in source.infolist():
            data = source.read(part)
            target.writestr(part, data.replace(b"PLACEHOLDER", b"x" * (64 * 1024**2)))
    assert (tmp_path / "cell.xlsx").stat().st_size < 2 * 1024**2
    # the peak of the command's own memory, VmHWM, which starts afresh at exec (ru_maxrss of
    # a child counts the pytest process it was forked from)
    done = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY, "check", str(tmp_path / "cell.xlsx"), "--policy",
         str(POLICY)], capture_output=True, text=True, timeout=120, check=False)
    text = clean_exit_2(done)
    assert f"a cell holds more than {MAX_CELL_CHARS:,} characters" in text
    peak_kib = int(done.stderr.rsplit("VmHWM:", 1)[1].split()[0])
    assert peak_kib / 1024 < 400, peak_kib   # 64 MB never unpacked whole


@pytest.mark.parametrize("damage", ["encrypted flag", "bad deflate data"])
def test_damaged_workbooks_found_by_fuzzing(tmp_path: Path, damage: str) -> None:
    """Two defects the fuzz test found: exit 1 (RuntimeError, zlib.error), now exit 2."""
    book = openpyxl.Workbook()
    book.active.append(["id", "name", "region", "category", "max_ticket", "score"])
    buffer = io.BytesIO()
    book.save(buffer)
    data = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        part = archive.getinfo("xl/styles.xml")
    if damage == "encrypted flag":
        central = data.rindex(b"xl/styles.xml") - 46
        data[central + 8] |= 1                      # general purpose flag, bit 0
    else:
        start = part.header_offset + 30 + len(part.filename)
        data[start:start + 8] = b"\xff" * 8
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="not a readable .xlsx file"):
        read_table(path)


def test_sweep_is_bounded(sample: Path) -> None:
    args = ("sweep", sample, "--param", "budget", "--from", "20")
    text = clean_exit_2(cli(*args, "--to", "30", "--steps", "100000000", timeout=30))
    assert f"expected 2 to {MAX_SWEEP_POINTS:,} points" in text
    text = clean_exit_2(cli(*args, "--to", "inf"))
    assert "--to: not a finite number (got inf)" in text and "nan" not in text
    text = clean_exit_2(cli(*args, "--to", "nan", "--lang", "zh"))
    assert "不是有限数值" in text


def test_deeply_nested_toml(sample: Path) -> None:
    deep = sample.with_name("deep.toml")
    deep.write_text("a = " + "[" * 20000 + "]" * 20000 + "\n", encoding="utf-8")
    text = clean_exit_2(cli("check", sample, "--policy", deep))
    assert "nested deeper than 32 levels" in text
    deep.write_text("a" + ".a" * 20000 + " = 1\n", encoding="utf-8")
    assert "nested deeper" in clean_exit_2(cli("check", sample, "--policy", deep))
    scenarios = sample.with_name("s.toml")
    scenarios.write_text("[scenarios.x]\nset = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n",
                         encoding="utf-8")
    assert "nested deeper" in clean_exit_2(cli("compare", sample, "--scenarios", scenarios))


def test_values_highs_cannot_take_are_input_errors(sample: Path) -> None:
    policy = sample.with_suffix(".toml")
    original = policy.read_text(encoding="utf-8")
    policy.write_text(original.replace("budget = 40", "budget = 1e15"), encoding="utf-8")
    for command in ("check", "solve"):
        text = clean_exit_2(cli(command, sample))
        assert "budget: budget is too large for the solver" in text
    policy.write_text(original, encoding="utf-8")
    frame = pd.read_csv(sample, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.loc[3, "risk"] = "1e300"
    frame.to_csv(sample, index=False)
    for command in ("check", "solve"):
        text = clean_exit_2(cli(command, sample))
        assert "row 5, column 'risk': number too large for the solver" in text


# --- never silently wrong ----------------------------------------------------------------

def test_csv_line_endings_on_read(tmp_path: Path) -> None:
    lf = SAMPLE.read_text(encoding="utf-8-sig")
    expected = read_table(SAMPLE).frame
    for name, text in (("crlf", lf.replace("\n", "\r\n")), ("cr", lf.replace("\n", "\r")),
                       ("cr-quoted", lf.replace("\n", "\r").replace("天津海河", '"天津,海河'
                                                                    '"', 1))):
        path = tmp_path / f"{name}.csv"
        path.write_text(text, encoding="utf-8", newline="")
        frame = read_table(path).frame
        assert len(frame) == len(expected), name
        assert frame["id"].tolist() == expected["id"].tolist(), name
    # a stray CR inside an unquoted cell splits the line: a ragged row, never lost text
    lines = lf.splitlines()
    lines[5] = lines[5].replace("基金", "基\r金", 1)
    (tmp_path / "stray.csv").write_text("\n".join(lines), encoding="utf-8", newline="")
    with pytest.raises(InputError, match="ragged row") as error:
        read_table(tmp_path / "stray.csv")
    assert error.value.row == 6


def test_csv_round_trip_of_names_with_cr_lf_quotes_and_commas(sample: Path) -> None:
    frame = pd.read_csv(sample, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    names = ["line\rbreak", "two\nlines", 'say "hi"', "a, b", "\r\n,\"\r", " padded "]
    frame.loc[: len(names) - 1, "name"] = names
    frame.loc[len(names), "manager"] = "=HYPERLINK(\"x\")\r"
    frame.to_csv(sample, index=False, lineterminator="\r\n")
    table = read_table(sample)
    out = sample.with_name("out")
    done = cli("solve", sample, "-o", out / "plan.csv", "-o", out / "plan.json")
    assert done.returncode == 0, done.stderr
    raw = (out / "plan.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") >= len(frame) + 1
    back = read_table(out / "plan.csv")      # the plan is itself a valid table
    assert len(back.frame) == len(frame)
    assert back.frame["name"].tolist() == table.frame["name"].tolist()
    assert str(back.frame["manager"].iat[len(names)]).startswith("'=HYPERLINK")
    plan = pd.read_csv(out / "plan.csv", encoding="utf-8-sig", keep_default_na=False)
    assert len(plan) == len(frame) and plan["name"].tolist()[:3] == \
        ["line\rbreak", "two\nlines", 'say "hi"']
    allocations = json.loads((out / "plan.json").read_text(encoding="utf-8"))["allocations"]
    assert [a["name"] for a in allocations] == table.frame["name"].tolist()


# --- outputs: all or nothing, clean after a crash ------------------------------------------

def test_outputs_are_all_or_nothing(sample: Path) -> None:
    out = sample.with_name("out")
    out.mkdir()
    (out / "r.json").write_text("old", encoding="utf-8")
    # the second target cannot be created (even by root): nothing is written
    text = clean_exit_2(cli("solve", sample, "-o", out / "r.json", "-o", out / "new" / "r.csv",
                            "-o", "/proc/fundopt-test/r.xlsx"))
    assert "/proc/fundopt-test/r.xlsx: cannot write the output" in text
    assert (out / "r.json").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in out.iterdir()) == ["r.json"]       # no temp, no new/


def test_full_disk_is_an_input_error_naming_the_file(sample: Path) -> None:
    def small_files() -> None:        # the kernel refuses writes past 20 kB (EFBIG)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    out = sample.with_name("out")
    done = cli("solve", sample, "-o", out / "p.json", "-o", out / "plan.xlsx",
               preexec=small_files)
    text = clean_exit_2(done)
    assert "out/plan.xlsx: cannot write the output: File too large" in text
    assert "Free some space" in text and not out.exists()


def test_no_space_left_in_process(tmp_path: Path) -> None:
    def full(path: Path) -> None:
        path.write_bytes(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fine(path: Path) -> None:
        path.write_text("new", encoding="utf-8")

    (tmp_path / "b.json").write_text("old", encoding="utf-8")
    with pytest.raises(InputError) as error:
        write_all([(tmp_path / "a.json", fine), (tmp_path / "b.json", full)])
    assert error.value.file == str(tmp_path / "b.json")
    assert "No space left on device" in error.value.render("en")
    assert "无法写入输出文件" in error.value.render("zh")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json"]
    assert (tmp_path / "b.json").read_text(encoding="utf-8") == "old"


def test_stale_temp_files_are_removed_on_the_next_write(sample: Path) -> None:
    out = sample.with_name("out")
    out.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(gone.stdout)
    stale = [out / f".fundopt-{dead}-abcd1234.tmp", out / f".fundopt-{dead}-abcd1234o.tmp"]
    alive = out / f".fundopt-{os.getpid()}-live5678.tmp"      # a write still running
    other = out / ".notes.tmp"
    legacy = [out / ".plan.json.k2j4_x9z.tmp", out / ".plan.json.fresh123.tmp"]   # fundopt 0.1
    for path in (*stale, alive, other, *legacy):
        path.write_bytes(b"x" * 1000)
    an_hour_ago = time.time() - 3600
    os.utime(legacy[0], (an_hour_ago, an_hour_ago))
    done = cli("solve", sample, "-o", out / "plan.json")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".notes.tmp", alive.name, legacy[1].name, "plan.json"])


def test_long_output_names_and_bad_targets(sample: Path) -> None:
    name = "计" * 40 + "p" * 125 + ".json"                       # 250 bytes in UTF-8
    assert len(os.fsencode(name)) == 250
    done = cli("solve", sample, "-o", sample.with_name(name))
    assert done.returncode == 0, done.stderr
    assert sample.with_name(name).is_file()
    text = clean_exit_2(cli("solve", sample, "-o", sample.with_name("x" * 300 + ".json")))
    assert "a name in the output path is longer than 255 bytes" in text
    text = clean_exit_2(cli("solve", sample, "-o", "/dev/null.json/x.csv", "-o", "/dev/null"))
    assert "unknown output format" in text


def test_kill_during_the_workbook_leaves_old_outputs_then_cleans_up(sample: Path) -> None:
    """kill -9 while the .xlsx is written: the old json/csv/xlsx stay as they were (no new
    json beside an old xlsx), and the next run removes the dead run's temp files."""
    out = sample.with_name("out")
    out.mkdir()
    targets = [out / "p.json", out / "p.csv", out / "p.xlsx"]
    for target in targets:
        target.write_text("old", encoding="utf-8")
    killer = ("import os, signal, sys\n"
              "import fundopt.reports.workbook.solve as xlsx\n"
              "xlsx.write_xlsx = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
              "from fundopt.cli import app\n"
              "app(sys.argv[1:], prog_name='fundopt')\n")
    args = ["solve", str(sample), *(a for t in targets for a in ("-o", str(t)))]
    done = subprocess.run([sys.executable, "-c", killer, *args], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert [t.read_text(encoding="utf-8") for t in targets] == ["old"] * 3
    left = [p.name for p in out.iterdir() if p.name.startswith(".fundopt-")]
    assert len(left) == 3                       # json and csv written, xlsx begun
    assert cli(*args).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == ["p.csv", "p.json", "p.xlsx"]
    assert json.loads(targets[0].read_text(encoding="utf-8"))["status"] == "optimal"
