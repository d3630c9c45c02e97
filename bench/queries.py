"""The benchmark's queries: one small declarative entry each.

An entry names the policydb URL (a template), and one SQL statement with named parameters.
That same SQL is both Datasette's side (a canned query, so both servers answer with the same
information: the policy with its actors, regions, relations, goals and citations nested) and
the in-process limit (raw sqlite3 plus JSON encoding). Templates are filled from a
``Fixture``: values picked deterministically from the database under test.

When policydb answers 404 or 400 for an entry's URL, the entry is reported as "not available
yet" and the run goes on; Datasette and the limit are still measured, as the target.
"""

import re
from dataclasses import dataclass, field, replace
from urllib.parse import quote, urlencode

# Citations of one record or link, as policydb nests them.
_CITES = (
    "json((SELECT json_group_array(json_object("
    "'source', s.slug, 'section', c.section, 'paragraph', c.paragraph, 'excerpt', c.excerpt, "
    "'note', c.note, 'source_title', s.title)) "
    "FROM citations c JOIN sources s ON s.id = c.source_id WHERE c.{column} = {owner}))"
)

# Every field of PolicyOut, one row per policy; nested lists come back as JSON text.
POLICY_COLUMNS = f"""
  p.id, p.slug, p.title, p.short_name, p.titles, p.kind, p.status, p.summary, p.identifiers,
  p.announced_earliest, p.announced_latest, p.in_force_from_earliest, p.in_force_from_latest,
  p.in_force_to_earliest, p.in_force_to_latest,
  p.money_amount, p.money_currency, p.money_approximate, p.created_at, p.updated_at,
  (SELECT json_group_array(t.topic)
     FROM (SELECT topic FROM policy_topics WHERE policy_id = p.id ORDER BY topic) t) AS topics,
  (SELECT json_group_array(json_object('actor', a.slug, 'role', pa.role,
          'citations', {_CITES.format(column="policy_actor_id", owner="pa.id")},
          'actor_name', a.name))
     FROM policy_actors pa JOIN actors a ON a.id = pa.actor_id
    WHERE pa.policy_id = p.id) AS actors,
  (SELECT json_group_array(json_object('region', r.slug, 'role', pr.role,
          'citations', {_CITES.format(column="policy_region_id", owner="pr.id")},
          'region_name', r.name))
     FROM policy_regions pr JOIN regions r ON r.id = pr.region_id
    WHERE pr.policy_id = p.id) AS regions,
  (SELECT json_group_array(json_object('policy', rp.slug, 'relation', rel.relation,
          'citations', {_CITES.format(column="policy_relation_id", owner="rel.id")},
          'policy_title', rp.title))
     FROM policy_relations rel JOIN policies rp ON rp.id = rel.related_policy_id
    WHERE rel.policy_id = p.id) AS related,
  {_CITES.format(column="policy_id", owner="p.id")} AS citations,
  (SELECT json_group_array(json_object('policy', fp.slug, 'title', fp.title,
          'role', rel.relation))
     FROM policy_relations rel JOIN policies fp ON fp.id = rel.policy_id
    WHERE rel.related_policy_id = p.id) AS related_from,
  (SELECT json_group_array(json_object('slug', g.slug, 'statement', g.statement,
          'deadline_earliest', g.deadline_earliest, 'deadline_latest', g.deadline_latest,
          'stage', g.stage))
     FROM goals g WHERE g.policy_id = p.id) AS goals"""

POLICY_JSON_COLUMNS = (
    "titles",
    "identifiers",
    "topics",
    "actors",
    "regions",
    "related",
    "citations",
    "related_from",
    "goals",
)


def policy_docs(page: str, order: str, with_: str = "") -> str:
    """Full policy rows for the ids that ``page`` selects (a SELECT of ids with its LIMIT).

    The page is chosen first, so the nested subqueries run for its rows only, not for every
    row that matches before the sort.
    """
    return (
        f"{with_}SELECT {POLICY_COLUMNS}\nFROM policies p\nWHERE p.id IN ({page})\nORDER BY {order}"
    )


