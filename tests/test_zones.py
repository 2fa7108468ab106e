"""Timezones as people type them: cities, countries, any case; the traps refused kindly."""

from __future__ import annotations

import logging
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from bot import zones
from bot.zones import (
    BadTimezone,
    is_usable_zone,
    resolve_timezone,
    safe_zone,
    timezone_choices,
    zone_label,
)

# --- the data it is built from ---------------------------------------------------------------


@pytest.mark.parametrize("table", ["zone1970.tab", "zone.tab", "iso3166.tab", "tzdata.zi"])
def test_the_tzdata_wheel_ships_the_tables(table: str) -> None:
    assert resources.files("tzdata.zoneinfo").joinpath(table).is_file()


def test_every_offered_zone_loads() -> None:
    index = zones._index()
    assert len(index.zones) > 300
    for name in index.zones:
        ZoneInfo(name)
    for entry in index.entries:
        assert entry.value in index.zones


# --- resolve_timezone: accepted --------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("  EUROPE/BERLIN  ", "Europe/Berlin"),
        ("america/new_york", "America/New_York"),
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("Berlin", "Europe/Berlin"),
        ("berlin", "Europe/Berlin"),
        ("New York", "America/New_York"),
        ("new york", "America/New_York"),
        ("new_york", "America/New_York"),
        ("São Paulo", "America/Sao_Paulo"),
        ("Sao Paulo", "America/Sao_Paulo"),
        ("sao paulo", "America/Sao_Paulo"),
        ("Buenos Aires", "America/Argentina/Buenos_Aires"),
        ("Port au Prince", "America/Port-au-Prince"),
        ("St. John's", "America/St_Johns"),
        ("Kolkata", "Asia/Kolkata"),
        ("Berlin, Germany", "Europe/Berlin"),
        ("Munich", "Europe/Berlin"),
        ("Bangalore", "Asia/Kolkata"),
        ("San Francisco", "America/Los_Angeles"),
    ],
)
def test_zone_names_and_cities_in_any_case(typed: str, zone: str) -> None:
    assert resolve_timezone(typed) == zone


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("asia/calcutta", "Asia/Kolkata"),
        ("Calcutta", "Asia/Kolkata"),
        ("US/Eastern", "America/New_York"),
        ("US/Pacific", "America/Los_Angeles"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Kiev", "Europe/Kyiv"),
        ("Asia/Saigon", "Asia/Ho_Chi_Minh"),
        ("Europe/Amsterdam", "Europe/Brussels"),
        ("Amsterdam", "Europe/Brussels"),
        ("Oslo", "Europe/Berlin"),
    ],
)
def test_old_names_and_links_map_to_the_canonical_zone(typed: str, zone: str) -> None:
    assert resolve_timezone(typed) == zone


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Germany", "Europe/Berlin"),
        ("germany", "Europe/Berlin"),
        ("DE", "Europe/Berlin"),
        ("Japan", "Asia/Tokyo"),
        ("JP", "Asia/Tokyo"),
        ("India", "Asia/Kolkata"),
        ("UK", "Europe/London"),
        ("United Kingdom", "Europe/London"),
        ("Netherlands", "Europe/Brussels"),
        ("Switzerland", "Europe/Zurich"),
        ("France", "Europe/Paris"),
        ("Côte d'Ivoire", "Africa/Abidjan"),
        ("Cote dIvoire", "Africa/Abidjan"),
    ],
)
def test_a_country_with_one_zone_of_its_own_resolves_to_it(typed: str, zone: str) -> None:
    assert resolve_timezone(typed) == zone


@pytest.mark.parametrize("typed", ["US", "USA", "United States", "Brazil", "Canada", "Australia"])
def test_a_country_with_several_zones_lists_them(typed: str) -> None:
    with pytest.raises(BadTimezone, match="has several timezones") as refused:
        resolve_timezone(typed)
    assert "type your city" in refused.value.message


@pytest.mark.parametrize(
    "typed", ["UTC", "utc", "Etc/UTC", "etc/utc", "Etc/UCT", "UCT", "Zulu", "Universal", "UTC+0"]
)
def test_utc_stays_accepted(typed: str) -> None:
    assert resolve_timezone(typed) == "UTC"


