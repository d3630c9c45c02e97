"""Policy documents built by SQLite itself: one statement, one row of JSON text per policy.

A page of 50 policies embeds ~500 rows (topics, links, citations, goals). Fetching those
rows into Python and assembling dicts cost ~10 ms a page; SQLite's JSON functions build the
same text in C, and the page is then joined as bytes. This is what Datasette's canned
queries do, and it is what let policydb match it (bench/NOTES.md).

The text must equal, byte for byte, what ``documents._policies`` builds and
``documents.render`` writes (``tests/api/test_documents.py`` compares them on every seed
record and on generated edge cases): the same key order, partial dates written at their
precision, amounts without trailing zeros, timestamps as pydantic writes them. PostgreSQL
uses the Python builder: its ``json_build_object`` writes spaces that pydantic does not.
"""

from collections.abc import Sequence

from sqlalchemy.orm import Session


def _partial_date(column: str) -> str:
    """SQL for ``str(PartialDate)`` of ``<column>_earliest`` / ``<column>_latest``."""
    earliest, latest = f"{column}_earliest", f"{column}_latest"
    return (
        f"CASE WHEN {earliest} IS NULL OR {latest} IS NULL THEN NULL"
        f" WHEN {earliest} = {latest} THEN {earliest}"
        f" WHEN substr({earliest}, 1, 7) = substr({latest}, 1, 7) THEN substr({earliest}, 1, 7)"
        f" ELSE substr({earliest}, 1, 4) END"
    )


# A REAL amount this large needs more correct digits at 6 decimals than SQLite's printf
# guarantees (its long-double arithmetic is exact to ~19 digits; Python's '%.6f' writes the
# double's exact expansion): such a document is left to the Python builder.
_EXACT_REAL_BELOW = 1e9


def _amount(column: str) -> str:
    """SQL for ``format(Decimal.normalize(), "f")`` of a NUMERIC(30, 6) column."""
    # An integer is stored as one and written exactly; a fraction is a REAL, read by
    # SQLAlchemy at 6 decimals ('%.6f') and normalised (trailing zeros dropped).
    return (
        f"CASE typeof({column}) WHEN 'null' THEN NULL"
        f" WHEN 'integer' THEN CAST({column} AS TEXT)"
        f" ELSE rtrim(rtrim(printf('%!.6f', {column}), '0'), '.') END"
    )


def _timestamp(column: str) -> str:
    """SQL for pydantic's JSON form of a stored UTC timestamp ('YYYY-MM-DD HH:MM:SS.ffffff')."""
    return (
        f"replace(substr({column}, 1, 19), ' ', 'T')"
        f" || CASE WHEN substr({column}, 21) IN ('', '000000') THEN ''"
        f" ELSE '.' || substr({column}, 21) END || 'Z'"
    )


def _citations(owner: str, owner_id: str) -> str:
    """A JSON array of the citations whose ``owner`` column is ``owner_id``, in order."""
    return f"""json((SELECT json_group_array(json_object(
        'source', slug, 'section', section, 'paragraph', paragraph,
        'excerpt', excerpt, 'note', note, 'source_title', title))
      FROM (SELECT s.slug, s.title, c.section, c.paragraph, c.excerpt, c.note
            FROM citations c JOIN sources s ON s.id = c.source_id
            WHERE c.{owner} = {owner_id} ORDER BY c.position, c.id)))"""


def _links(
    *,
    target_key: str,
    kind_key: str,
    label_key: str,
    table: str,
    target: str,
    via: str,
    kind: str,
    label: str,
    cited_as: str,
) -> str:
    """A JSON array of a policy's links of one kind (actors, regions, relations), in order."""
    return f"""json((SELECT json_group_array(json_object(
      '{target_key}', slug, '{kind_key}', kind,
      'citations', {_citations(cited_as, "link_id")}, '{label_key}', label))
    FROM (SELECT link.id AS link_id, link.{kind} AS kind, t.slug, t.{label} AS label
          FROM {table} link JOIN {target} t ON t.id = link.{via}
          WHERE link.policy_id = p.id ORDER BY link.position, link.id)))"""