@dataclass(frozen=True)
class Fixture:
    """Values the queries are filled with; picked from the database, the same at every run."""

    slugs: list[str]  # policies fetched one by one (cycled through by the load generator)
    kind: str
    region: str  # a region with sub-regions (a province)
    word: str  # a word in ~1% of policy summaries
    before_id: int  # the deep page: rows with a smaller id, newest first
    deep_cursor: str | None  # policydb's cursor for that same page (None: none found)
    timeline_from: str


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    policydb: str  # path template over the Fixture's fields, e.g. "/api/v1/policies/{slug}"
    sql: str  # named parameters (:slug); also Datasette's canned query
    json_columns: tuple[str, ...] = POLICY_JSON_COLUMNS
    # (list-valued Fixture field, name of one item): one URL per item, cycled through.
    vary: tuple[str, str] | None = None
    # SQL parameters computed from the Fixture's fields, e.g. {"pattern": "%{word}%"}.
    derived: dict[str, str] = field(default_factory=dict)
    # An extra Datasette measurement through its table view (flat rows, no nesting).
    datasette_table: str | None = None
    note: str = ""
    # Tables the SQL needs (e.g. the FTS index); without them ``fallback_sql`` is used.
    requires: tuple[str, ...] = ()
    fallback_sql: str | None = None

    def resolved(self, tables: set[str]) -> "Query":
        """This query for a database with ``tables``: the fallback SQL if one is missing."""
        if set(self.requires) <= tables or self.fallback_sql is None:
            return self
        note = f"{self.note} (database without {', '.join(self.requires)}: fallback SQL)"
        return replace(self, sql=self.fallback_sql, note=note.strip())

    def values(self, fx: Fixture) -> list[dict[str, object]]:
        """Template values, one set per URL (several when ``vary`` is set)."""
        base: dict[str, object] = {k: v for k, v in vars(fx).items() if not isinstance(v, list)}
        for key, template in self.derived.items():
            base[key] = template.format(**base)
        if self.vary is None:
            return [base]
        field_name, item = self.vary
        return [{**base, item: v} for v in getattr(fx, field_name)]

    def sql_params(self, fx: Fixture) -> list[dict[str, object]]:
        """The SQL parameter sets: the names the SQL uses, one set per URL."""
        names = set(re.findall(r":([a-z_]+)", self.sql))
        return [{k: v for k, v in values.items() if k in names} for values in self.values(fx)]

    def policydb_paths(self, fx: Fixture) -> list[str]:
        if "{deep_cursor}" in self.policydb and fx.deep_cursor is None:
            return []
        return [self.policydb.format(**_quoted(v)) for v in self.values(fx)]

    def datasette_paths(self, fx: Fixture, database: str) -> list[str]:
        extra = [("_shape", "array"), ("_nocount", "1"), ("_nofacet", "1")]
        extra += [("_json", c) for c in self.json_columns]
        return [
            f"/{database}/{self.name}.json?"
            + urlencode([*((k, str(v)) for k, v in params.items()), *extra])
            for params in self.sql_params(fx)
        ]

    def datasette_table_paths(self, fx: Fixture, database: str) -> list[str]:
        if self.datasette_table is None:
            return []
        return [
            f"/{database}/" + self.datasette_table.format(**_quoted(v)) for v in self.values(fx)
        ]


def _quoted(values: dict[str, object]) -> dict[str, str]:
    return {k: quote(str(v), safe="") for k, v in values.items()}


_REGION_TREE = (
    "WITH RECURSIVE tree(id) AS (\n"
    "  SELECT id FROM regions WHERE slug = :region\n"
    "  UNION ALL SELECT r.id FROM regions r JOIN tree ON r.parent_id = tree.id)\n"
)
# policydb's q= goes through its FTS5 index (search_documents + search_fts); before that index
# existed it was a LIKE over these columns, which is the fallback.
_FTS_IDS = (
    "SELECT record_id FROM search_documents WHERE record_type = 'policy' AND id IN "
    "(SELECT rowid FROM search_fts WHERE search_fts MATCH :fts)"
)
_LIKE_COLUMNS = (
    "title",
    "short_name",
    "summary",
    "CAST(titles AS TEXT)",
    "CAST(identifiers AS TEXT)",
)
_LIKE = " OR ".join(f"{c} LIKE :pattern ESCAPE '\\'" for c in _LIKE_COLUMNS)
_FTS = ("search_documents", "search_fts")
_TABLE = "_shape=array&_nocount=1&_nofacet=1"
_EVENTS = [
    ("policy_announced", "announced", "policy", "policies", "title", "NULL"),
    ("policy_in_force_from", "in_force_from", "policy", "policies", "title", "NULL"),
    ("policy_in_force_to", "in_force_to", "policy", "policies", "title", "NULL"),
    ("goal_deadline", "deadline", "goal", "goals", "statement", "stage"),
]
_TIMELINE = (
    "SELECT * FROM (\n"
    + "\nUNION ALL\n".join(
        f"SELECT {d}_earliest AS earliest, {d}_latest AS latest, '{event}' AS event, "
        f"'{kind}' AS type, id, slug, {title} AS title, {stage} AS stage FROM {table} "
        f"WHERE {d}_earliest IS NOT NULL AND {d}_latest >= :timeline_earliest"
        for event, d, kind, table, title, stage in _EVENTS
    )
    + "\n) ORDER BY earliest, event, type, id LIMIT 50"
)