# --- resolve_timezone: refused ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("EST", "`America/New_York` (US Eastern time, with daylight saving)"),
        ("est", "`America/New_York`"),
        ("MST", "`America/Denver`"),
        ("HST", "`Pacific/Honolulu`"),
        ("CET", "`Europe/Berlin`"),
        ("EET", "`Europe/Athens`"),
        ("WET", "`Europe/Lisbon`"),
        ("PST8PDT", "`America/Los_Angeles`"),
        ("EST5EDT", "`America/New_York`"),
        ("PST", "`America/Los_Angeles`"),
        ("CEST", "`Europe/Berlin`"),
        ("IST", "`Asia/Kolkata` (India)"),
        ("BST", "`Europe/London`"),
        ("GMT", "`Europe/London` (UK time, with summer time) or `UTC`"),
        ("Greenwich", "`Europe/London`"),
        ("Etc/GMT", "`Europe/London`"),
        ("GMT0", "`Europe/London`"),
    ],
)
def test_abbreviations_and_fixed_offsets_suggest_the_zone_meant(typed: str, meant: str) -> None:
    with pytest.raises(BadTimezone) as refused:
        resolve_timezone(typed)
    assert meant in refused.value.message
    assert refused.value.message.startswith(f"`{typed}` is ")


def test_est_says_why_it_is_a_trap() -> None:
    with pytest.raises(BadTimezone, match="UTC-5 all year"):
        resolve_timezone("EST")


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("Etc/GMT+2", "means UTC-2 (these names reverse the sign)"),
        ("etc/gmt-5", "means UTC+5"),
        ("Etc/GMT-14", "means UTC+14"),
        ("UTC+2", "is a fixed offset"),
        ("utc -5", "is a fixed offset"),
        ("GMT+1", "is a fixed offset"),
        ("+02:00", "is a fixed offset"),
        ("+0530", "is a fixed offset"),
        ("UTC−3", "is a fixed offset"),
    ],
)
def test_offsets_are_refused_and_ask_for_a_city(typed: str, says: str) -> None:
    with pytest.raises(BadTimezone) as refused:
        resolve_timezone(typed)
    assert says in refused.value.message
    assert "city" in refused.value.message


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("America", "`America` is a region of the timezone list"),
        ("america", "`America` is a region"),
        ("Europe", "`Europe` is a region"),
        ("Europe/", "`Europe` is a region"),
        ("Etc", "`Etc` is a region"),
        ("America/Argentina", "`America/Argentina` is a region"),
        ("Indian", "`Indian` is a region"),
    ],
)
def test_folders_are_refused_not_crashed_on(typed: str, shown: str) -> None:
    with pytest.raises(BadTimezone) as refused:
        resolve_timezone(typed)
    assert shown in refused.value.message
    assert "type your city" in refused.value.message


@pytest.mark.parametrize(
    ("typed", "use"),
    [
        ("localtime", "type your city"),
        ("posixrules", "type your city"),
        ("Factory", "type your city"),
        ("posix/Europe/Berlin", "use `Europe/Berlin`"),
        ("right/Asia/Calcutta", "use `Asia/Kolkata`"),
        ("/etc/localtime", "type your city"),
        ("../etc/passwd", "type your city"),
    ],
)
def test_host_specific_keys_are_refused(typed: str, use: str) -> None:
    with pytest.raises(BadTimezone, match="depends on the machine") as refused:
        resolve_timezone(typed)
    assert use in refused.value.message


def test_a_typo_gets_a_suggestion() -> None:
    with pytest.raises(BadTimezone, match=r"Did you mean `Europe/Berlin`\?"):
        resolve_timezone("Berln")
    with pytest.raises(BadTimezone, match=r"Did you mean `America/New_York`\?"):
        resolve_timezone("Nwe York")


def test_unknown_and_empty_text_are_refused_with_examples() -> None:
    with pytest.raises(BadTimezone, match="not a timezone I know: type your city") as refused:
        resolve_timezone("Xyzzyville")
    assert "`Berlin`" in refused.value.message
    with pytest.raises(BadTimezone, match="Type your city"):
        resolve_timezone("   ")


def test_typed_text_is_quoted_safely() -> None:
    with pytest.raises(BadTimezone) as refused:
        resolve_timezone("`@everyone`")
    assert "`ˋ@\u200beveryoneˋ`" in refused.value.message


def test_every_returned_zone_resolves_to_itself() -> None:
    for name in zones._index().zones:
        assert resolve_timezone(name) == name


# --- timezone_choices ------------------------------------------------------------------------


def values(typed: str, limit: int = 25) -> list[str]:
    return [value for _label, value in timezone_choices(typed, limit)]


def test_nothing_typed_offers_popular_zones() -> None:
    offered = values("")
    assert offered[0] == "UTC"
    assert "Europe/Berlin" in offered and "America/New_York" in offered


