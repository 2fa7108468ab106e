"""The pictures: sizes, the colour of chosen cells, names in every script, alt text, and
reference PNGs (regenerate with `python -m bot.pictures.examples --refs` after a change you meant)."""

from __future__ import annotations

import io
import itertools
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from bot.pictures import (
    ALT_TEXT_LIMIT,
    CheckinChart,
    CohortMap,
    DayPasses,
    MemberHours,
    MemberRow,
    PassState,
    PhaseState,
    Picture,
    VideoColumn,
    VideoState,
    canvas,
    checkin,
    cohort,
    examples,
    progress,
    render_checkin_chart,
    render_cohort_map,
    render_in_thread,
    render_progress_card,
    text,
)

REFERENCES = Path(__file__).parent / "pictures_ref"
# Tolerated against a reference: font rasterising may move an edge by a pixel between FreeType
# builds; a changed layout, colour or cell moves far more. The mean absolute difference per
# channel (0-255) catches broad changes, the worst 8x8 block catches a single changed cell.
TOLERANCE = 1.5
BLOCK_TOLERANCE = 40

NAMES = [
    "山田太郎",
    "김민준",
    "ひなた",
    "漢字 한국어 ひらがな",
    "Дмитрий Соколов",
    "Zoë Ångström",
    "Ngọc Ánh",
    "François 🚀",
    "👨‍👩‍👧 the Okafors",
    "🇯🇵 Sakura ❤️",
    "Ιωάννα",
    "Łukasz Żółć",
]


def image_of(picture: Picture) -> Image.Image:
    return Image.open(io.BytesIO(picture.png)).convert("RGB")


def differences(current: Image.Image, reference: Image.Image) -> tuple[float, int]:
    """(the worst channel's mean absolute difference, the worst 8x8 block's mean difference)."""
    difference = ImageChops.difference(current, reference)
    blocks = difference.convert("L").reduce(8)
    return max(ImageStat.Stat(difference).mean), blocks.getextrema()[1]


