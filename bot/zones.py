"""Timezones as people type them: cities, countries, zone names in any case, with the traps refused.

Pure module (no Discord, no database). The index is built once, on first use, from the tz
database tables that the ``tzdata`` package ships (``zone1970.tab`` for the canonical zones
and the countries they cover, ``zone.tab`` for each country's own city, ``iso3166.tab`` for
country names, ``tzdata.zi`` for the backward links such as ``Asia/Calcutta``), so it is the
same on every host whatever the system's own tz database holds.

API
---
``resolve_timezone(text) -> str``
    The canonical IANA name for what a member typed (``"new york"`` -> ``"America/New_York"``),
    or ``BadTimezone`` with the sentence to show them. Every name it returns loads with
    ``zoneinfo.ZoneInfo``.
``timezone_choices(typed, limit=25) -> list[tuple[str, str]]``
    ``(label, value)`` pairs for slash-command autocomplete: labels such as
    ``"Berlin — Germany (Europe/Berlin)"`` (at most 100 characters, Discord's limit), values
    that ``resolve_timezone`` accepts as they are. Cached per text typed.
``zone_label(name) -> str``
    The same label for a stored zone, for confirmations ("Your timezone: ...").
``is_usable_zone(name) -> bool`` / ``safe_zone(name, fallback="UTC") -> ZoneInfo``
    For zones already stored: whether one loads on this host, and a ``ZoneInfo`` that falls
    back (logging once per bad name) instead of raising, so that one bad stored zone never
    stops start-up or a scheduled post for other servers.
``BadTimezone``
    ``Exception`` whose ``message`` is the one sentence the member sees.

What is accepted
----------------
- Canonical zone names in any case: ``europe/berlin`` -> ``Europe/Berlin``; ``UTC`` and its
  spellings (``Etc/UTC``, ``Zulu``, ...) -> ``UTC``.
- Backward links -> the zone they point to: ``Asia/Calcutta`` -> ``Asia/Kolkata``,
  ``US/Eastern`` -> ``America/New_York``, ``Europe/Amsterdam`` -> ``Europe/Brussels``.
- City names, the part after the last ``/`` with underscores as spaces, ignoring case,
  accents and punctuation: ``Berlin``, ``new york``, ``Sao Paulo``, ``St Johns``; old names of
  cities that tzdb keeps as links (``Calcutta``, ``Kiev``, ``Saigon``) and the cities tzdb
  lists for a country that share another country's zone (``Amsterdam``, ``Oslo``).
- ``"City, Country"``: the city part is used.
- Countries by name, ISO code or a common name (``Germany``, ``JP``, ``UK``, ``USA``):
  a country with one zone of its own resolves to it; a country with several (``US``,
  ``Brazil``) is refused with its zones listed, and autocomplete offers them.

What is refused, with a sentence and the zone they likely meant
---------------------------------------------------------------
- Fixed offsets and abbreviations: ``EST`` is UTC-5 all year, so a member in New York would be
  an hour off all summer; ``Etc/GMT+2`` means UTC-2; ``UTC+2`` and ``+02:00`` never follow
  daylight saving; ``CET``, ``PST8PDT``, ``PST``, ``IST``, ... are not places. Where the zone is
  obvious the sentence names it (``EST`` -> ``America/New_York``); an offset names none
  (typing the city is the answer). ``GMT`` is refused too: British members mean London time,
  which has summer time; ``UTC`` is suggested for "no daylight saving at all".
- tzdb folder names (``America``, ``Europe``, ``Etc``, ``America/Argentina``), which
  ``ZoneInfo`` cannot load (they are directories).
- Host-specific keys: ``localtime``, ``posixrules``, ``Factory``, ``posix/...``, ``right/...``.
"""

from __future__ import annotations

import difflib
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

from bot.text import code_span

__all__ = [
    "BadTimezone",
    "is_usable_zone",
    "resolve_timezone",
    "safe_zone",
    "timezone_choices",
    "zone_label",
]

log = logging.getLogger(__name__)

