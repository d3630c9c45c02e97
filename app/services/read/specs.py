"""The read document of each resource, declared once (see spec.py for what each element writes).

Key order is the JSON's order, and each document has the shape of its ``*Out`` schema: the
tests compare all three builders with each other and with pinned JSON.
"""

from app.models import (
    Actor,
    Citation,
    Goal,
    Policy,
    PolicyActor,
    PolicyRegion,
    PolicyRelation,
    PolicyTopic,
    Region,
    Source,
)
from app.resources.sources import EMBEDDED_SUPPORTS
from app.schemas.links import EMBEDDED_LINKS
from app.services.embedded import SUPPORTS
from app.services.read.spec import (
    Amount,
    Ancestors,
    Boolean,
    Citations,
    Count,
    DocumentSpec,
    Embedded,
    Field,
    Integer,
    JsonList,
    JsonObject,
    Nested,
    NullsLast,
    PartialDate,
    Reference,
    Text,
    Timestamp,
)

_RECORD_TAIL: tuple[Field, ...] = (Integer("id"), Timestamp("created_at"), Timestamp("updated_at"))
_GOAL_REF: tuple[Field, ...] = (
    Text("slug"),
    Text("statement"),
    PartialDate("deadline"),
    Integer("stage"),
)
_REGION_REF: tuple[Field, ...] = (Text("slug"), Text("name"), Text("kind"), Text("iso_code"))
# A policy as a region or actor lists it: the first EMBEDDED_LINKS links, in link order.
_LINKED_POLICY: tuple[Field, ...] = (
    Reference("policy", "policy_id", Policy),
    Reference("title", "policy_id", Policy, "title"),
    Text("role"),
)
_IDENTIFIERS = JsonList("identifiers", keys=("scheme", "value"))

POLICY_DOCUMENT = DocumentSpec(
    Policy,
    (
        Text("slug"),
        Text("title"),
        Text("short_name"),
        JsonObject("titles"),
        Text("kind"),
        Text("status"),
        Text("summary"),
        _IDENTIFIERS,
        PartialDate("announced"),
        PartialDate("in_force_from"),
        PartialDate("in_force_to"),
        Nested(
            "money",
            (
                Amount("amount", "money_amount"),
                Text("currency", "money_currency"),
                Boolean("approximate", "money_approximate"),
            ),
            unless_null=("money_amount", "money_currency"),
        ),
        Embedded("topics", PolicyTopic, "policy_id", ("topic",), Text("topic")),
        Embedded(
            "actors",
            PolicyActor,
            "policy_id",
            ("position", "id"),
            (
                Reference("actor", "actor_id", Actor),
                Text("role"),
                Citations("policy_actor_id"),
                Reference("actor_name", "actor_id", Actor, "name"),
            ),
        ),
        Embedded(
            "regions",
            PolicyRegion,
            "policy_id",
            ("position", "id"),
            (
                Reference("region", "region_id", Region),
                Text("role"),
                Citations("policy_region_id"),
                Reference("region_name", "region_id", Region, "name"),
            ),
        ),
        Embedded(
            "related",
            PolicyRelation,
            "policy_id",
            ("position", "id"),
            (
                Reference("policy", "related_policy_id", Policy),
                Text("relation"),
                Citations("policy_relation_id"),
                Reference("policy_title", "related_policy_id", Policy, "title"),
            ),
        ),
        Citations("policy_id"),
        *_RECORD_TAIL,
        Embedded(
            "related_from",
            PolicyRelation,
            "related_policy_id",
            ("id",),
            (
                Reference("policy", "policy_id", Policy),
                Reference("title", "policy_id", Policy, "title"),
                Text("role", "relation"),
            ),
        ),
        # Unstaged goals last on every engine (SQLite sorts NULL first, PostgreSQL last).
        Embedded("goals", Goal, "policy_id", (NullsLast("stage"), "id"), _GOAL_REF),
    ),
)

GOAL_DOCUMENT = DocumentSpec(
    Goal,
    (
        Text("slug"),
        Text("statement"),
        Reference("policy", "policy_id", Policy),
        Reference("actor", "actor_id", Actor),
        Text("metric"),
        Amount("target_value"),
        Text("unit"),
        Amount("baseline_value"),
        PartialDate("deadline"),
        Integer("stage"),
        Text("status"),
        Citations("goal_id"),
        *_RECORD_TAIL,
        Nested(
            "owners",
            (
                Reference("policy_title", "policy_id", Policy, "title"),
                Reference("actor_name", "actor_id", Actor, "name"),
            ),
        ),
    ),
)

ACTOR_DOCUMENT = DocumentSpec(
    Actor,
    (
        Text("slug"),
        Text("name"),
        JsonObject("names"),
        JsonList("aliases"),
        Text("kind"),
        Reference("region", "region_id", Region),
        Reference("parent", "parent_id", Actor),
        Text("description"),
        _IDENTIFIERS,
        Citations("actor_id"),
        *_RECORD_TAIL,
        Embedded(
            "children",
            Actor,
            "parent_id",
            ("name", "id"),
            (Text("slug"), Text("name"), Text("kind")),
        ),
        Embedded(
            "policies", PolicyActor, "actor_id", ("id",), _LINKED_POLICY, limit=EMBEDDED_LINKS
        ),
        Count("policies_total", PolicyActor, "actor_id"),
        Embedded("goals", Goal, "actor_id", ("id",), _GOAL_REF, limit=EMBEDDED_LINKS),
        Count("goals_total", Goal, "actor_id"),
    ),
)

REGION_DOCUMENT = DocumentSpec(
    Region,
    (
        Text("slug"),
        Text("name"),
        JsonObject("names"),
        JsonList("aliases"),
        Text("kind"),
        Text("iso_code"),
        Reference("parent", "parent_id", Region),
        Text("description"),
        Citations("region_id"),
        *_RECORD_TAIL,
        Ancestors("ancestors", "parent_id", _REGION_REF),
        Embedded("children", Region, "parent_id", ("name", "id"), _REGION_REF),
        Embedded(
            "policies", PolicyRegion, "region_id", ("id",), _LINKED_POLICY, limit=EMBEDDED_LINKS
        ),
        Count("policies_total", PolicyRegion, "region_id"),
    ),
)

SOURCE_DOCUMENT = DocumentSpec(
    Source,
    (
        Text("slug"),
        Text("title"),
        Text("publisher"),
        Text("series"),
        JsonList("authors"),
        Text("url"),
        PartialDate("published"),
        Text("language"),
        Text("sha256"),
        *_RECORD_TAIL,
        # What the source supports: the first citations of it, each with what it cites.
        Embedded(
            "supports",
            SUPPORTS,
            "source_id",
            ("id",),
            (
                Text("type"),
                Text("record"),
                Text("link"),
                Text("section"),
                Integer("paragraph"),
                Text("excerpt"),
                Text("note"),
            ),
            limit=EMBEDDED_SUPPORTS,
        ),
        Count("supports_total", Citation, "source_id"),
    ),
)
