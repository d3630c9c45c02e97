"""A deterministic generator of realistic policydb bundles, streamed to a JSON file.

``write_bundle(path, policies=N, seed=S)`` writes one bundle with N policies, ~N/5 actors, a
fixed 3-level tree of 400 regions, 2N goals and one source that every record cites (1-2
citations per record, one per link). The same (N, seed) gives the same file byte for byte.
Records are written one at a time, so memory stays small whatever N is (only the policy
slugs are kept, for relations and goals).
"""

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

GENERATOR_VERSION = 1  # bump when the output changes, so cached bundles are regenerated
DEFAULT_SEED = 20201221

SOURCE_SLUG = "bench-synthetic-gazette"
SEARCH_WORD = "hydrogen"  # in ~1% of policy summaries: the text-search query looks for it
SEARCH_SHARE = 0.01
FILTER_KIND = "plan"

# (slug prefix, name, ISO 3166-1 code, currency): the only regions that carry an ISO code.
COUNTRIES = [
    ("cn", "China", "CN", "CNY"),
    ("us", "United States", "US", "USD"),
    ("de", "Germany", "DE", "EUR"),
    ("jp", "Japan", "JP", "JPY"),
    ("fr", "France", "FR", "EUR"),
    ("in", "India", "IN", "INR"),
    ("br", "Brazil", "BR", "BRL"),
    ("kr", "South Korea", "KR", "KRW"),
]
PROVINCES_PER_COUNTRY = 7
CITIES_PER_PROVINCE = 6  # 8 + 56 + 336 = 400 regions

_SYLLABLES = [
    "an",
    "ba",
    "chen",
    "da",
    "fen",
    "gao",
    "hai",
    "jin",
    "kai",
    "lan",
    "ming",
    "nan",
    "ping",
    "qing",
    "rui",
    "shan",
    "tai",
    "wen",
    "xi",
    "yang",
    "zhou",
    "bel",
    "dor",
    "fal",
    "gar",
    "hel",
    "kor",
    "lin",
    "mar",
    "nor",
    "ost",
    "ran",
    "sel",
    "tor",
    "val",
    "wes",
]
_PROVINCE_KINDS = ["province", "province", "province", "autonomous_region", "municipality"]
_CITY_KINDS = ["city", "city", "city", "district", "prefecture", "special_zone", "science_park"]

_ACTOR_KINDS = [
    ("ministry", "Ministry of {field}"),
    ("agency", "{region} {field} Agency"),
    ("local_government", "{region} Municipal Government"),
    ("state_body", "{region} Development and Reform Commission"),
    ("party_organ", "{region} Party Committee"),
    ("legislature", "{region} People's Congress"),
    ("university", "{region} University of {field}"),
    ("research_institute", "{region} Institute of {field}"),
    ("company", "{surname} {field} Group"),
    ("person", "{given} {surname}"),
    ("forum_event", "{region} {field} Forum"),
    ("ngo", "{region} {field} Foundation"),
]
_FIELDS = [
    "Science and Technology",
    "Industry and Information Technology",
    "Education",
    "Commerce",
    "Finance",
    "Transport",
    "Energy",
    "Health",
    "Agriculture",
    "Artificial Intelligence",
    "Semiconductors",
    "Data",
    "Innovation",
    "Trade",
    "Human Resources",
    "Ecology",
]
_SURNAMES = [
    "Chen",
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Müller",
    "Schmidt",
    "Tanaka",
    "Sato",
    "Dubois",
    "Martin",
    "Sharma",
    "Silva",
    "Kim",
]
_GIVEN = [
    "Wei",
    "Fang",
    "Jun",
    "Lei",
    "Anna",
    "Klaus",
    "Yuki",
    "Hiro",
    "Claire",
    "Louis",
    "Priya",
    "Ravi",
    "Ana",
    "Joon",
]