LABEL_MAX = 100  # Discord's limit for an autocomplete choice's name
UTC = "UTC"
_EXAMPLES = "e.g. `Berlin`, `New York` or `Europe/Berlin`"
_AREAS = frozenset(
    (
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    )
)
# Backward links whose last part is not a city (states, directions, codes): not searchable
# as cities, though their full names still resolve.
_NOT_CITIES = frozenset(
    (
        "Australia/ACT",
        "Australia/LHI",
        "Australia/NSW",
        "Australia/North",
        "Australia/South",
        "Australia/West",
        "Australia/Victoria",
        "Australia/Yancowinna",
        "America/Virgin",
        "Pacific/Samoa",
        "America/Knox_IN",
    )
)
_UTC_NAMES = frozenset(
    n.casefold()
    for n in (
        "UTC",
        "Etc/UTC",
        "Etc/UCT",
        "UCT",
        "Universal",
        "Etc/Universal",
        "Zulu",
        "Etc/Zulu",
        "Coordinated Universal Time",
        "UTC+0",
        "UTC-0",
        "UTC+00:00",
    )
)
# Names people use for countries besides tzdb's own (folded).
_COUNTRY_ALIASES = {
    "uk": "GB",
    "united kingdom": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "usa": "US",
    "united states of america": "US",
    "the us": "US",
    "the usa": "US",
    "czechia": "CZ",
    "turkiye": "TR",
    "holland": "NL",
    "the netherlands": "NL",
    "korea": "KR",
    "south korea": "KR",
    "north korea": "KP",
    "uae": "AE",
    "emirates": "AE",
    "ivory coast": "CI",
    "russian federation": "RU",
    "viet nam": "VN",
    "burma": "MM",
    "dr congo": "CD",
    "drc": "CD",
    "eswatini": "SZ",
}
# Big cities that are not tzdb's own names: (zone, country code). Only unambiguous names.
_MORE_CITIES = {
    "Munich": ("Europe/Berlin", "DE"),
    "Hamburg": ("Europe/Berlin", "DE"),
    "Frankfurt": ("Europe/Berlin", "DE"),
    "Cologne": ("Europe/Berlin", "DE"),
    "Geneva": ("Europe/Zurich", "CH"),
    "Rotterdam": ("Europe/Brussels", "NL"),
    "The Hague": ("Europe/Brussels", "NL"),
    "Antwerp": ("Europe/Brussels", "BE"),
    "Barcelona": ("Europe/Madrid", "ES"),
    "Milan": ("Europe/Rome", "IT"),
    "Lyon": ("Europe/Paris", "FR"),
    "Marseille": ("Europe/Paris", "FR"),
    "Manchester": ("Europe/London", "GB"),
    "Edinburgh": ("Europe/London", "GB"),
    "Glasgow": ("Europe/London", "GB"),
    "Krakow": ("Europe/Warsaw", "PL"),
    "Porto": ("Europe/Lisbon", "PT"),
    "Ankara": ("Europe/Istanbul", "TR"),
    "Mumbai": ("Asia/Kolkata", "IN"),
    "Bombay": ("Asia/Kolkata", "IN"),
    "Delhi": ("Asia/Kolkata", "IN"),
    "New Delhi": ("Asia/Kolkata", "IN"),
    "Bangalore": ("Asia/Kolkata", "IN"),
    "Bengaluru": ("Asia/Kolkata", "IN"),
    "Chennai": ("Asia/Kolkata", "IN"),
    "Hyderabad": ("Asia/Kolkata", "IN"),
    "Pune": ("Asia/Kolkata", "IN"),
    "Lahore": ("Asia/Karachi", "PK"),
    "Islamabad": ("Asia/Karachi", "PK"),
    "Abu Dhabi": ("Asia/Dubai", "AE"),
    "Beijing": ("Asia/Shanghai", "CN"),
    "Shenzhen": ("Asia/Shanghai", "CN"),
    "Guangzhou": ("Asia/Shanghai", "CN"),
    "Osaka": ("Asia/Tokyo", "JP"),
    "Kyoto": ("Asia/Tokyo", "JP"),
    "Busan": ("Asia/Seoul", "KR"),
    "Boston": ("America/New_York", "US"),
    "Washington": ("America/New_York", "US"),
    "Philadelphia": ("America/New_York", "US"),
    "Atlanta": ("America/New_York", "US"),
    "Miami": ("America/New_York", "US"),
    "Ottawa": ("America/Toronto", "CA"),
    "Dallas": ("America/Chicago", "US"),
    "Houston": ("America/Chicago", "US"),
    "Austin": ("America/Chicago", "US"),
    "Minneapolis": ("America/Chicago", "US"),
    "Salt Lake City": ("America/Denver", "US"),
    "San Francisco": ("America/Los_Angeles", "US"),
    "Seattle": ("America/Los_Angeles", "US"),
    "San Diego": ("America/Los_Angeles", "US"),
    "Las Vegas": ("America/Los_Angeles", "US"),
    "Rio de Janeiro": ("America/Sao_Paulo", "BR"),
    "Brasilia": ("America/Sao_Paulo", "BR"),
    "Wellington": ("Pacific/Auckland", "NZ"),
    "Cape Town": ("Africa/Johannesburg", "ZA"),
}
# Popular zones offered before anything is typed.
_POPULAR = (
    UTC,
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
)
# The example zone named when someone types a folder.
_FOLDER_EXAMPLES = {
    "Africa": "Africa/Lagos",
    "America": "America/New_York",
    "Asia": "Asia/Tokyo",
    "Atlantic": "Atlantic/Azores",
    "Europe": "Europe/London",
    "Indian": "Indian/Maldives",
    "Pacific": "Pacific/Auckland",
}