# Each embedded list reads its rows in order in a subquery: SQLite aggregates rows in the
# order they arrive, and does not flatten a subquery with ORDER BY into an aggregate.
_POLICY_DOCUMENTS = f"""
SELECT p.id, json_object(
  'slug', p.slug, 'title', p.title, 'short_name', p.short_name,
  'titles', json((SELECT json_group_object(key, value) FROM json_each(p.titles))),
  'kind', p.kind, 'status', p.status, 'summary', p.summary,
  'identifiers', json((SELECT json_group_array(json_object(
      'scheme', json_extract(i.value, '$.scheme'), 'value', json_extract(i.value, '$.value')))
    FROM json_each(p.identifiers) i)),
  'announced', {_partial_date("p.announced")},
  'in_force_from', {_partial_date("p.in_force_from")},
  'in_force_to', {_partial_date("p.in_force_to")},
  'money', json(CASE WHEN p.money_amount IS NOT NULL AND p.money_currency IS NOT NULL
    THEN json_object('amount', {_amount("p.money_amount")}, 'currency', p.money_currency,
      'approximate', json(CASE WHEN p.money_approximate THEN 'true' ELSE 'false' END)) END),
  'topics', json((SELECT json_group_array(topic)
    FROM (SELECT topic FROM policy_topics WHERE policy_id = p.id ORDER BY topic))),
  'actors', {
    _links(
        target_key="actor",
        kind_key="role",
        label_key="actor_name",
        table="policy_actors",
        target="actors",
        via="actor_id",
        kind="role",
        label="name",
        cited_as="policy_actor_id",
    )
},
  'regions', {
    _links(
        target_key="region",
        kind_key="role",
        label_key="region_name",
        table="policy_regions",
        target="regions",
        via="region_id",
        kind="role",
        label="name",
        cited_as="policy_region_id",
    )
},
  'related', {
    _links(
        target_key="policy",
        kind_key="relation",
        label_key="policy_title",
        table="policy_relations",
        target="policies",
        via="related_policy_id",
        kind="relation",
        label="title",
        cited_as="policy_relation_id",
    )
},
  'citations', {_citations("policy_id", "p.id")},
  'id', p.id,
  'created_at', {_timestamp("p.created_at")},
  'updated_at', {_timestamp("p.updated_at")},
  'related_from', json((SELECT json_group_array(json_object(
      'policy', slug, 'title', title, 'role', relation))
    FROM (SELECT o.slug, o.title, rel.relation
          FROM policy_relations rel JOIN policies o ON o.id = rel.policy_id
          WHERE rel.related_policy_id = p.id ORDER BY rel.id))),
  'goals', json((SELECT json_group_array(json_object(
      'slug', g.slug, 'statement', g.statement, 'deadline', {_partial_date("g.deadline")},
      'stage', g.stage))
    FROM (SELECT * FROM goals WHERE policy_id = p.id
          ORDER BY stage IS NULL, stage, id) g))
)
,
typeof(p.money_amount) = 'real' AND abs(p.money_amount) >= {_EXACT_REAL_BELOW}
FROM json_each(?) wanted JOIN policies p ON p.id = wanted.value
ORDER BY wanted.key
"""


def policy_documents(session: Session, ids: Sequence[int]) -> list[tuple[int, bytes | None]]:
    """(id, document JSON) of these policies, in the order of ``ids`` (missing ids skipped).

    The JSON is None where SQLite cannot write it exactly (a very large fractional amount):
    the caller builds that document in Python.
    """
    if not ids:
        return []
    rows = session.connection().exec_driver_sql(
        _POLICY_DOCUMENTS, (f"[{','.join(str(int(i)) for i in ids)}]",)
    )
    return [(policy_id, None if inexact else text.encode()) for policy_id, text, inexact in rows]
