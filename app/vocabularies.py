"""Controlled vocabularies: lower snake_case codes with human labels.

Each is a StrEnum so it appears as an enum in the OpenAPI schema; GET /api/v1/vocabularies
lists them with labels. Adding a value is a code change, not a schema migration.
"""

from enum import StrEnum


class RegionKind(StrEnum):
    country = "country"
    province = "province"
    autonomous_region = "autonomous_region"
    municipality = "municipality"
    special_administrative_region = "special_administrative_region"
    prefecture = "prefecture"
    city = "city"
    district = "district"
    county = "county"
    special_zone = "special_zone"
    free_trade_zone = "free_trade_zone"
    economic_zone = "economic_zone"
    science_park = "science_park"
    supranational = "supranational"
    other = "other"


class ActorKind(StrEnum):
    party_organ = "party_organ"
    state_body = "state_body"
    ministry = "ministry"
    agency = "agency"
    local_government = "local_government"
    legislature = "legislature"
    person = "person"
    university = "university"
    research_institute = "research_institute"
    company = "company"
    forum_event = "forum_event"
    foreign_government = "foreign_government"
    international_organization = "international_organization"
    ngo = "ngo"
    media = "media"
    other = "other"


class PolicyKind(StrEnum):
    plan = "plan"
    strategy = "strategy"
    law = "law"
    amendment = "amendment"
    regulation = "regulation"
    measure = "measure"
    fund = "fund"
    zone_designation = "zone_designation"
    programme = "programme"
    export_control = "export_control"
    sanction = "sanction"
    initiative = "initiative"
    meeting_decision = "meeting_decision"
    policy_statement = "policy_statement"
    other = "other"


class PolicyStatus(StrEnum):
    planned = "planned"
    in_force = "in_force"
    ended = "ended"
    superseded = "superseded"
    unknown = "unknown"


class Topic(StrEnum):
    artificial_intelligence = "artificial_intelligence"
    science_technology = "science_technology"
    talent = "talent"
    education = "education"
    research = "research"
    investment = "investment"
    foreign_investment = "foreign_investment"
    industry = "industry"
    trade = "trade"
    security = "security"
    immigration = "immigration"
    intellectual_property = "intellectual_property"
    data = "data"
    semiconductors = "semiconductors"
    telecommunications = "telecommunications"
    infrastructure = "infrastructure"
    rural_development = "rural_development"
    economic_development = "economic_development"
    innovation = "innovation"


class ActorRole(StrEnum):
    issuer = "issuer"
    implementer = "implementer"
    target = "target"
    partner = "partner"
    funder = "funder"
    beneficiary = "beneficiary"
    subject = "subject"
    contributor = "contributor"
    host = "host"


class RegionRole(StrEnum):
    jurisdiction = "jurisdiction"
    target = "target"
    location = "location"


class PolicyRelationType(StrEnum):
    implements = "implements"
    supports = "supports"
    amends = "amends"
    supersedes = "supersedes"
    responds_to = "responds_to"
    part_of = "part_of"
    extends = "extends"
    related_to = "related_to"


class GoalStatus(StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    achieved = "achieved"
    missed = "missed"
    unknown = "unknown"


VOCABULARIES: dict[str, type[StrEnum]] = {
    "region_kind": RegionKind,
    "actor_kind": ActorKind,
    "policy_kind": PolicyKind,
    "policy_status": PolicyStatus,
    "topic": Topic,
    "actor_role": ActorRole,
    "region_role": RegionRole,
    "policy_relation": PolicyRelationType,
    "goal_status": GoalStatus,
}

_LABEL_OVERRIDES = {
    "ngo": "NGO",
    "science_technology": "Science and technology",
    "special_administrative_region": "Special administrative region",
}


def label(value: str) -> str:
    """A human label for a code: ``zone_designation`` -> ``Zone designation``."""
    return _LABEL_OVERRIDES.get(value, value.replace("_", " ").capitalize())