class BadTimezone(Exception):
    """A timezone we refuse; ``message`` is the one sentence the member sees."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------------------------- traps


@dataclass(frozen=True, slots=True)
class _Trap:
    what: str  # finishes "`EST` is ..."
    zones: tuple[tuple[str, str], ...]  # (zone, what it is) the member likely meant


def _t(what: str, *zones: tuple[str, str]) -> _Trap:
    return _Trap(what, zones)


_ET = ("America/New_York", "US Eastern time, with daylight saving")
_CT = ("America/Chicago", "US Central time, with daylight saving")
_MT = ("America/Denver", "US Mountain time, with daylight saving")
_AZ = ("America/Phoenix", "Arizona, no daylight saving")
_PT = ("America/Los_Angeles", "US Pacific time, with daylight saving")
_UK = ("Europe/London", "UK time, with summer time")
_CE = ("Europe/Berlin", "Central European time, with summer time")
_PARIS = ("Europe/Paris", "the same time in France")
_EE = ("Europe/Athens", "Eastern European time, with summer time")
_FIXED = "a fixed offset"
_ABBR = "an abbreviation, not a timezone"
_RULES = "an old rule-only zone without the local history of any place"

_TRAPS: dict[str, _Trap] = {
    # tzdb names that look like regions but are fixed offsets or bare rules.
    "est": _t(f"{_FIXED} (UTC-5 all year, an hour off in New York all summer)", _ET),
    "mst": _t(f"{_FIXED} (UTC-7 all year)", _MT, _AZ),
    "hst": _t(f"{_FIXED} (UTC-10 all year)", ("Pacific/Honolulu", "Hawaii")),
    "gmt": _t(
        "UTC all year, without the UK's summer time",
        _UK,
        ("UTC", "no daylight saving at all"),
    ),
    "est5edt": _t(_RULES, _ET),
    "cst6cdt": _t(_RULES, _CT),
    "mst7mdt": _t(_RULES, _MT),
    "pst8pdt": _t(_RULES, _PT),
    "cet": _t(_ABBR, _CE, _PARIS),
    "met": _t(_ABBR, _CE, _PARIS),
    "eet": _t(_ABBR, _EE, ("Europe/Helsinki", "the same time in Finland")),
    "wet": _t(_ABBR, ("Europe/Lisbon", "Western European time, with summer time")),
    # Abbreviations people type that tzdb does not know at all.
    "edt": _t(_ABBR, _ET),
    "et": _t(_ABBR, _ET),
    "eastern": _t(_ABBR, _ET),
    "cst": _t(_ABBR, _CT, ("Asia/Shanghai", "China")),
    "cdt": _t(_ABBR, _CT),
    "ct": _t(_ABBR, _CT),
    "central": _t(_ABBR, _CT),
    "mdt": _t(_ABBR, _MT),
    "mountain": _t(_ABBR, _MT),
    "pst": _t(_ABBR, _PT),
    "pdt": _t(_ABBR, _PT),
    "pt": _t(_ABBR, _PT),
    "pacific": _t(_ABBR, _PT),
    "akst": _t(_ABBR, ("America/Anchorage", "Alaska")),
    "akdt": _t(_ABBR, ("America/Anchorage", "Alaska")),
    "ast": _t(_ABBR, ("America/Halifax", "Atlantic time, with daylight saving")),
    "adt": _t(_ABBR, ("America/Halifax", "Atlantic time, with daylight saving")),
    "nst": _t(_ABBR, ("America/St_Johns", "Newfoundland")),
    "bst": _t(_ABBR, _UK),
    "ist": _t(
        _ABBR,
        ("Asia/Kolkata", "India"),
        ("Europe/Dublin", "Ireland"),
        ("Asia/Jerusalem", "Israel"),
    ),
    "cest": _t(_ABBR, _CE, _PARIS),
    "eest": _t(_ABBR, _EE),
    "west": _t(_ABBR, ("Europe/Lisbon", "Western European time, with summer time")),
    "msk": _t(_ABBR, ("Europe/Moscow", "Moscow")),
    "jst": _t(_ABBR, ("Asia/Tokyo", "Japan")),
    "kst": _t(_ABBR, ("Asia/Seoul", "South Korea")),
    "hkt": _t(_ABBR, ("Asia/Hong_Kong", "Hong Kong")),
    "sgt": _t(_ABBR, ("Asia/Singapore", "Singapore")),
    "pkt": _t(_ABBR, ("Asia/Karachi", "Pakistan")),
    "wib": _t(_ABBR, ("Asia/Jakarta", "western Indonesia")),
    "aest": _t(_ABBR, ("Australia/Sydney", "eastern Australia, with daylight saving")),
    "aedt": _t(_ABBR, ("Australia/Sydney", "eastern Australia, with daylight saving")),
    "acst": _t(_ABBR, ("Australia/Adelaide", "South Australia")),
    "awst": _t(_ABBR, ("Australia/Perth", "Western Australia")),
    "nzst": _t(_ABBR, ("Pacific/Auckland", "New Zealand")),
    "nzdt": _t(_ABBR, ("Pacific/Auckland", "New Zealand")),
    "brt": _t(_ABBR, ("America/Sao_Paulo", "Brasília time")),
    "art": _t(_ABBR, ("America/Argentina/Buenos_Aires", "Argentina")),
    "sast": _t(_ABBR, ("Africa/Johannesburg", "South Africa")),
    "wat": _t(_ABBR, ("Africa/Lagos", "West Africa")),
    "cat": _t(_ABBR, ("Africa/Maputo", "Central Africa")),
    "eat": _t(_ABBR, ("Africa/Nairobi", "East Africa")),
}
# tzdb links to Etc/GMT ("GMT", "Greenwich", "GMT0", ...) are caught as the "gmt" trap.
_GMT_TARGET = "Etc/GMT"

# "UTC+2", "GMT-05:30", "+02:00", "Etc/GMT+2", "utc +5"
_OFFSET = re.compile(
    r"^(?P<etc>etc/)?(?P<base>utc|gmt|ut)?\s*(?P<sign>[+\-−])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?$"
)
_HOST_KEYS = frozenset(("localtime", "posixrules", "factory", "zone.tab", "leapseconds"))


def _trap_message(typed: str, trap: _Trap) -> str:
    if not trap.zones:
        return f"{code_span(typed)} is {trap.what}: type your city instead, {_EXAMPLES}."
    options = " or ".join(f"`{zone}` ({about})" for zone, about in trap.zones)
    return f"{code_span(typed)} is {trap.what}. Use {options}, or type your city."


def _offset_message(typed: str, match: re.Match[str]) -> str:
    hours = int(match["h"])
    minutes = int(match["m"] or 0)
    sign = "-" if match["sign"] in "-−" else "+"
    if match["etc"] and match["base"] == "gmt":
        real = "+" if sign == "-" else "-"
        clock = f"{hours}" if not minutes else f"{hours}:{minutes:02d}"
        return (
            f"{code_span(typed)} means UTC{real}{clock} (these names reverse the sign) and never "
            f"follows daylight saving: type your city instead, {_EXAMPLES}."
        )
    return (
        f"{code_span(typed)} is a fixed offset: it stays the same when your clocks change for "
        f"summer. Type your city instead ({_EXAMPLES}), so the bot follows your clocks all year."
    )


# ---------------------------------------------------------------------------------- index


def _fold(text: str) -> str:
    """Lower case, no accents, punctuation and underscores as single spaces ("São_Paulo" -> "sao paulo")."""
    decomposed = unicodedata.normalize("NFKD", text.replace("_", " "))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = plain.replace("'", "").replace("’", "").replace(".", "")
    return " ".join(re.sub(r"[^\w/]+", " ", plain).split())


def _fold_name(name: str) -> str:
    """A full zone name folded part by part: "America/New_York" -> "america/new york"."""
    return "/".join(_fold(part) for part in name.split("/"))


def _city(name: str) -> str:
    return name.rsplit("/", 1)[-1].replace("_", " ")


@dataclass(frozen=True, slots=True)
class _Zone:
    name: str
    city: str
    countries: tuple[str, ...]  # codes; the first is the zone's own country
    comment: str


@dataclass(frozen=True, slots=True)
class _Entry:
    """One searchable city: a canonical zone's own, or a link's (old or sibling city name)."""

    city: str
    city_key: str
    name_key: str  # the folded full name typed to find it ("asia/calcutta")
    country: str  # code
    value: str  # canonical zone
    is_link: bool
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Country:
    code: str
    name: str
    own: tuple[str, ...]  # zones listing this country first, in tzdb's order (most populous first)
    shared: tuple[str, ...]  # zones of other countries that also cover part of it


@dataclass(frozen=True, slots=True)
class _Index:
    zones: dict[str, _Zone]  # canonical name -> zone
    by_name: dict[str, str]  # casefolded canonical name or link -> canonical target
    link_targets: dict[str, str]  # casefolded link -> its target as tzdb has it
    entries: tuple[_Entry, ...]
    by_city: dict[str, tuple[str, ...]]  # folded city -> canonical zones
    countries: dict[str, _Country]  # code -> country
    by_country: dict[str, str]  # folded country name, code or alias -> code
    folders: dict[str, str]  # casefolded folder ("america/argentina") -> as spelled
    major: frozenset[str]  # popular zones and each country's first own zone: listed first
    suggestion_keys: tuple[str, ...]  # for "did you mean"


def _read(name: str) -> str:
    return resources.files("tzdata.zoneinfo").joinpath(name).read_text(encoding="utf-8")


def _rows(text: str) -> Iterable[list[str]]:
    for line in text.splitlines():
        if line and not line.startswith("#"):
            yield line.split("\t")


@cache
def _index() -> _Index:
    country_names = {row[0]: row[1] for row in _rows(_read("iso3166.tab"))}
    zones: dict[str, _Zone] = {}
    for row in _rows(_read("zone1970.tab")):
        codes, _coords, name = row[0], row[1], row[2]
        comment = row[3] if len(row) > 3 else ""
        zones[name] = _Zone(name, _city(name), tuple(codes.split(",")), comment)

    links: dict[str, str] = {}
    for line in _read("tzdata.zi").splitlines():
        if line.startswith("L "):
            _, target, link = line.split()
            links[link] = target

    by_name = {name.casefold(): name for name in zones}
    for link, target in links.items():
        if target in zones:
            by_name.setdefault(link.casefold(), target)

    # Cities: each canonical zone's, then links' (zone.tab cities first, they carry a country).
    entries: list[_Entry] = []

    def add(city_name: str, country: str, value: str, is_link: bool) -> None:
        city = _city(city_name)
        key = _fold(city)
        entries.append(
            _Entry(city, key, _fold_name(city_name), country, value, is_link, tuple(key.split()))
        )

    for zone in zones.values():
        add(zone.name, zone.countries[0], zone.name, False)
    tab_links: set[str] = set()
    for row in _rows(_read("zone.tab")):
        code, name = row[0], row[2]
        linked = links.get(name)
        if name not in zones and linked is not None and linked in zones:
            add(name, code, linked, True)
            tab_links.add(name)
    for link, target in sorted(links.items()):
        area = link.split("/", 1)[0]
        if (
            target in zones
            and link not in tab_links
            and area in _AREAS
            and "/" in link
            and link not in _NOT_CITIES
        ):
            add(link, zones[target].countries[0], target, True)

    for city_name, (value, code) in _MORE_CITIES.items():
        add(city_name, code, value, True)

    by_city: dict[str, list[str]] = {}
    for entry in entries:
        found = by_city.setdefault(entry.city_key, [])
        if entry.value not in found:
            found.append(entry.value)

    countries: dict[str, _Country] = {}
    for code, name in country_names.items():
        own = tuple(z.name for z in zones.values() if z.countries[0] == code)
        shared = tuple(z.name for z in zones.values() if code in z.countries[1:])
        if own or shared:
            countries[code] = _Country(code, name, own, shared)
    by_country: dict[str, str] = {}
    for code, country in countries.items():
        by_country[code.casefold()] = code
        by_country.setdefault(_fold(country.name), code)
    for alias, code in _COUNTRY_ALIASES.items():
        if code in countries:
            by_country.setdefault(alias, code)

    folders: dict[str, str] = {}
    for name in (*zones, *links):
        parts = name.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            folders.setdefault(folder.casefold(), folder)
    folders["etc"] = "Etc"

    suggestion_keys = tuple(sorted({*by_city, *(k for k in by_country if len(k) > 3)}))
    return _Index(
        zones=zones,
        by_name=by_name,
        link_targets={link.casefold(): target for link, target in links.items()},
        entries=tuple(entries),
        by_city={k: tuple(v) for k, v in by_city.items()},
        countries=countries,
        by_country=by_country,
        folders=folders,
        major=frozenset((*_POPULAR, *(c.own[0] for c in countries.values() if c.own))),
        suggestion_keys=suggestion_keys,
    )


def _country_name(code: str) -> str:
    country = _index().countries.get(code)
    return country.name if country else code


def _label(city: str, place: str, value: str) -> str:
    """ "Berlin — Germany (Europe/Berlin)", with the place shortened to fit Discord's 100."""
    tail = f" ({value})"
    head = f"{city} — "
    room = LABEL_MAX - len(head) - len(tail)
    if len(place) > room:
        place = place[: max(room - 1, 0)].rstrip(" ,(") + "…"
    return f"{head}{place}{tail}"[:LABEL_MAX]