def test_choices_labels_read_well() -> None:
    assert timezone_choices("berlin")[0] == (
        "Berlin — most of Germany (Europe/Berlin)",
        "Europe/Berlin",
    )
    assert timezone_choices("tokyo")[0] == ("Tokyo — Japan (Asia/Tokyo)", "Asia/Tokyo")
    assert timezone_choices("amsterdam")[0] == (
        "Amsterdam — Netherlands (Europe/Brussels)",
        "Europe/Brussels",
    )
    assert timezone_choices("calcutta")[0] == ("Calcutta — India (Asia/Kolkata)", "Asia/Kolkata")


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("ber", "Europe/Berlin"),
        ("new", "America/New_York"),
        ("york", "America/New_York"),
        ("new y", "America/New_York"),
        ("sao", "America/Sao_Paulo"),
        ("são", "America/Sao_Paulo"),
        ("europe/be", "Europe/Belgrade"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("japan", "Asia/Tokyo"),
        ("EST", "America/New_York"),
        ("utc", "UTC"),
        ("gmt", "UTC"),
    ],
)
def test_the_best_match_comes_first(typed: str, first: str) -> None:
    assert values(typed)[0] == first


def test_a_country_offers_its_zones_own_first() -> None:
    us = values("United States")
    assert us[0] == "America/New_York"
    assert {"America/Chicago", "America/Denver", "America/Los_Angeles"} <= set(us)
    germany = values("germany")
    assert germany[:2] == ["Europe/Berlin", "Europe/Zurich"]
    assert timezone_choices("germany")[1][0] == "Zurich — Germany, Büsingen (Europe/Zurich)"


def test_gmt_offers_london_too() -> None:
    assert values("gmt")[:2] == ["UTC", "Europe/London"]


def test_choices_respect_discords_limits_and_resolve() -> None:
    for typed in ["", "a", "e", "s", "san", "us", "united", "america/", "ru", "br", "x"]:
        choices = timezone_choices(typed)
        assert len(choices) <= 25
        assert len({value for _label, value in choices}) == len(choices)
        for label, value in choices:
            assert 1 <= len(label) <= 100
            assert len(value) <= 100
            assert resolve_timezone(value) == value


def test_every_label_fits_discords_limit() -> None:
    index = zones._index()
    for entry in index.entries:
        assert len(zones._zone_label(entry.value, entry.city, entry.country)) <= 100
    for country in index.countries.values():
        for value in (*country.own, *country.shared):
            assert len(zones._zone_label(value, None, country.code)) <= 100


def test_limit_and_nonsense() -> None:
    assert len(timezone_choices("a", limit=5)) == 5
    assert timezone_choices("qqqqqq") == []
    assert timezone_choices("   ")[0][1] == "UTC"


def test_choices_are_new_lists_each_time() -> None:
    first = timezone_choices("berlin")
    first.clear()
    assert timezone_choices("berlin")


# --- zone_label ------------------------------------------------------------------------------


def test_zone_label() -> None:
    assert zone_label("Asia/Tokyo") == "Tokyo — Japan (Asia/Tokyo)"
    assert zone_label("UTC") == "UTC — no daylight saving (UTC)"
    assert zone_label("Asia/Calcutta") == "Calcutta — India (Asia/Kolkata)"
    assert zone_label("Not/AZone") == "Not/AZone"


# --- stored zones ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Europe/Berlin", "UTC", "US/Eastern", "Asia/Calcutta", "EST"])
def test_usable_zones(name: str) -> None:
    assert is_usable_zone(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "America",
        "Etc",
        "Not/AZone",
        "../x",
        "a\x00b",
        "localtime",
        "posix/Europe/Berlin",
        "Factory",
    ],
)
def test_unusable_zones(name: str) -> None:
    assert not is_usable_zone(name)


def test_safe_zone_falls_back_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.zones")
    assert safe_zone("Europe/Berlin") == ZoneInfo("Europe/Berlin")
    assert safe_zone("America/Nowhere_Test") == ZoneInfo("UTC")
    assert safe_zone("America/Nowhere_Test") == ZoneInfo("UTC")
    assert safe_zone("America", fallback="Europe/Paris") == ZoneInfo("Europe/Paris")
    assert safe_zone(None) == ZoneInfo("UTC")
    assert safe_zone("Bad/Zone_Test", fallback="Also/Bad") == ZoneInfo("UTC")
    warnings = [r.getMessage() for r in caplog.records]
    assert sum("America/Nowhere_Test" in w for w in warnings) == 1
    assert len(warnings) == 4
