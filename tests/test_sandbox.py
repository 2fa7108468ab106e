"""`twopass sandbox`: a person with no bot token types commands as a member of a local server and
reads what the real bot answers and posts, as text. Driven here as a script, the way a newcomer
would run `twopass sandbox < script.txt`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """\
/join hours_per_week:3
/done neural-network first note:"the digit network finally makes sense"
/today
:as bob
/join
/done 1 first private:yes
/leaderboard
/done gpt third
:advance 1d
:posts
:quit
/this line is never read
"""


def sandbox(tmp_path: Path, *args: str, script: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWOPASS_", "DISCORD_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", *args],
        input=script,
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the checkout: the sandbox finds the local Discord beside the bot
        env=env,
        check=False,
        timeout=60,
    )


def section(output: str, prompt: str) -> str:
    """What was printed after the echoed line `prompt`, up to the next prompt."""
    after = output.split(f"\n{prompt}\n", 1)[1]
    return after.split("\n\n", 1)[0]


def test_a_scripted_session_shows_replies_and_the_daily_post(tmp_path: Path) -> None:
    result = sandbox(
        tmp_path, "--start", "2026-03-02T08:00", "--db", str(tmp_path / "s.sqlite3"), script=SCRIPT
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "It is Mon 2 Mar 2026 08:00 UTC." in out
    # The server was set up for the person, in plain view.
    assert "* Study channel: #study" in section(out, "admin> /setup channel channel:#study")

    joined = section(out, "alice> /join hours_per_week:3")
    assert "bot (only you see this):" in joined and "**3 hours a week**" in joined
    logged = section(
        out, 'alice> /done neural-network first note:"the digit network finally makes sense"'
    )
    assert "bot (in #study):" in logged and "== Pass logged ==" in logged
    assert "@alice did the **first pass**" in logged
    assert "> the digit network finally makes sense" in logged
    assert "Your next step" in section(out, "alice> /today")
    assert "You are now bob." in section(out, "alice> :as bob")
    assert "bot (only you see this):" in section(out, "bob> /done 1 first private:yes")
    board = section(out, "bob> /leaderboard")
    assert (
        "== Leaderboard: this week (2-8 March) ==" in board
        and "@alice" in board
        and "@bob" in board
    )
    refused = section(out, "bob> /done gpt third")
    assert "Discord would not send that" in refused and "'first', 'second'" in refused

    # A day later: the video of the day went out at 09:00, the weekly check-in at 18:00.
    day = out.split("\nbob> :advance 1d\n", 1)[1].split("\nbob> :posts\n", 1)[0]
    assert "[Mon 2 Mar 2026 09:00 UTC] the bot posted in #study:" in day
    assert "== Video of the day - Mon 02 Mar ==" in day
    assert "[Mon 2 Mar 2026 18:00 UTC] the bot posted in #study:" in day
    assert "== Check-in - 2 March ==" in day
    assert "It is now Tue 3 Mar 2026 08:00 UTC." in day
    posts = out.split("\nbob> :posts\n", 1)[1]
    assert "video of the day: next Tue 3 Mar 2026 09:00 UTC" in posts
    assert "weekly check-in: next Mon 9 Mar 2026 18:00 UTC" in posts
    assert posts.count("== Video of the day") == 1
    assert "would have refused a request from the bot" not in out
    # :quit ends the session; the rest of the script is not read.
    assert "never read" not in out
