from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from curriculum import (
    SECOND_PASS_FACTOR,
    CurriculumError,
    Pass,
    default_curriculum,
    load_curriculum,
)

# The guide's order and links, copied by hand from the guide: the data file must match them.
GUIDE_VIDEOS = [
    ("intuition", "https://www.youtube.com/watch?v=aircAruvnKk"),
    ("intuition", "https://www.youtube.com/watch?v=IHZwWFHWa-w"),
    ("intuition", "https://www.youtube.com/watch?v=Ilg3gGewQ5U"),
    ("intuition", "https://www.youtube.com/watch?v=tIeHLnjs5U8"),
    ("intuition", "https://www.youtube.com/watch?v=LPZh9BOjkQs"),
    ("intuition", "https://www.youtube.com/watch?v=wjZofJX0v4M"),
    ("intuition", "https://www.youtube.com/watch?v=eMlx5fFNoYc"),
    ("intuition", "https://www.youtube.com/watch?v=9-Jl0dxWQs8"),
    ("intuition", "https://www.youtube.com/watch?v=iv-5mZ_9CPY"),
    ("implementation", "https://youtu.be/VMj-3S1tku0"),
    ("implementation", "https://youtu.be/PaCmpygFfXo"),
    ("implementation", "https://youtu.be/TCH_1BHY58I"),
    ("implementation", "https://youtu.be/P6sfmUTpUmc"),
    ("implementation", "https://youtu.be/q8SA3rM6ckI"),
    ("implementation", "https://youtu.be/t3YJ5hKiMQ0"),
    ("implementation", "https://www.youtube.com/watch?v=kCc8FmEb1nY"),
    ("implementation", "https://youtu.be/zduSFxRajkE"),
    ("context", "https://www.youtube.com/watch?v=zjkBMFhNj_g"),
    ("context", "https://www.youtube.com/watch?v=7xTGNNLPyMI"),
]
# Karpathy's lengths as the guide states them, in minutes.
GUIDE_MINUTES = {
    "micrograd": 145,
    "makemore-1": 117,
    "makemore-2": 75,
    "makemore-3": 115,
    "makemore-4": 115,
    "makemore-5": 56,
    "gpt": 116,
    "tokenizer": 133,
    "intro-llms": 60,
    "deep-dive-llms": 211,
}


def test_bundled_roadmap_follows_the_guide() -> None:
    roadmap = default_curriculum()
    found = [(phase.id, video.url) for phase, video in roadmap.videos()]
    assert found == GUIDE_VIDEOS
    assert roadmap.video_count == 19
    assert [len(phase.videos) for phase in roadmap.phases] == [9, 8, 2]
    for video_id, minutes in GUIDE_MINUTES.items():
        video = roadmap.video(video_id)
        assert video is not None and video.minutes == minutes
    optional = [video.id for _, video in roadmap.videos() if video.optional]
    assert optional == ["diffusion", "intro-llms", "deep-dive-llms"]
    assert roadmap.number_of("micrograd") == 10


def test_models_are_immutable() -> None:
    video = default_curriculum().phases[0].videos[0]
    with pytest.raises(ValueError):
        video.minutes = 1  # type: ignore[misc]


def test_time_model_costs_one_watch_then_an_active_pass() -> None:
    gpt = default_curriculum().video("gpt")
    assert gpt is not None
    assert gpt.pass_minutes(Pass.FIRST) == 116
    assert gpt.pass_minutes(Pass.SECOND) == 116 * SECOND_PASS_FACTOR
    assert 2 <= SECOND_PASS_FACTOR <= 3  # the guide's range for the second pass


def test_phase_estimates_against_the_guide() -> None:
    """Where the model and the guide differ is explained in the README ("The time model")."""
    hours = {phase.id: phase.estimate_minutes / 60 for phase in default_curriculum().phases}
    guide = {phase.id: phase.guide_hours for phase in default_curriculum().phases}
    # Phase 1 lands inside the guide's 10-15 h.
    assert guide["intuition"][0] <= hours["intuition"] <= guide["intuition"][1]
    # Phase 2: 14.5 h of video; two honest passes cannot fit in 30-40 h, the model says ~51 h.
    assert hours["implementation"] > guide["implementation"][1]
    assert 45 <= hours["implementation"] <= 55
    # Phase 3: the guide's ~5 h is one watch of 4.5 h of talks; the model counts both passes.
    video_hours = sum(v.minutes for v in default_curriculum().phases[2].videos) / 60
    assert abs(video_hours - guide["context"][0]) < 1
    assert hours["context"] == pytest.approx(video_hours * (1 + SECOND_PASS_FACTOR))


def test_any_file_with_the_schema_loads(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(
        'id = "tiny"\ntitle = "Tiny"\n[[phases]]\nid = "one"\ntitle = "One"\ngoal = "Try it"\n'
        'guide_hours = [1, 2]\n[[phases.videos]]\nid = "a"\ntitle = "A"\ncreator = "Me"\n'
        'url = "https://example.org/a"\nminutes = 10\nfirst_pass = "Watch"\nsecond_pass = "Do"\n'
    )
    tiny = load_curriculum(path)
    assert tiny.video_count == 1 and tiny.estimate_minutes == 10 * (1 + SECOND_PASS_FACTOR)


def test_unreadable_and_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(CurriculumError, match="cannot read"):
        load_curriculum(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("id = ")
    with pytest.raises(CurriculumError, match="line 1: not valid TOML"):
        load_curriculum(bad)


def _cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )


def test_cli_show_json_has_the_documented_shape() -> None:
    result = _cli("curriculum", "show", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["id"] == "ml-engineer" and isinstance(data["title"], str)
    videos = [video for phase in data["phases"] for video in phase["videos"]]
    assert len(videos) == 19
    for phase in data["phases"]:
        assert isinstance(phase["id"], str) and isinstance(phase["title"], str)
    for video in videos:
        assert {"id", "title", "url", "minutes", "optional"} <= video.keys()
        assert isinstance(video["minutes"], int) and isinstance(video["optional"], bool)