def _place(zone: _Zone, country: str) -> str:
    """The country, plus tzdb's comment where the country has more than one zone."""
    index = _index()
    name = _country_name(country)
    info = index.countries.get(country)
    several = info is not None and len(info.own) + len(info.shared) > 1
    if several and zone.comment:
        # tzdb's comment often names the country already ("most of Germany").
        return zone.comment if name in zone.comment else f"{name}, {zone.comment}"
    return name


@cache
def _zone_label(value: str, city: str | None = None, country: str | None = None) -> str:
    if value == UTC:
        return "UTC — no daylight saving (UTC)"
    zone = _index().zones[value]
    country = country or zone.countries[0]
    return _label(city or zone.city, _place(zone, country), value)


def zone_label(name: str) -> str:
    """A readable label for a zone ("Berlin — Germany (Europe/Berlin)"); the name itself if unknown."""
    index = _index()
    if name in index.zones or name == UTC:
        return _zone_label(name)
    target = index.by_name.get(name.casefold())
    if target is not None:
        entry = next((e for e in index.entries if e.name_key == _fold_name(name)), None)
        if entry is not None:
            return _zone_label(target, entry.city, entry.country)
        return _zone_label(target)
    return name


# ---------------------------------------------------------------------------------- resolve


def resolve_timezone(text: str) -> str:
    """The canonical IANA zone for what a member typed; ``BadTimezone`` with why, if none.

    See the module's docstring for what is accepted and refused.
    """
    typed = " ".join(text.split())
    if not typed:
        raise BadTimezone(f"Type your city or timezone, {_EXAMPLES}.")
    key = typed.casefold().rstrip("/")
    index = _index()

    if key in _UTC_NAMES:
        return UTC
    _refuse_traps(typed, key)
    target = index.by_name.get(key)
    if target is not None:
        return target

    folded = _fold(typed)
    found = _by_place(typed, folded)
    if found is not None:
        return found
    if "," in typed:
        # "Berlin, Germany": the city decides.
        try:
            return resolve_timezone(typed.split(",", 1)[0])
        except BadTimezone:
            pass

    if key in index.folders:
        folder = index.folders[key]
        example = _FOLDER_EXAMPLES.get(folder)
        if folder == "Etc":
            hint = "type your city, or `UTC` for no daylight saving at all"
        elif example is None:
            example = next(z for z in index.zones if z.startswith(folder + "/"))
            hint = f"type your city, e.g. `{_city(example)}` or `{example}`"
        else:
            hint = f"type your city, e.g. `{_city(example)}` or `{example}`"
        raise BadTimezone(
            f"{code_span(folder)} is a region of the timezone list, not a timezone: {hint}."
        )

    near = [value for _label, value in _choices(folded, key, 3)]
    if not near:
        close = difflib.get_close_matches(folded, index.suggestion_keys, n=1, cutoff=0.8)
        if close:
            near = [value for _label, value in _choices(close[0], close[0], 1)]
    if near:
        options = " or ".join(f"`{value}`" for value in near)
        raise BadTimezone(
            f"{code_span(typed)} is not a timezone I know. Did you mean {options}? "
            "Type your city or pick one from the list."
        )
    raise BadTimezone(
        f"{code_span(typed)} is not a timezone I know: type your city or country and pick one "
        f"from the list, {_EXAMPLES}."
    )