def colour_at(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, ...]:
    """The colour in the middle of a cell, away from its rounded corners and its text."""
    left, top, _, bottom = box
    return tuple(image.getpixel((left + 3, (top + bottom) // 2)))


# --- sizes and chosen cells ---------------------------------------------------------------


def test_every_picture_is_800_wide_png_with_the_size_it_reports() -> None:
    for render in examples.EXAMPLES.values():
        picture = render()
        assert picture.png.startswith(b"\x89PNG\r\n\x1a\n")
        image = image_of(picture)
        assert image.size == (picture.width, picture.height)
        assert picture.width == canvas.WIDTH == 800
        assert 500 <= picture.height <= 1100


def test_progress_card_tiles_are_coloured_by_pass() -> None:
    card = examples.progress_example()
    image = image_of(render_progress_card(card))
    assert image.size == (800, progress.height(card))
    # Video 3 (phase 1) has its second pass, 10 (phase 2, first) its first, 13 neither.
    assert card.phases[0].videos[2].state is PassState.SECOND
    assert colour_at(image, progress.tile_box(card, 0, 2)) == canvas.STATE[PassState.SECOND]
    assert colour_at(image, progress.tile_box(card, 1, 0)) == canvas.STATE[PassState.FIRST]
    assert colour_at(image, progress.tile_box(card, 1, 3)) == canvas.STATE[PassState.NONE]


def test_progress_calendar_marks_the_days_studied_in_the_last_12_weeks() -> None:
    card = examples.progress_example()
    image = image_of(render_progress_card(card))
    studied = card.today - timedelta(days=9)
    idle = card.today - timedelta(days=7)
    assert studied in card.study_days and idle not in card.study_days
    assert colour_at(image, progress.day_box(card, studied) or (0, 0, 0, 0)) == canvas.STUDIED
    assert colour_at(image, progress.day_box(card, idle) or (0, 0, 0, 0)) == canvas.NOT_STUDIED
    # Twelve weeks from a Monday to today; tomorrow and older days are not drawn.
    assert progress.first_day(card.today) == date(2025, 12, 15)
    assert progress.day_box(card, card.today + timedelta(days=1)) is None
    assert progress.day_box(card, date(2025, 12, 14)) is None


def test_a_phase_of_many_videos_wraps_its_tiles_and_every_label_fits() -> None:
    # An operator's roadmap with 30 lectures in one phase: in a single row the tiles would be
    # too narrow for their numbers (and under 24 videos too narrow for the pips).
    base = examples.progress_example()
    videos = tuple(
        VideoState(
            str(n),
            PassState.SECOND if n <= 12 else PassState.FIRST if n <= 20 else PassState.NONE,
        )
        for n in range(1, 31)
    )
    card = replace(base, phases=(PhaseState("Lectures", videos, 20.0, 60.0), *base.phases[1:]))
    picture = render_progress_card(card)
    image = image_of(picture)
    assert image.size == (800, progress.height(card))
    boxes = [progress.tile_box(card, 0, n) for n in range(len(videos))]
    for box, video in zip(boxes, videos, strict=True):
        left, _, right, _ = box
        assert left >= canvas.PAD and right <= canvas.WIDTH - canvas.PAD
        # The number fits whole: no "…" in place of a video's number.
        assert text.width(video.label, canvas.SMALL, bold=True) <= right - left - 8
        assert colour_at(image, box) == canvas.STATE[video.state], video.label
    for index, one in enumerate(boxes):
        for other in boxes[index + 1 :]:
            apart = one[2] < other[0] or other[2] < one[0]
            assert apart or one[3] < other[1] or other[3] < one[1], (one, other)
    # The next phase and the calendar start below the last row, each where the card draws it.
    nxt = progress.tile_box(card, 1, 0)
    assert max(box[3] for box in boxes) < nxt[1]
    assert colour_at(image, nxt) == canvas.STATE[card.phases[1].videos[0].state]
    studied = progress.day_box(card, card.today)
    assert studied is not None and studied[1] > progress.tile_box(card, 2, 0)[3]
    assert colour_at(image, studied) == canvas.STUDIED
    assert "Lectures: 20 h of 60 h; second pass 1, 2" in picture.alt


def test_cohort_map_cells_show_each_members_pass() -> None:
    page = examples.cohort_example()
    image = image_of(render_cohort_map(page))
    assert image.size == (800, cohort.height(page))
    for row, member in enumerate(page.rows):
        for column in (2, 9, 18):
            expected = canvas.STATE[member.states[column]]
            assert colour_at(image, cohort.cell_box(page, row, column)) == expected, (row, column)


def test_cohort_map_frames_the_video_of_the_day_and_highlights_who_moved() -> None:
    page = examples.cohort_example()
    image = image_of(render_cohort_map(page))
    today = page.video_of_the_day
    assert today is not None
    left = cohort.column_left(page, today)
    assert image.getpixel((left - 2, cohort.ROWS_TOP + 5)) == canvas.ACCENT
    moved = next(i for i, r in enumerate(page.rows) if r.moved_this_week)
    quiet = next(i for i, r in enumerate(page.rows) if not r.moved_this_week)
    dot = (canvas.PAD + 5, cohort.ROWS_TOP + moved * cohort.ROW_PITCH + 13)
    assert image.getpixel(dot) == canvas.ACCENT
    assert (
        image.getpixel((dot[0], cohort.ROWS_TOP + quiet * cohort.ROW_PITCH + 13))
        == canvas.BACKGROUND
    )


def test_a_full_page_of_25_members_and_an_empty_one_render() -> None:
    page = examples.cohort_example()
    rows = tuple(replace(page.rows[i % len(page.rows)], name=f"Member {i}") for i in range(25))
    full = render_cohort_map(replace(page, rows=rows))
    assert full.height == cohort.height(replace(page, rows=rows)) <= 1000
    empty = render_cohort_map(replace(page, rows=()))
    assert "0 members" in empty.alt


@pytest.mark.parametrize("count", [30, 150])
def test_a_roadmap_of_many_videos_keeps_cells_and_labels_apart(count: int) -> None:
    # An operator's roadmap of 30 videos made the column labels run together ("101112..."),
    # and one of 150 left the cells no width at all.
    columns = tuple(VideoColumn(str(n), 3 * (n - 1) // count) for n in range(1, count + 1))
    states = tuple(
        tuple(PassState((row + column) % 3) for column in range(count)) for row in range(3)
    )
    rows = tuple(MemberRow(f"Member {row}", states[row]) for row in range(3))
    page = CohortMap("The cohort", columns, rows)
    image = image_of(render_cohort_map(page))
    cells = [cohort.cell_box(page, 0, column) for column in range(count)]
    assert cells[0][0] > canvas.PAD + cohort.NAME_WIDTH
    assert cells[-1][2] <= canvas.WIDTH - canvas.PAD
    assert all(one[2] < other[0] for one, other in itertools.pairwise(cells))
    for row in range(3):
        for column in (0, count // 2, count - 1):
            left, top, right, bottom = cohort.cell_box(page, row, column)
            middle = ((left + right) // 2, (top + bottom) // 2)
            assert image.getpixel(middle) == canvas.STATE[states[row][column]], (row, column)
    # The header holds whole labels only: each one drawn reads as it does alone, and nothing
    # else is there.
    band = (
        cohort.column_left(page, 0) - 16,
        cohort.HEADER_TOP,
        canvas.WIDTH - 2,
        cohort.HEADER_TOP + 28,
    )
    whole = []
    for column, video in enumerate(columns):
        left, _, right, _ = cohort.cell_box(page, 0, column)
        alone = canvas.card(image.height)
        half = (
            text.draw(
                alone,
                (left + right) / 2,
                cohort.HEADER_TOP + 14,
                video.label,
                canvas.SMALL,
                canvas.MUTED,
                align="center",
            )
            / 2
        )
        box = (
            int((left + right) / 2 - half) - 1,
            band[1],
            int((left + right) / 2 + half) + 2,
            band[3],
        )
        if image.crop(box).tobytes() == alone.crop(box).tobytes():
            whole.append(column)
    assert len(whole) >= count // 20
    expected = canvas.card(image.height)
    for column in whole:
        left, _, right, _ = cohort.cell_box(page, 0, column)
        text.draw(
            expected,
            (left + right) / 2,
            cohort.HEADER_TOP + 14,
            columns[column].label,
            canvas.SMALL,
            canvas.MUTED,
            align="center",
        )
    assert image.crop(band).tobytes() == expected.crop(band).tobytes()
    # The video of the day's number is always among them.
    assert count // 2 in cohort.labelled(replace(page, video_of_the_day=count // 2))


def test_cohort_map_rejects_rows_that_do_not_match_the_columns() -> None:
    with pytest.raises(ValueError, match="states"):
        CohortMap("x", (VideoColumn("1", 0),), (MemberRow("a", ()),))


def test_checkin_chart_stacks_second_under_first_passes() -> None:
    chart = examples.checkin_example()
    image = image_of(render_checkin_chart(chart))
    assert image.size == (800, checkin.height(chart))
    thursday = 3
    left, top, right, bottom = checkin.day_bar(chart, thursday)
    middle = (left + right) // 2
    assert image.getpixel((middle, bottom - 2)) == canvas.STATE[PassState.SECOND]
    assert image.getpixel((middle, top + 2)) == canvas.STATE[PassState.FIRST]
    # The busiest member has the longest bar, and only the top 10 are drawn.
    assert checkin.member_bar(chart, 0)[2] > checkin.member_bar(chart, 1)[2]
    assert len(checkin.ranked(chart)) == 10


def test_a_week_without_passes_renders() -> None:
    start = date(2026, 3, 2)
    chart = CheckinChart(
        "Quiet week", tuple(DayPasses(start + timedelta(days=n), 0, 0) for n in range(7))
    )
    picture = render_checkin_chart(chart)
    assert picture.width == 800
    assert "0 passes" in picture.alt


# --- references ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(examples.EXAMPLES))
def test_pictures_match_their_references(name: str) -> None:
    reference = Image.open(REFERENCES / f"{name}.png").convert("RGB")
    current = image_of(examples.EXAMPLES[name]())
    assert current.size == reference.size
    mean, block = differences(current, reference)
    assert mean <= TOLERANCE and block <= BLOCK_TOLERANCE, (
        f"{name}.png moved (mean {mean:.2f}, worst block {block}): if the change is meant, run "
        "`python -m bot.pictures.examples --refs` and commit the new references"
    )


def test_the_reference_check_sees_a_single_changed_cell() -> None:
    page = examples.cohort_example()
    states = list(page.rows[3].states)
    states[15] = PassState.FIRST if states[15] is PassState.NONE else PassState.NONE
    rows = list(page.rows)
    rows[3] = replace(rows[3], states=tuple(states))
    changed = image_of(render_cohort_map(replace(page, rows=tuple(rows))))
    mean, block = differences(changed, image_of(render_cohort_map(page)))
    assert mean < TOLERANCE and block > BLOCK_TOLERANCE


def test_the_readme_examples_are_current() -> None:
    folder = Path(__file__).resolve().parents[1] / "docs" / "pictures"
    for name in examples.EXAMPLES:
        committed = Image.open(folder / f"{name}.png").convert("RGB")
        reference = Image.open(REFERENCES / f"{name}.png").convert("RGB")
        assert committed.size == reference.size
        mean, block = differences(committed, reference)
        assert mean <= TOLERANCE and block <= BLOCK_TOLERANCE


# --- names in every script --------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_names_render_without_notdef_boxes(name: str) -> None:
    pieces = text.runs(name)
    assert text.PLACEHOLDER not in "".join(r.text for r in pieces)
    for run in pieces:
        for char in run.text:
            if char.isspace() or ord(char) in (0x200D, 0xFE0F):
                continue
            assert text.has_glyph(run.face, char), (name, char, run.face)
    image = Image.new("RGB", (400, 40), canvas.BACKGROUND)
    drawn = text.draw(image, 0, 20, name, canvas.SMALL, canvas.TEXT)
    assert drawn > 0
    assert ImageChops.difference(image, Image.new("RGB", image.size, canvas.BACKGROUND)).getbbox()


def test_scripts_go_to_the_right_font_and_unknown_ones_to_a_visible_placeholder() -> None:
    faces = {r.face for r in text.runs("Иван 山田 🚀")}
    assert faces == {text.Face.LATIN, text.Face.CJK, text.Face.EMOJI}
    assert [(r.face, r.text) for r in text.runs("👨‍👩‍👧")] == [(text.Face.EMOJI, "👨‍👩‍👧")]
    # Thai is outside the bundled fonts: a '?' rather than an empty box.
    assert "".join(r.text for r in text.runs("สมชาย")) == "?????"
    # The .notdef probe really tells a box from a glyph.
    assert not text.has_glyph(text.Face.LATIN, "漢")
    assert text.has_glyph(text.Face.CJK, "漢")


@pytest.mark.parametrize(
    ("styled", "plain"),
    [("𝓐𝓵𝓲𝓬𝓮", "Alice"), ("𝕵𝖔𝖍𝖓 𝕯𝖔𝖊", "John Doe"), ("ⓜⓐⓡⓘⓐ", "maria"), ("𝘻𝘰𝘦 ﬁsh", "zoe fish")],
)
def test_a_name_in_styled_letters_is_drawn_as_its_letters_not_question_marks(
    styled: str, plain: str
) -> None:
    # Discord names often use Unicode's styled letters (mathematical, circled). No bundled font
    # has them, but each is a plain letter in another dress: draw that, not "?????".
    assert "".join(r.text for r in text.runs(styled)) == plain
    chart = replace(examples.checkin_example(), members=(MemberHours(styled, 2.0),))
    drawn = image_of(render_checkin_chart(chart))
    expected = image_of(render_checkin_chart(replace(chart, members=(MemberHours(plain, 2.0),))))
    assert ImageChops.difference(drawn, expected).getbbox() is None
    assert styled in render_checkin_chart(chart).alt  # the alt text keeps the name as given


def test_fonts_come_from_the_package_not_the_machine() -> None:
    for face in text.FALLBACK:
        path = Path(str(text.font(face, 24).path))
        assert path.parent == text.FONTS
    total = sum(p.stat().st_size for p in text.FONTS.iterdir())
    assert total < 4_000_000, "keep the bundled fonts small"


def test_long_names_are_cut_to_fit() -> None:
    long = "Александра Константиновна 山田 🚀" * 3
    cut = text.fit(long, canvas.SMALL, 150)
    assert cut.endswith(text.ELLIPSIS)
    assert text.width(cut, canvas.SMALL) <= 150


# --- alt text -----------------------------------------------------------------------------


def test_alt_texts_carry_the_essential_numbers() -> None:
    card = render_progress_card(examples.progress_example())
    assert "21 of 38 passes" in card.alt
    assert "Streak 5 days, best 8 days" in card.alt
    assert "This week 3.5 h of 5 h" in card.alt
    page = render_cohort_map(examples.cohort_example())
    assert "page 1 of 2" in page.alt and "15 members by 19 videos" in page.alt
    assert "Video of the day: 11" in page.alt
    chart = render_checkin_chart(examples.checkin_example())
    assert "30 passes (17 first, 13 second)" in chart.alt
    assert "Ana María 6.5 h" in chart.alt


def test_hours_in_a_picture_read_as_in_the_words_beside_it() -> None:
    # The text gives hours to one decimal ("10.7 h", "**34.5 h** of study"); a picture that
    # rounds them to the hour ("11 h", "34 h") seems to disagree with it.
    card = render_progress_card(examples.progress_example())
    assert "Build intuition (3Blue1Brown): 10.7 h of 10.7 h" in card.alt
    assert "of 50.9 h" in card.alt
    chart = render_checkin_chart(examples.checkin_example())
    assert "34.5 h by 12 members" in chart.alt
    assert canvas.hours(12.0) == "12 h" and canvas.hours(0.25) == "0.2 h"


def test_alt_text_stays_within_discords_limit() -> None:
    page = examples.cohort_example()
    rows = tuple(
        replace(page.rows[i % len(page.rows)], name=f"A rather long display name {i} 🚀")
        for i in range(25)
    )
    alt = render_cohort_map(replace(page, rows=rows)).alt
    assert len(alt) <= ALT_TEXT_LIMIT
    assert alt.endswith("…")
    members = tuple(MemberHours(f"Member number {i} with a long name", 1.0) for i in range(100))
    chart = replace(examples.checkin_example(), members=members, top=100)
    assert len(render_checkin_chart(chart).alt) <= ALT_TEXT_LIMIT


def test_an_erased_members_entry_in_the_chart_alt_text_says_someone() -> None:
    members = (
        MemberHours("Al", 2.0),
        MemberHours("Alice", 1.0),
        MemberHours("Zoë\u200b", 12.0),  # drawn (and described) without the zero-width space
        MemberHours("Week", 0.5),
    )
    chart = replace(examples.checkin_example(), title="Weekly check-in - Week of 2-8 March")
    alt = render_checkin_chart(replace(chart, members=members)).alt
    assert alt.endswith("Hours: Zoë 12 h, Al 2 h, Alice 1 h, Week 0.5 h.")
    erased = checkin.alt_without(alt, "Al", "someone")
    assert erased.endswith("Hours: Zoë 12 h, someone 2 h, Alice 1 h, Week 0.5 h.")
    assert "Hours: someone 12 h, Al 2 h" in checkin.alt_without(alt, "Zoë\u200b", "someone")
    # Only an entry of the hours: the title keeps its words.
    assert checkin.alt_without(alt, "Week", "someone").startswith("Weekly check-in - Week of")
    assert checkin.alt_without(alt, "Week", "someone").endswith(", someone 0.5 h.")
    assert checkin.alt_without(alt, "Bob", "someone") == alt
    # A text clipped after the name still loses it.
    assert checkin.alt_without("Hours: Ann 1 h, Alice…", "Alice", "someone") == (
        "Hours: Ann 1 h, someone…"
    )


# --- off the event loop, and pure ---------------------------------------------------------


async def test_render_in_thread_runs_off_the_event_loop() -> None:
    loop_thread = threading.current_thread()
    seen: list[threading.Thread] = []

    def render(card: object) -> Picture:
        seen.append(threading.current_thread())
        return render_progress_card(examples.progress_example())

    picture = await render_in_thread(render, None)
    assert picture.width == 800
    assert seen and seen[0] is not loop_thread
    cohort_picture = await render_in_thread(render_cohort_map, examples.cohort_example())
    assert cohort_picture.alt


def test_the_pictures_import_neither_discord_nor_the_database() -> None:
    code = (
        "import sys, bot.pictures, bot.pictures.examples; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('discord', 'aiosqlite', 'sqlite3')"
        " or m.startswith(('bot.store', 'bot.study', 'bot.domain'))]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