QUERIES: list[Query] = [
    Query(
        "get",
        "one policy by slug",
        "/api/v1/policies/{slug}",
        policy_docs("SELECT id FROM policies WHERE slug = :slug", "p.id"),
        vary=("slugs", "slug"),
        datasette_table="policies.json?slug={slug}&" + _TABLE,
    ),
    Query(
        "page",
        "kind filter, sort=-announced,title, 50",
        "/api/v1/policies?kind={kind}&sort=-announced,title&limit=50&count=false",
        policy_docs(
            "SELECT id FROM policies WHERE kind = :kind "
            "ORDER BY announced_earliest DESC NULLS LAST, title, id LIMIT 50",
            "p.announced_earliest DESC NULLS LAST, p.title, p.id",
        ),
        datasette_table="policies.json?kind={kind}&_sort_desc=announced_earliest&_size=50&"
        + _TABLE,
    ),
    Query(
        "region",
        "region filter with sub-regions, 50",
        "/api/v1/policies?region={region}&limit=50&count=false",
        policy_docs(
            "SELECT id FROM policies WHERE EXISTS (SELECT 1 FROM policy_regions pr "
            "WHERE pr.policy_id = policies.id AND pr.region_id IN (SELECT id FROM tree)) "
            "ORDER BY id LIMIT 50",
            "p.id",
            with_=_REGION_TREE,
        ),
    ),
    Query(
        "text",
        "list filtered by text, q=, 50",
        "/api/v1/policies?q={word}&limit=50&count=false",
        policy_docs(
            f"SELECT id FROM policies WHERE id IN ({_FTS_IDS}) ORDER BY id LIMIT 50", "p.id"
        ),
        derived={"fts": '"{word}"', "pattern": "%{word}%"},
        requires=_FTS,
        fallback_sql=policy_docs(
            f"SELECT id FROM policies WHERE {_LIKE} ORDER BY id LIMIT 50", "p.id"
        ),
        note="the same FTS5 index for both (LIKE before it existed)",
    ),
    Query(
        "search",
        "ranked full-text search (policies), 50",
        "/api/v1/search?q={word}&type=policy&limit=50",
        "WITH hits AS (\n"
        "  SELECT d.id AS doc_id, d.record_type AS type, d.record_id, d.title,\n"
        "    round(-bm25(search_fts, 10.0, 1.0), 6) AS score,\n"
        "    snippet(search_fts, -1, '<mark>', '</mark>', ' … ', 16) AS snippet\n"
        "  FROM search_fts CROSS JOIN search_documents d ON d.id = search_fts.rowid\n"
        "  WHERE search_fts MATCH :fts AND d.record_type = 'policy')\n"
        "SELECT h.type, p.slug, h.title, h.score, h.snippet,\n"
        "  (SELECT count(*) FROM hits) AS total\n"
        "FROM hits h JOIN policies p ON p.id = h.record_id\n"
        "ORDER BY h.score DESC, h.doc_id LIMIT 50",
        json_columns=(),
        derived={"fts": '"{word}"', "pattern": "%{word}%"},
        requires=_FTS,
        fallback_sql="SELECT 'policy' AS type, slug, title FROM policies "
        f"WHERE {_LIKE} ORDER BY id LIMIT 50",
        note="hits with score and snippet, and the total. CROSS JOIN keeps the FTS index as "
        "the outer loop: with a plain JOIN SQLite 3.40 scans every policy document and probes "
        "the index for each (about 200x slower at 10k)",
    ),
    Query(
        "deep",
        "deep page (keyset, near the end), 50",
        "/api/v1/policies?sort=-id&limit=50&count=false&cursor={deep_cursor}",
        policy_docs(
            "SELECT id FROM policies WHERE id < :before_id ORDER BY id DESC LIMIT 50", "p.id DESC"
        ),
        datasette_table="policies.json?_sort_desc=id&id__lt={before_id}&_size=50&" + _TABLE,
    ),
    Query(
        "facets",
        "facet counts (kind, status) over all policies",
        "/api/v1/policies?facet=kind&facet=status&limit=0&count=false",
        "SELECT 'kind' AS facet, kind AS value, count(*) AS count FROM policies GROUP BY kind\n"
        "UNION ALL\n"
        "SELECT 'status', status, count(*) FROM policies GROUP BY status\n"
        "ORDER BY facet, count DESC, value",
        json_columns=(),
    ),
    Query(
        "timeline",
        "timeline page (events from a date), 50",
        "/api/v1/timeline?from={timeline_from}&limit=50",
        _TIMELINE,
        json_columns=(),
        derived={"timeline_earliest": "{timeline_from}-01-01"},
        note="policy announced / in force from / in force to, and goal deadlines",
    ),
]

QUERY_NAMES = [q.name for q in QUERIES]
