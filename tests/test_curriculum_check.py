"""`twopass curriculum check`: every fault at once, with its line, in plain words."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from curriculum import DEFAULT_PATH, CurriculumError, default_curriculum, load_curriculum
from curriculum.check import check_text

HEAD = 'id = "tiny"\ntitle = "Tiny"\n'
A_ID, ONE_ID, M19 = 'id = "a"', 'id = "one"', 'minutes = "19"'


def phase(pid: str = "one", hours: str = "[1, 2]") -> str:
    return f'\n[[phases]]\nid = "{pid}"\ntitle = "One"\ngoal = "Try it"\nguide_hours = {hours}\n'


def video(vid: str = "a", **fields: str) -> str:
    values = {
        "id": f'"{vid}"',
        "title": '"A"',
        "creator": '"Me"',
        "url": '"https://example.org/a"',
        "minutes": "10",
        "first_pass": '"Watch"',
        "second_pass": '"Do"',
    }
    values.update(fields)
    body = "".join(f"{key} = {value}\n" for key, value in values.items() if value != "-")
    return f"\n[[phases.videos]]\n{body}"


def faults_of(text: str) -> list[str]:
    curriculum, faults = check_text(text)
    assert curriculum is None
    return [str(fault) for fault in faults]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line containing `needle`."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return found[occurrence - 1]


def test_a_valid_file_has_no_faults() -> None:
    curriculum, faults = check_text(HEAD + phase() + video())
    assert faults == [] and curriculum is not None and curriculum.video_count == 1


def test_every_fault_at_once_each_with_its_line() -> None:
    text = (
        HEAD
        + phase()
        + video("a", minutes="-", minuts="10")
        + video("b", optional='"yes"', minutes="-5")
        + phase("two")
        + video("c", url='"not a link"', minutes='"19"')
    )
    faults = faults_of(text)
    assert faults == [
        f"line {line_of(text, 'minuts')}: phases[1] 'one' > videos[1] 'a': "
        "unknown key 'minuts' (did you mean 'minutes'?)",
        f"line {line_of(text, 'minutes = -5')}: phases[1] 'one' > videos[2] 'b': "
        "'minutes' must be more than 0, not -5",
        f"line {line_of(text, 'optional')}: phases[1] 'one' > videos[2] 'b': "
        "'optional' must be true or false (without quotes), not 'yes'",
        f"line {line_of(text, 'not a link')}: phases[2] 'two' > videos[1] 'c': "
        "url 'not a link' must be an https:// link",
        f"line {line_of(text, M19)}: phases[2] 'two' > videos[1] 'c': "
        "'minutes' must be a whole number (without quotes), not '19'",
    ]


def test_a_misspelt_key_is_one_fault_and_an_absent_key_is_still_missing() -> None:
    # Video b lacks 'minutes' outright: the misspelling in video a does not hide that.
    text = HEAD + phase() + video("a", minutes="-", minuts="10") + video("b", minutes="-")
    assert faults_of(text) == [
        f"line {line_of(text, 'minuts')}: phases[1] 'one' > videos[1] 'a': "
        "unknown key 'minuts' (did you mean 'minutes'?)",
        f"line {line_of(text, '[[phases.videos]]', 2)}: phases[1] 'one' > videos[2] 'b': "
        "missing key 'minutes'",
    ]


def test_every_duplicate_id_is_named_with_both_lines() -> None:
    text = HEAD + phase("one") + video("a") + video("a") + phase("one") + video("a")
    faults = faults_of(text)
    first = line_of(text, 'id = "a"', 1)
    assert faults == [
        f"line {line_of(text, A_ID, 2)}: phases[1] 'one' > videos[2] 'a': "
        f"duplicate video id 'a' (already used on line {first})",
        f"line {line_of(text, ONE_ID, 2)}: phases[2] 'one': "
        "duplicate phase id 'one' (phase 1 has it too)",
        f"line {line_of(text, A_ID, 3)}: phases[2] 'one' > videos[1] 'a': "
        f"duplicate video id 'a' (already used on line {first})",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEAD + phase() + video(id='"Bad Id"'), "id 'Bad Id' must be 1-40 lowercase letters"),
        (HEAD + phase(hours="[5, 1]") + video(), "guide_hours must be [low, high]"),
        (HEAD + phase() + video(title='""'), "'title' is empty"),
        (HEAD + phase() + video(optional="1"), "'optional' must be true or false"),
        (HEAD + phase() + video(minutes="2000"), "'minutes' must be at most 1440, not 2000"),
        (HEAD + phase(), "missing key 'videos'"),
        (HEAD + phase() + "videos = []\n", "'videos' needs at least one entry"),
        (HEAD, "missing key 'phases'"),
        ('id = "x"\ntitel = "T"\n' + phase() + video(), "unknown key 'titel' (did you mean"),
    ],
    ids=[
        "id",
        "guide-hours",
        "empty",
        "bool",
        "too-long",
        "no-videos",
        "empty-videos",
        "no-phases",
        "typo",
    ],
)
def test_faults_are_worded_for_a_person(text: str, expected: str) -> None:
    faults = faults_of(text)
    assert any(expected in fault for fault in faults), faults
    for fault in faults:
        for pydantic_words in ("should", "Value error", "Input", "pattern", "Field required"):
            assert pydantic_words not in fault


def test_invalid_toml_names_its_line() -> None:
    assert faults_of(HEAD + "\n[[phases]]\nid = \n") == ["line 5: not valid TOML: Invalid value"]


def test_load_reports_the_first_fault_and_the_count_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "road.toml"
    path.write_text(HEAD + phase() + video(minutes="-1", optional='"no"'))
    with pytest.raises(CurriculumError) as caught:
        load_curriculum(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: line ") and message.endswith("(and 1 more)")
    assert "\n" not in message and len(caught.value.faults) == 2


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, check=False
    )


def test_cli_check_prints_every_fault_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "road.toml"
    text = HEAD + phase() + video(minuts="10", minutes="-") + video("a")
    path.write_text(text)
    result = _cli("curriculum", "check", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines == [
        f"{path}:{line_of(text, 'minuts')}: phases[1] 'one' > videos[1] 'a': "
        "unknown key 'minuts' (did you mean 'minutes'?)",
        f"{path}:{line_of(text, A_ID, 2)}: phases[1] 'one' > videos[2] 'a': "
        f"duplicate video id 'a' (already used on line {line_of(text, A_ID)})",
        f"{path}: 2 faults",
    ]


def test_cli_check_usage_errors_exit_2(tmp_path: Path) -> None:
    missing = _cli("curriculum", "check", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2
    assert missing.stderr.strip().endswith("cannot read the file (No such file or directory)")
    assert _cli("curriculum", "check").returncode == 2
    ok = _cli("curriculum", "check", str(DEFAULT_PATH))
    assert ok.returncode == 0 and ok.stdout.strip().endswith("ok (3 phases, 19 videos)")


def test_show_prints_a_single_guide_figure_and_agrees_with_the_file() -> None:
    result = _cli("curriculum", "show")
    assert result.returncode == 0, result.stderr
    assert "guide ~5 h" in result.stdout and "5-5 h" not in result.stdout
    headline = result.stdout.splitlines()[0]
    total = round(default_curriculum().estimate_minutes / 60)
    assert f"about {total} h with both passes (the guide says 45-60 h" in headline
    header = DEFAULT_PATH.read_text().split("\n\n")[0]
    assert "45-60 hours" in header and f"~{total} h" in header
    assert re.search(r"\bfifty\b", header) is None