def _refuse_traps(typed: str, key: str) -> None:
    index = _index()
    trap = _TRAPS.get(key)
    if trap is None and (index.link_targets.get(key) == _GMT_TARGET or key == "etc/gmt"):
        trap = _TRAPS["gmt"]
    if trap is not None:
        raise BadTimezone(_trap_message(typed, trap))
    match = _OFFSET.match(key.replace(" ", ""))
    if match:
        if int(match["h"]) == 0 and int(match["m"] or 0) == 0 and match["base"] != "gmt":
            return  # "UTC+0", "+00:00" are plain UTC; _UTC_NAMES covers the usual spellings
        raise BadTimezone(_offset_message(typed, match))
    first = key.split("/", 1)[0]
    if key in _HOST_KEYS or first in ("posix", "right") or key.startswith(("/", ".")):
        rest = typed.split("/", 1)[1] if first in ("posix", "right") and "/" in typed else ""
        meant = index.by_name.get(rest.casefold()) if rest else None
        use = f"use `{meant}`" if meant else f"type your city instead, {_EXAMPLES}"
        raise BadTimezone(
            f"{code_span(typed)} depends on the machine the bot runs on, not on where you are: {use}."
        )


def _by_place(typed: str, folded: str) -> str | None:
    """A city or a country's single zone; ``BadTimezone`` listing choices when there are several."""
    index = _index()
    zones = index.by_city.get(folded)
    if zones is not None:
        if len(zones) == 1:
            return zones[0]
        raise BadTimezone(_several(typed, zones))
    code = index.by_country.get(folded)
    if code is not None:
        country = index.countries[code]
        zones = country.own or country.shared
        if len(zones) == 1:
            return zones[0]
        raise BadTimezone(_several(typed, zones, country.name))
    return None