_ADJECTIVES = [
    "National",
    "Provincial",
    "Municipal",
    "Comprehensive",
    "Special",
    "Three-Year",
    "Five-Year",
    "Medium-Term",
    "Integrated",
    "Pilot",
    "Strategic",
    "Action",
    "New-Generation",
    "Green",
    "Digital",
    "Regional",
]
_SUBJECTS = [
    "Artificial Intelligence",
    "Talent Development",
    "Semiconductor Industry",
    "Data Security",
    "Digital Economy",
    "Smart Manufacturing",
    "Research Funding",
    "Higher Education",
    "Foreign Investment",
    "Export Control",
    "Rural Revitalisation",
    "5G Networks",
    "Intellectual Property",
    "Innovation Zones",
    "Venture Capital",
    "Cloud Computing",
    "Robotics",
    "Biomedicine",
    "New Energy Vehicles",
    "Open Data",
]
_KIND_NOUNS = {
    "plan": "Plan",
    "strategy": "Strategy",
    "law": "Law",
    "amendment": "Amendment",
    "regulation": "Regulations",
    "measure": "Measures",
    "fund": "Fund",
    "zone_designation": "Zone Designation",
    "programme": "Programme",
    "export_control": "Export Controls",
    "sanction": "Sanctions",
    "initiative": "Initiative",
    "meeting_decision": "Meeting Decision",
    "policy_statement": "Policy Statement",
    "other": "Notice",
}
_KIND_WEIGHTS = [12, 4, 3, 2, 8, 10, 5, 3, 6, 2, 2, 6, 3, 3, 2]
_STATUSES = ["in_force", "planned", "ended", "superseded", "unknown"]
_STATUS_WEIGHTS = [50, 15, 10, 5, 20]
_TOPICS = [
    "artificial_intelligence",
    "science_technology",
    "talent",
    "education",
    "research",
    "investment",
    "foreign_investment",
    "industry",
    "trade",
    "security",
    "immigration",
    "intellectual_property",
    "data",
    "semiconductors",
    "telecommunications",
    "infrastructure",
    "rural_development",
    "economic_development",
    "innovation",
]
_ACTOR_ROLES = [
    "issuer",
    "implementer",
    "target",
    "partner",
    "funder",
    "beneficiary",
    "subject",
    "contributor",
    "host",
]
_REGION_ROLES = ["jurisdiction", "target", "location"]
_RELATIONS = [
    "implements",
    "supports",
    "amends",
    "supersedes",
    "responds_to",
    "part_of",
    "extends",
    "related_to",
]
_GOAL_STATUSES = ["not_started", "in_progress", "achieved", "missed", "unknown"]
_UNITS = ["persons", "enterprises", "billion CNY", "percent", "projects", "parks", "GW"]
_WORDS = [
    "support",
    "build",
    "develop",
    "promote",
    "strengthen",
    "accelerate",
    "cultivate",
    "establish",
    "improve",
    "deepen",
    "coordinate",
    "integrate",
    "expand",
    "guide",
    "encourage",
    "enterprises",
    "universities",
    "talent",
    "platforms",
    "clusters",
    "industrial",
    "chain",
    "computing",
    "power",
    "algorithms",
    "standards",
    "pilot",
    "zones",
    "funds",
    "infrastructure",
    "research",
    "applications",
    "training",
    "demonstration",
    "projects",
    "capacity",
    "international",
    "cooperation",
    "security",
    "governance",
    "innovation",
    "ecosystem",
    "key",
    "technologies",
    "manufacturing",
    "services",
    "supply",
    "chain",
    "open",
    "data",
    "healthcare",
    "transport",
    "energy",
    "agriculture",
]
_SECTIONS = ["Introduction", "Background", "Main tasks", "Safeguards", "Implementation", "Annex"]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class RegionSpec:
    slug: str
    name: str
    kind: str
    parent: str | None
    iso_code: str | None
    currency: str


def region_tree(seed: int = DEFAULT_SEED) -> list[RegionSpec]:
    """The fixed 3-level tree: 8 countries, 7 provinces each, 6 cities per province."""
    rng = random.Random(f"{seed}:regions")
    regions: list[RegionSpec] = []
    used: set[str] = set()

    def name() -> str:
        while True:
            word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
            if word not in used:
                used.add(word)
                return word

    for prefix, country, iso, currency in COUNTRIES:
        regions.append(RegionSpec(prefix, country, "country", None, iso, currency))
        for _ in range(PROVINCES_PER_COUNTRY):
            province = name()
            p_slug = f"{prefix}-{slugify(province)}"
            regions.append(
                RegionSpec(p_slug, province, rng.choice(_PROVINCE_KINDS), prefix, None, currency)
            )
            for _ in range(CITIES_PER_PROVINCE):
                city = name()
                regions.append(
                    RegionSpec(
                        f"{p_slug}-{slugify(city)}",
                        city,
                        rng.choice(_CITY_KINDS),
                        p_slug,
                        None,
                        currency,
                    )
                )
    return regions


def filter_region(seed: int = DEFAULT_SEED) -> str:
    """The region the sub-region filter query asks for: the first province of China."""
    return next(r.slug for r in region_tree(seed) if r.parent == "cn")