def _several(typed: str, zones: tuple[str, ...], country: str | None = None) -> str:
    shown = ", ".join(f"`{z}`" for z in zones[:5])
    more = f" and {len(zones) - 5} more" if len(zones) > 5 else ""
    who = country or code_span(typed)
    return (
        f"{who} has several timezones ({shown}{more}): type your city, or pick one from the list."
    )


# ---------------------------------------------------------------------------------- autocomplete


def timezone_choices(typed: str, limit: int = 25) -> list[tuple[str, str]]:
    """``(label, value)`` pairs for autocomplete, best first; every value resolves as it is.

    Order: UTC spellings and traps' suggestions (``EST`` offers ``America/New_York``), exact
    city, exact country (its own zones first), then cities starting with the text, full zone
    names starting with it (``europe/be``), countries starting with it, cities with a word
    starting with it (``york``), and anything containing it. Canonical cities come before old
    or sibling names of the same rank.
    """
    return list(_choices(_fold(typed), " ".join(typed.split()).casefold(), limit))


@lru_cache(maxsize=4096)
def _choices(folded: str, key: str, limit: int) -> tuple[tuple[str, str], ...]:
    index = _index()
    picked: dict[str, str] = {}

    def offer(value: str, label: str) -> None:
        if value not in picked and len(picked) < limit:
            picked[value] = label

    def result() -> tuple[tuple[str, str], ...]:
        return tuple((label, value) for value, label in picked.items())

    if not key:
        for value in _POPULAR:
            offer(value, _zone_label(value))
        return result()

    if key in _UTC_NAMES or folded in ("utc", "gmt"):
        offer(UTC, _zone_label(UTC))
    trap = _TRAPS.get(key)
    if trap is not None:
        for value, _about in trap.zones:
            offer(value, _zone_label(value))
    elif key in index.by_name:
        offer(index.by_name[key], zone_label(key))
    if not folded:
        return result()

    # (rank, minor zone?, sort key, value, city, country); labels are made for the winners only.
    ranked: list[tuple[int, bool, str, str, str | None, str | None]] = []
    for entry in index.entries:
        if entry.city_key == folded:
            rank = 0
        elif entry.city_key.startswith(folded):
            rank = 4
        elif entry.name_key.startswith(folded):
            rank = 6
        elif any(word.startswith(folded) for word in entry.words[1:]):
            rank = 10
        elif folded in entry.city_key or folded in entry.name_key:
            rank = 12
        else:
            continue
        minor = entry.value not in index.major
        ranked.append(
            (rank + entry.is_link, minor, entry.city_key, entry.value, entry.city, entry.country)
        )
    code = index.by_country.get(folded)
    countries: list[tuple[int, str]] = []
    if code is not None:
        countries.append((2, code))
    if len(folded) >= 2:
        countries.extend(
            (8, other)
            for name, other in index.by_country.items()
            if other != code and len(name) > 2 and name.startswith(folded)
        )
    seen: set[str] = set()
    for rank, country_code in countries:
        if country_code in seen:
            continue
        seen.add(country_code)
        country = index.countries[country_code]
        for order, value in enumerate((*country.own, *country.shared)):
            ranked.append((rank, False, f"{order:04d}", value, None, country_code))

    ranked.sort(key=lambda item: item[:3])
    for _rank, _minor, _sort, value, city, country_of in ranked:
        if value not in picked:
            offer(value, _zone_label(value, city, country_of))
            if len(picked) >= limit:
                break
    return result()


# ---------------------------------------------------------------------------------- stored zones


def is_usable_zone(name: str) -> bool:
    """Whether a stored zone name loads on this host and means a place, not the host's clock.

    False for names ``ZoneInfo`` cannot load (typos, folders such as ``America``, empty text)
    and for host-specific keys (``localtime``, ``posixrules``, ``Factory``, ``posix/...``,
    ``right/...``). True for old but valid names (``US/Eastern``, even ``EST``): they load and
    keep working; ``resolve_timezone`` is what steers new input away from them.
    """
    return _loaded(name) is not None


# Every command reads a member's and a server's zone; ZoneInfo keeps only 8 zones it is not
# handed back, so with many members' zones most calls read the tz file again. The names in use
# are few, and a host's tz data does not change under a running process.
@lru_cache(maxsize=4096)
def _loaded(name: str) -> ZoneInfo | None:
    key = name.casefold()
    if key in _HOST_KEYS or key.split("/", 1)[0] in ("posix", "right"):
        return None
    try:
        return ZoneInfo(name)
    except Exception:  # ValueError, ZoneInfoNotFoundError, IsADirectoryError, ...
        return None


_warned: set[tuple[str, str]] = set()


def safe_zone(name: str | None, fallback: str = UTC) -> ZoneInfo:
    """``ZoneInfo(name)``, or the fallback zone when ``name`` is not usable; never raises.

    Logs a warning once per (name, fallback) so that a bad zone stored for one server or member
    is visible without flooding the log at every post. If ``fallback`` itself is not usable,
    UTC is used.
    """
    zone = _loaded(name) if name else None
    if zone is not None:
        return zone
    use = fallback if is_usable_zone(fallback) else UTC
    if (name or "", use) not in _warned:
        _warned.add((name or "", use))
        log.warning("Timezone %r cannot be used; using %s instead", name, use)
    return ZoneInfo(use)