def actor_count(policies: int) -> int:
    return max(10, policies // 5)


def record_count(policies: int) -> int:
    """How many records the bundle for ``policies`` holds (sources to goals)."""
    regions = len(COUNTRIES) * (1 + PROVINCES_PER_COUNTRY * (1 + CITIES_PER_PROVINCE))
    return 1 + regions + actor_count(policies) + policies + 2 * policies


def _partial(rng: random.Random, day: date) -> str:
    roll = rng.random()
    if roll < 0.55:
        return day.isoformat()
    if roll < 0.85:
        return day.strftime("%Y-%m")
    return str(day.year)


def _citation(rng: random.Random, phrase: str) -> dict[str, Any]:
    citation: dict[str, Any] = {
        "source": SOURCE_SLUG,
        "section": rng.choice(_SECTIONS),
        "paragraph": rng.randint(1, 40),
        "excerpt": phrase[:200],
    }
    return citation


def _citations(rng: random.Random, phrase: str) -> list[dict[str, Any]]:
    return [_citation(rng, phrase) for _ in range(rng.randint(1, 2))]


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize() + "."


class _Generator:
    def __init__(self, policies: int, seed: int) -> None:
        self.n = policies
        self.seed = seed
        self.rng = random.Random(seed)
        self.regions = region_tree(seed)
        self.n_actors = actor_count(policies)
        self.actor_slugs: list[str] = []
        self.policy_slugs: list[str] = []
        # Regions by level, for link choices: countries, provinces, cities.
        self.levels = [
            [r for r in self.regions if r.parent is None],
            [r for r in self.regions if r.parent is not None and "-" not in r.parent],
            [r for r in self.regions if r.parent is not None and "-" in r.parent],
        ]

    def sources(self) -> Iterator[dict[str, Any]]:
        yield {
            "slug": SOURCE_SLUG,
            "title": "Synthetic Policy Gazette (benchmark data)",
            "publisher": "policydb bench",
            "published": "2024",
            "language": "en",
        }

    def region_records(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for r in self.regions:
            record: dict[str, Any] = {"slug": r.slug, "name": r.name, "kind": r.kind}
            if r.iso_code:
                record["iso_code"] = r.iso_code
            if r.parent:
                record["parent"] = r.parent
            record["citations"] = _citations(rng, f"{r.name} is a {r.kind.replace('_', ' ')}")
            yield record

    def _region(self) -> RegionSpec:
        roll = self.rng.random()
        level = 0 if roll < 0.25 else 1 if roll < 0.65 else 2
        return self.rng.choice(self.levels[level])

    def actors(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for i in range(self.n_actors):
            kind, pattern = rng.choice(_ACTOR_KINDS)
            region = self._region()
            name = pattern.format(
                field=rng.choice(_FIELDS),
                region=region.name,
                surname=rng.choice(_SURNAMES),
                given=rng.choice(_GIVEN),
            )
            slug = f"{slugify(name)[:80].strip('-')}-{i + 1}"
            record: dict[str, Any] = {"slug": slug, "name": name, "kind": kind}
            if rng.random() < 0.85:
                record["region"] = region.slug
            if self.actor_slugs and rng.random() < 0.2:
                record["parent"] = rng.choice(self.actor_slugs[-200:])
            if rng.random() < 0.3:
                record["aliases"] = ["".join(w[0] for w in name.split() if w[0].isupper())]
            record["citations"] = _citations(rng, f"{name} said")
            self.actor_slugs.append(slug)
            yield record

    def _actor(self) -> str:
        # A few actors (the big ministries) appear in many policies, as in real data.
        rng = self.rng
        if rng.random() < 0.3:
            return self.actor_slugs[rng.randrange(max(1, len(self.actor_slugs) // 20))]
        return rng.choice(self.actor_slugs)

    def policies(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        kinds = list(_KIND_NOUNS)
        for i in range(self.n):
            kind = rng.choices(kinds, _KIND_WEIGHTS)[0]
            status = rng.choices(_STATUSES, _STATUS_WEIGHTS)[0]
            home = self._region()
            day = date(1995, 1, 1) + timedelta(days=rng.randrange(30 * 365))
            title = (
                f"{home.name} {rng.choice(_ADJECTIVES)} {rng.choice(_SUBJECTS)} "
                f"{_KIND_NOUNS[kind]} ({day.year})"
            )
            slug = f"{slugify(title)[:90].strip('-')}-{i + 1}"
            summary = " ".join(_sentence(rng, rng.randint(8, 16)) for _ in range(rng.randint(1, 3)))
            if rng.random() < SEARCH_SHARE:
                summary += f" Includes {SEARCH_WORD} fuel cell demonstration projects."
            record: dict[str, Any] = {"slug": slug, "title": title, "kind": kind}
            record["status"] = status
            if rng.random() < 0.2:
                record["short_name"] = "".join(w[0] for w in title.split()[:5]).upper()
            if rng.random() < 0.1:
                record["titles"] = {"zh": "关于促进人工智能发展的实施意见"}
            record["summary"] = summary
            if rng.random() < 0.2:
                record["identifiers"] = [
                    {"scheme": "doc-number", "value": f"GF-{day.year}-{rng.randint(1, 999)}"}
                ]
            if rng.random() < 0.95:
                record["announced"] = _partial(rng, day)
            if status in ("in_force", "ended", "superseded") and rng.random() < 0.6:
                record["in_force_from"] = str(day.year + 1)
                if status != "in_force":
                    record["in_force_to"] = str(day.year + 1 + rng.randint(1, 6))
            if kind == "fund" or rng.random() < 0.1:
                record["money"] = {
                    "amount": str(rng.randint(1, 5000) * 10_000_000),
                    "currency": home.currency,
                    "approximate": rng.random() < 0.3,
                }
            record["topics"] = sorted(rng.sample(_TOPICS, rng.randint(1, 3)))
            actors: dict[tuple[str, str], dict[str, Any]] = {}
            for position in range(rng.randint(1, 4)):
                role = "issuer" if position == 0 else rng.choice(_ACTOR_ROLES)
                actor = self._actor()
                actors[(actor, role)] = {
                    "actor": actor,
                    "role": role,
                    "citations": [_citation(rng, f"issued by {actor}")],
                }
            record["actors"] = list(actors.values())
            regions: dict[tuple[str, str], dict[str, Any]] = {}
            for position in range(rng.randint(1, 3)):
                region = home if position == 0 else self._region()
                role = "jurisdiction" if position == 0 else rng.choice(_REGION_ROLES)
                regions[(region.slug, role)] = {
                    "region": region.slug,
                    "role": role,
                    "citations": [_citation(rng, f"applies in {region.name}")],
                }
            record["regions"] = list(regions.values())
            if self.policy_slugs and rng.random() < 0.3:
                target = rng.choice(self.policy_slugs[-5000:])
                record["related"] = [
                    {
                        "policy": target,
                        "relation": rng.choice(_RELATIONS),
                        "citations": [_citation(rng, "in line with the earlier plan")],
                    }
                ]
            record["citations"] = _citations(rng, title)
            self.policy_slugs.append(slug)
            yield record

    def goals(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for j in range(2 * self.n):
            policy = self.policy_slugs[j // 2]
            unit = rng.choice(_UNITS)
            target = rng.randint(1, 1000) * 10
            year = rng.randint(2015, 2035)
            record: dict[str, Any] = {
                "slug": f"goal-{j + 1}-{policy[:60].rstrip('-')}",
                "statement": f"Reach {target} {unit} by {year}: {_sentence(rng, 6)}",
                "policy": policy,
            }
            if rng.random() < 0.2:
                record["actor"] = self._actor()
            record["metric"] = rng.choice(_WORDS) + " " + rng.choice(_WORDS)
            record["target_value"] = str(target)
            record["unit"] = unit
            if rng.random() < 0.3:
                record["baseline_value"] = str(target // rng.randint(2, 10))
            record["deadline"] = (
                str(year) if rng.random() < 0.7 else f"{year}-{rng.randint(1, 12):02d}"
            )
            record["stage"] = j % 2 + 1
            record["status"] = rng.choice(_GOAL_STATUSES)
            record["citations"] = _citations(rng, f"by {year}")
            yield record


def _write_section(out: IO[str], name: str, records: Iterator[dict[str, Any]]) -> int:
    out.write(f',\n"{name}": [')
    count = 0
    for record in records:
        out.write("\n" if count == 0 else ",\n")
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        count += 1
    out.write("\n]")
    return count


def write_bundle(path: Path, *, policies: int, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Write a bundle with ``policies`` policies to ``path``; return records per section."""
    gen = _Generator(policies, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    counts: dict[str, int] = {}
    with tmp.open("w", encoding="utf-8") as out:
        out.write('{"format":"policydb-bundle","version":1')
        counts["sources"] = _write_section(out, "sources", gen.sources())
        counts["regions"] = _write_section(out, "regions", gen.region_records())
        counts["actors"] = _write_section(out, "actors", gen.actors())
        counts["policies"] = _write_section(out, "policies", gen.policies())
        counts["goals"] = _write_section(out, "goals", gen.goals())
        out.write("}\n")
    tmp.replace(path)
    return counts


def ensure_bundle(data_dir: Path, *, policies: int, seed: int = DEFAULT_SEED) -> Path:
    """The bundle for (policies, seed), generated only if not already on disk."""
    path = data_dir / f"bundle-{policies}-s{seed}-v{GENERATOR_VERSION}.json"
    if not path.exists():
        write_bundle(path, policies=policies, seed=seed)
    return path
