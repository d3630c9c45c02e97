"""The seed dataset, read back through the API, states the facts of its source article.

`seed_data/digichina.yaml` encodes the DigiChina article of 2020-12-21 ("China's AI Efforts
Suggest Tactics in New 'Self-Reliance' Push"). One group of tests per section of the article
fetches what a user would fetch and checks the key facts with their types: reduced-precision
dates, decimal amounts as strings with their currency, goals with targets, stages and
deadlines, and the roles that link actors and regions to policies. A policy's status is the one
the article establishes, else `unknown`; a fact the article does not state (a Chinese name, a
document number, an exact date) cites the primary document that states it, a source record of
its own. The last tests check that every record and every link carries a citation, that each
article citation quotes the paragraph it points at, that the article's source records the
SHA-256 of its text, and that each source's `supports` list is exactly the set of its citations.
"""

import hashlib
import re
from collections import Counter
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

API = "/api/v1"
ARTICLE = "digichina-2020-12-21-ai-self-reliance"
# Primary documents cited for facts the article does not state.
CONSTITUTION = "prc-constitution-2018"
AIDP_NOTICE = "state-council-2017-aidp"
MOE_NOTICE = "moe-2018-ai-higher-education-plan"
FIL_TEXT = "npc-2019-foreign-investment-law"
LINGANG_NOTICE = "state-council-2019-lingang-plan"
FTZ_NOTICE = "state-council-2013-shanghai-ftz-plan"
COMMUNIQUE = "ccp-2020-fifth-plenum-communique"
PROPOSAL = "ccp-2020-14th-fyp-proposal"
SEZ_REGULATIONS = "npcsc-1980-guangdong-sez-regulations"
REGION_CODES = "gb-t-2260-2007"

HEADER = "Header"
INTRO = "Introduction"
OPENING = "Limited Opening to Attract Foreign Talent and Reassure Foreign Firms"
NURTURING = "Nurturing Home-Grown AI Talent and Development Centers"
US_COMPETITION = "U.S. Competition and Actions Help Drive These Ambitions"
HEADINGS = (OPENING, NURTURING, US_COMPETITION)
HEADER_LINES = 7  # title, subtitle, "Blog Post", image credit, date, two lines on the series

RECORD_LISTS = {"policies": "policy", "actors": "actor", "regions": "region", "goals": "goal"}
LINK_LISTS = {"actors": "policy_actor", "regions": "policy_region", "related": "policy_relation"}

PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
DECIMAL = re.compile(r"^-?(0|[1-9]\d*)(\.\d*[1-9])?$")

Json = dict[str, Any]


# --- helpers -------------------------------------------------------------------------------


def fetch(client: TestClient, path: str, **params: Any) -> Json:
    """GET one API document, asserting success."""
    response = client.get(f"{API}/{path}", params=params)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


def walk(client: TestClient, resource: str, **params: Any) -> list[Json]:
    """Every item of a list (at the maximum page size), following `next` links."""
    items: list[Json] = []
    response = client.get(f"{API}/{resource}", params={"limit": 200, **params})
    while True:
        assert response.status_code == 200, response.text
        page: Json = response.json()
        items.extend(page["items"])
        if page["next"] is None:
            break
        response = client.get(page["next"])
    assert page["total"] == len(items)
    return items


def slugs(client: TestClient, resource: str, **params: Any) -> set[str]:
    """The slugs of every item of a filtered list."""
    return {item["slug"] for item in walk(client, resource, **params)}


def cites(record: Json, section: str, paragraph: int, excerpt: str | None = None) -> Json:
    """The record (or link) cites the article at this section and paragraph."""
    for citation in record["citations"]:
        if (
            citation["source"] == ARTICLE
            and citation["section"] == section
            and citation["paragraph"] == paragraph
            and (excerpt is None or excerpt in citation["excerpt"])
        ):
            assert citation["source_title"] == (
                "China's AI Efforts Suggest Tactics in New 'Self-Reliance' Push"
            )
            found: Json = citation
            return found
    raise AssertionError(f"no citation of {section!r} ¶{paragraph} in {record['citations']}")


def cites_document(record: Json, source: str, excerpt: str | None = None) -> Json:
    """The record (or link) cites a primary document, quoting ``excerpt`` if given."""
    for citation in record["citations"]:
        if citation["source"] == source and (excerpt is None or citation["excerpt"] == excerpt):
            assert citation["note"] is None  # the document speaks for itself
            found: Json = citation
            return found
    raise AssertionError(f"no citation of {source} {excerpt!r} in {record['citations']}")


def actor_link(policy: Json, actor: str, role: str) -> Json:
    """The policy's link to this actor in this role."""
    found = [a for a in policy["actors"] if a["actor"] == actor and a["role"] == role]
    assert len(found) == 1, policy["actors"]
    link: Json = found[0]
    assert isinstance(link["actor_name"], str)
    return link


def region_link(policy: Json, region: str, role: str) -> Json:
    """The policy's link to this region in this role."""
    found = [r for r in policy["regions"] if r["region"] == region and r["role"] == role]
    assert len(found) == 1, policy["regions"]
    link: Json = found[0]
    assert isinstance(link["region_name"], str)
    return link


def relation(policy: Json, other: str, kind: str) -> Json:
    """The policy's relation of this type to another policy."""
    found = [r for r in policy["related"] if r["policy"] == other and r["relation"] == kind]
    assert len(found) == 1, policy["related"]
    link: Json = found[0]
    assert isinstance(link["policy_title"], str)
    return link


def roles(policy: Json) -> set[tuple[str, str]]:
    """The policy's actor links as (actor, role) pairs."""
    return {(a["actor"], a["role"]) for a in policy["actors"]}


def article_paragraphs(path: Path) -> dict[tuple[str, int], str]:
    """The article text by (section, paragraph), with typographic quotes made plain."""
    text = path.read_text(encoding="utf-8")
    for curly, plain in {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}.items():
        text = text.replace(curly, plain)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    paragraphs: dict[tuple[str, int], str] = {}
    section, number = HEADER, 0
    for index, line in enumerate(lines):
        if line in HEADINGS:
            section, number = line, 0
            continue
        if section == HEADER and index == HEADER_LINES:
            section, number = INTRO, 0
        number += 1
        paragraphs[(section, number)] = line
    return paragraphs


def every_citation(client: TestClient) -> list[tuple[str, str, str | None, Json]]:
    """Every citation of every record and policy link, as (type, record, link, citation).

    `link` is rendered the way a source's `supports` renders it: ``"<role>: <slug>"``.
    """
    found: list[tuple[str, str, str | None, Json]] = []
    for resource, kind in RECORD_LISTS.items():
        for record in walk(client, resource):
            found.extend((kind, record["slug"], None, c) for c in record["citations"])
            if kind != "policy":
                continue
            for field, link_kind in LINK_LISTS.items():
                for link in record[field]:
                    target = link.get("actor") or link.get("region") or link["policy"]
                    label = f"{link.get('role') or link['relation']}: {target}"
                    found.extend((link_kind, record["slug"], label, c) for c in link["citations"])
    return found


# --- header: the source itself -------------------------------------------------------------


def test_header_source_metadata(client: TestClient, article_path: Path) -> None:
    source = fetch(client, f"sources/{ARTICLE}")
    assert source["title"] == "China's AI Efforts Suggest Tactics in New 'Self-Reliance' Push"
    assert source["published"] == "2020-12-21"  # "Dec. 21, 2020": day precision
    assert source["language"] == "en"
    assert "DigiChina" in source["publisher"]
    assert "Stanford University Cyber Policy Center" in source["publisher"]
    assert "New America" in source["publisher"]
    assert source["series"] == (
        "AI Policy and China Special Report Volume II: Ethics, Governance, and Strategy"
    )
    assert source["authors"] == []
    assert source["url"] is None
    # The SHA-256 of the article's text as given to `policydb verify-citations`.
    assert source["sha256"] == hashlib.sha256(article_path.read_bytes()).hexdigest()
    assert isinstance(source["id"], int)
    assert fetch(client, f"sources/{source['id']}")["slug"] == ARTICLE

    assert slugs(client, "sources", q="Self-Reliance") == {ARTICLE}
    # No self-made "editors' reference": every other source is a named document or website.
    assert client.get(f"{API}/sources/policydb-reference-names").status_code == 404
    for other in walk(client, "sources"):
        if other["slug"] != ARTICLE:
            assert other["title"] and other["publisher"], other
            assert other["published"] or other["url"], other
    fil = fetch(client, f"sources/{FIL_TEXT}")
    assert "主席令第二十六号" in fil["title"]
    assert (fil["published"], fil["language"]) == ("2019-03-15", "zh")

    # "part of the DigiChina Project, based at the Stanford University Cyber Policy Center and
    # a joint effort with New America"
    digichina = fetch(client, "actors/digichina")
    assert digichina["kind"] == "research_institute"
    assert digichina["parent"] == "stanford-cyber-policy-center"
    assert digichina["region"] == "us"
    cites(digichina, HEADER, 6, "the DigiChina Project")
    stanford = fetch(client, "actors/stanford-cyber-policy-center")
    assert {"slug": "digichina", "name": "DigiChina Project", "kind": "research_institute"} in (
        stanford["children"]
    )
    new_america = fetch(client, "actors/new-america")
    assert new_america["kind"] == "ngo"
    cites(new_america, HEADER, 6, "a joint effort with New America")

    # The subtitle: "A focus on attracting foreign talent and investment while cultivating the
    # same at home".
    umbrella = fetch(client, "policies/china-ai-leadership-efforts")
    assert cites(umbrella, HEADER, 2)["note"] == "article subtitle"


# --- introduction ----------------------------------------------------------------------------


def test_introduction_fifth_plenum_and_aidp(client: TestClient) -> None:
    """¶1: the Fifth Plenum of the 19th CC names S&T self-reliance; the 2017 AIDP."""
    plenum = fetch(client, "policies/fifth-plenum-st-self-reliance")
    assert plenum["kind"] == "meeting_decision"
    assert plenum["status"] == "unknown"  # a stated priority, not a measure in force
    assert plenum["announced"] == "2020-10"  # the article's "recent" plenum met in October 2020
    cites_document(plenum, COMMUNIQUE, "于2020年10月26日至29日在北京举行")
    assert roles(plenum) == {
        ("ccp-19th-central-committee", "issuer"),
        ("fifth-plenum-19th-central-committee", "host"),
    }
    assert region_link(plenum, "cn", "jurisdiction")["region_name"] == "China"
    cites(plenum, INTRO, 1, "self-reliance in science and technology (S&T) was cited as key")
    cites(relation(plenum, "new-generation-ai-development-plan", "related_to"), INTRO, 1)
    # The Proposal adopted at the plenum carries the same priority; neither is part of the other.
    shared = relation(plenum, "fourteenth-five-year-plan-proposal", "related_to")
    cites_document(shared, PROPOSAL, "把科技自立自强作为国家发展的战略支撑")
    assert {r["relation"] for r in plenum["related"]} == {"related_to"}
    assert any(g["slug"] == "fifth-plenum-st-self-reliance-goal" for g in plenum["goals"])

    session = fetch(client, "actors/fifth-plenum-19th-central-committee")
    assert session["kind"] == "forum_event"
    assert session["parent"] == "ccp-19th-central-committee"
    assert fetch(client, "actors/ccp-19th-central-committee")["parent"] == "ccp"
    assert {"policy": plenum["slug"], "title": plenum["title"], "role": "host"} in (
        session["policies"]
    )
    assert slugs(client, "actors", parent="ccp") == {"ccp-19th-central-committee"}

    goal = fetch(client, "goals/fifth-plenum-st-self-reliance-goal")
    assert goal["policy"] == plenum["slug"]
    assert goal["actor"] == "ccp-19th-central-committee"
    assert goal["owners"] == {
        "policy_title": plenum["title"],
        "actor_name": "19th Central Committee of the Chinese Communist Party",
    }
    cites(goal, INTRO, 1)

    aidp = fetch(client, "policies/new-generation-ai-development-plan")
    assert aidp["title"] == "New Generation Artificial Intelligence Development Plan"
    assert aidp["short_name"] == "AIDP"
    assert aidp["titles"] == {"zh": "新一代人工智能发展规划"}
    assert aidp["kind"] == "plan"
    assert aidp["status"] == "unknown"  # the article does not say whether it is current
    assert aidp["announced"] == "2017-07-08"  # "the 2017 release"; the day from its notice
    assert isinstance(aidp["announced"], str)
    cites_document(aidp, AIDP_NOTICE, "2017年7月8日")
    assert aidp["identifiers"] == [
        {"scheme": "official_document_number", "value": "国发〔2017〕35号"}
    ]
    assert "artificial_intelligence" in aidp["topics"]
    # One issuer: the article's "Chinese government" is the State Council, which signed it.
    assert roles(aidp) == {("state-council", "issuer")}
    issuer = actor_link(aidp, "state-council", "issuer")
    cites(issuer, US_COMPETITION, 1, "When the Chinese government released its AI plan in 2017")
    cites_document(issuer, AIDP_NOTICE, "国发〔2017〕35号")
    cites_document(issuer, CONSTITUTION, "中华人民共和国国务院，即中央人民政府")
    state_council = fetch(client, "actors/state-council")
    assert state_council["parent"] == "chinese-government"
    cites_document(state_council, CONSTITUTION, "中华人民共和国国务院，即中央人民政府")
    cites(aidp, INTRO, 1, "the 2017 release of its New Generation Artificial Intelligence")
    cites(region_link(aidp, "cn", "jurisdiction"), INTRO, 1)
    assert slugs(client, "policies", q="AIDP") >= {aidp["slug"]}


def test_introduction_fourteenth_five_year_plan(client: TestClient) -> None:
    """¶2: the upcoming 14th FYP (2021-25); local and sectoral moves toward national goals."""
    plan = fetch(client, "policies/fourteenth-five-year-plan")
    assert plan["short_name"] == "14th FYP"
    assert plan["kind"] == "plan"
    assert plan["status"] == "planned"  # "upcoming" at 2020-12-21
    assert plan["titles"] == {"zh": "国民经济和社会发展第十四个五年规划"}
    cites_document(plan, PROPOSAL, "国民经济和社会发展第十四个五年规划")
    assert (plan["in_force_from"], plan["in_force_to"]) == ("2021", "2025")
    assert plan["announced"] is None
    cites(plan, INTRO, 2, "the upcoming 14th Five-Year Plan (for 2021–25)")
    cites(relation(plan, "fifth-plenum-st-self-reliance", "related_to"), INTRO, 2)
    implements = relation(plan, "fourteenth-five-year-plan-proposal", "implements")
    cites_document(implements, PROPOSAL, "关于制定国民经济和社会发展第十四个五年规划")
    # In force at some time in 2023, not in 2026.
    assert plan["slug"] in slugs(client, "policies", in_force_on="2023")
    assert plan["slug"] not in slugs(client, "policies", in_force_on="2026")

    proposal = fetch(client, "policies/fourteenth-five-year-plan-proposal")
    assert proposal["status"] == "unknown"  # recommendations: "in force" does not apply
    assert proposal["announced"] == "2020-10-29"  # day precision, from the Proposal itself
    adopted = "2020年10月29日中国共产党第十九届中央委员会第五次全体会议通过"
    cites_document(proposal, PROPOSAL, adopted)
    assert roles(proposal) == {
        ("ccp-19th-central-committee", "issuer"),
        ("fifth-plenum-19th-central-committee", "host"),
    }
    cites_document(actor_link(proposal, "fifth-plenum-19th-central-committee", "host"), PROPOSAL)
    assert {"policy": plan["slug"], "title": plan["title"], "role": "implements"} in (
        proposal["related_from"]
    )

    umbrella = fetch(client, "policies/china-ai-leadership-efforts")
    assert umbrella["kind"] == "initiative"
    assert umbrella["status"] == "unknown"  # the article's category of efforts, not a measure
    assert {"foreign_investment", "talent", "research", "industry"} <= set(umbrella["topics"])
    assert roles(umbrella) == {("chinese-government", "implementer")}
    cites(umbrella, INTRO, 2, "to major local investments in research facilities")
    cites(relation(umbrella, "new-generation-ai-development-plan", "supports"), INTRO, 2)
    goal = fetch(client, "goals/china-ai-leadership-goal")
    assert goal["policy"] == umbrella["slug"]
    assert goal["owners"]["policy_title"] == umbrella["title"]
    cites(goal, INTRO, 2, "Efforts to advance Chinese leadership in developing and applying AI")


def test_introduction_xi_and_trump_measures(client: TestClient) -> None:
    """¶3: Xi stresses independent innovation as the Trump administration's measures mount."""
    xi = fetch(client, "actors/xi-jinping")
    assert xi["kind"] == "person"
    assert xi["names"]["zh"] == "习近平"
    assert xi["identifiers"] == [{"scheme": "wikidata", "value": "Q15031"}]
    cites(xi, INTRO, 3, "independent innovation in core technologies")

    emphasis = fetch(client, "policies/xi-independent-innovation-core-technologies")
    assert emphasis["kind"] == "policy_statement"
    assert emphasis["announced"] is None  # "in recent years": no date
    assert emphasis["status"] == "unknown"  # an emphasis, not a measure in force
    assert roles(emphasis) == {("xi-jinping", "issuer")}
    cites(relation(emphasis, "trump-measures-chinese-technology", "responds_to"), INTRO, 3)
    cites(relation(emphasis, "fifth-plenum-st-self-reliance", "related_to"), INTRO, 3)
    assert [g["slug"] for g in emphasis["goals"]] == ["xi-independent-innovation-goal"]
    assert {"policy": emphasis["slug"], "title": emphasis["title"], "role": "issuer"} in (
        xi["policies"]
    )

    trump = fetch(client, "policies/trump-measures-chinese-technology")
    assert trump["status"] == "unknown"  # the article's umbrella for mounting measures
    assert roles(trump) == {
        ("trump-administration", "issuer"),
        ("chinese-technology-firms", "target"),
    }
    cites(actor_link(trump, "trump-administration", "issuer"), INTRO, 3)
    cites(region_link(trump, "cn", "target"), INTRO, 3, "measures targeting Chinese technology")
    region_link(trump, "us", "jurisdiction")
    assert {(r["policy"], r["role"]) for r in trump["related_from"]} == {
        ("xi-independent-innovation-core-technologies", "responds_to"),
        ("foreign-capital-talent-drive-ai", "responds_to"),
        ("us-export-restrictions-chinese-firms", "part_of"),
        ("clean-network-initiative", "part_of"),
    }
    administration = fetch(client, "actors/trump-administration")
    assert administration["kind"] == "foreign_government"
    assert administration["parent"] == "us-government"


# --- "Limited Opening to Attract Foreign Talent and Reassure Foreign Firms" ------------------


def test_opening_lingang_expansion_and_region_tree(client: TestClient) -> None:
    """¶1: in 2019 the State Council expanded the Shanghai FTZ, adding the Lingang New Area."""
    lingang = fetch(client, "policies/shanghai-ftz-2019-expansion-lingang")
    assert lingang["short_name"] == "Lingang New Area"
    assert lingang["kind"] == "zone_designation"
    assert lingang["status"] == "in_force"  # "In 2019, the State Council expanded"
    assert lingang["announced"] == "2019-07-27"  # "In 2019"; the day from the State Council notice
    cites_document(lingang, LINGANG_NOTICE, "2019年7月27日")
    assert roles(lingang) == {("state-council", "issuer")}
    cites(actor_link(lingang, "state-council", "issuer"), OPENING, 1, "In 2019, the State Council")
    assert {(r["region"], r["role"]) for r in lingang["regions"]} == {
        ("shanghai-free-trade-zone", "target"),
        ("lingang-new-area", "location"),
    }
    cites(relation(lingang, "shanghai-ftz-designation", "extends"), OPENING, 1)
    cites(relation(lingang, "special-economic-zones", "related_to"), OPENING, 1, "economic zones")
    cites(relation(lingang, "foreign-capital-talent-drive-ai", "part_of"), OPENING, 1)

    ftz_policy = fetch(client, "policies/shanghai-ftz-designation")
    # The 2013 notice dates the zone to the year; no document cited here gives its opening day.
    assert (ftz_policy["announced"], ftz_policy["in_force_from"]) == ("2013", None)
    assert ftz_policy["status"] == "in_force"  # the zone the State Council expanded in 2019
    cites_document(
        actor_link(ftz_policy, "state-council", "issuer"), FTZ_NOTICE, "国发〔2013〕38号"
    )
    assert {"policy": lingang["slug"], "title": lingang["title"], "role": "extends"} in (
        ftz_policy["related_from"]
    )
    sez = fetch(client, "policies/special-economic-zones")
    assert sez["announced"] == "1980-08-26"  # the Guangdong SEZ Regulations, approved that day
    cites_document(sez, SEZ_REGULATIONS, "设置经济特区")
    region_link(sez, "shenzhen", "location")

    area = fetch(client, "regions/lingang-new-area")
    assert area["kind"] == "free_trade_zone"
    assert area["parent"] == "shanghai-free-trade-zone"
    assert area["iso_code"] is None
    assert area["ancestors"] == [  # outermost first
        {"slug": "cn", "name": "China", "kind": "country", "iso_code": "CN"},
        {"slug": "shanghai", "name": "Shanghai", "kind": "municipality", "iso_code": "CN-SH"},
        {
            "slug": "shanghai-free-trade-zone",
            "name": "Shanghai Free Trade Zone",
            "kind": "free_trade_zone",
            "iso_code": None,
        },
    ]
    assert area["policies"] == [
        {"policy": lingang["slug"], "title": lingang["title"], "role": "location"}
    ]
    cites(area, OPENING, 1, "Lingang New Area")
    ftz = fetch(client, "regions/shanghai-free-trade-zone")
    assert {c["slug"] for c in ftz["children"]} == {"lingang-new-area"}
    assert slugs(client, "regions", parent="shanghai-free-trade-zone") == {"lingang-new-area"}
    assert slugs(client, "regions", iso="CN-SH") == {"shanghai"}
    assert ftz["names"] == {"zh": "中国（上海）自由贸易试验区"}
    cites_document(ftz, FTZ_NOTICE)
    cites_document(fetch(client, "regions/shanghai"), REGION_CODES, "上海市")
    assert "lingang-new-area" in slugs(client, "regions", q="Lingang")
    shenzhen = fetch(client, "regions/shenzhen")
    assert [a["slug"] for a in shenzhen["ancestors"]] == ["cn", "guangdong"]

    # The region filter takes a slug or an ISO code and includes sub-regions.
    assert slugs(client, "policies", region="CN-SH") == {
        "shanghai-ftz-designation",  # in the Shanghai FTZ
        lingang["slug"],  # in the FTZ and in its Lingang New Area
    }
    assert slugs(client, "policies", region="lingang-new-area") == {lingang["slug"]}
    issued_by_state_council = slugs(client, "policies", actor="state-council", actor_role="issuer")
    assert issued_by_state_council == {
        "new-generation-ai-development-plan",
        "shanghai-ftz-designation",
        lingang["slug"],
    }


def test_opening_talent_steve_chen_and_mps_measures(client: TestClient) -> None:
    """¶1: Steve Chen's 5 million target; the MPS's 12 visa measures of July 2019."""
    goal = fetch(client, "goals/steve-chen-5m-ai-personnel")
    assert goal["actor"] == "steve-chen"
    assert goal["policy"] is None
    assert goal["owners"] == {"policy_title": None, "actor_name": "Steve Chen"}
    assert isinstance(goal["target_value"], str)
    assert isinstance(goal["baseline_value"], str)
    assert goal["target_value"] == "5000000"  # "5 million"
    assert goal["baseline_value"] == "50000"  # "100 times what he estimated it currently has"
    assert goal["unit"] == "persons"
    assert goal["metric"] == "High-level AI personnel in China"
    assert goal["deadline"] is None
    assert goal["stage"] is None
    citation = cites(goal, OPENING, 1, "5 million high-level AI personnel, 100 times")
    assert "derived" in citation["note"]
    assert "2020-11" in citation["note"]
    assert slugs(client, "goals", actor="steve-chen") == {goal["slug"]}

    chen = fetch(client, "actors/steve-chen")
    assert chen["kind"] == "person"
    assert [g["slug"] for g in chen["goals"]] == [goal["slug"]]
    forum = fetch(client, "actors/china-hi-tech-forum-2020")
    assert forum["kind"] == "forum_event"
    assert forum["region"] == "cn"
    # "in November" in an article of 2020-12-21: the forum met in 2020-11.
    assert "2020-11" in cites(forum, OPENING, 1, "China Hi-Tech Forum in November")["note"]
    assert "November 2020" in forum["description"]
    assert forum["slug"] in slugs(client, "actors", kind="forum_event")

    measures = fetch(client, "policies/mps-12-measures-foreign-talent-2019")
    assert measures["short_name"] == "MPS 12 measures"
    assert measures["status"] == "unknown"  # published measures that "would ease" visa rules
    assert measures["kind"] == "measure"
    assert measures["announced"] == "2019-07"  # "in July 2019": month precision
    assert {"immigration", "talent"} <= set(measures["topics"])
    assert roles(measures) == {
        ("ministry-of-public-security", "issuer"),
        ("foreign-talent", "target"),
    }
    cites(actor_link(measures, "ministry-of-public-security", "issuer"), OPENING, 1, "July 2019")
    cites(measures, OPENING, 1, "12 new measures that would ease visa requirements")
    cites(relation(measures, "foreign-capital-talent-drive-ai", "part_of"), OPENING, 1)
    mps = fetch(client, "actors/ministry-of-public-security")
    assert (mps["kind"], mps["parent"], mps["region"]) == ("ministry", "state-council", "cn")
    assert measures["slug"] in slugs(
        client, "policies", announced_from="2019-07", announced_to="2019-07"
    )
    assert measures["slug"] not in slugs(client, "policies", announced_from="2019-08")

    drive = fetch(client, "policies/foreign-capital-talent-drive-ai")
    assert drive["status"] == "unknown"  # "the Party ramped up efforts": past tense
    assert actor_link(drive, "ccp", "issuer")
    cites(drive, OPENING, 1, "a slowing Chinese economy even before the COVID-19 pandemic")
    assert {g["slug"] for g in drive["goals"]} == {
        "attract-foreign-capital-ai-goal",
        "indigenous-rd-goal",
    }
    assert {(r["policy"], r["role"]) for r in drive["related_from"]} >= {
        ("shanghai-ftz-2019-expansion-lingang", "part_of"),
        ("mps-12-measures-foreign-talent-2019", "part_of"),
        ("zhongguancun-multinational-rd-drive", "part_of"),
        ("foreign-investment-law", "part_of"),
    }


def test_opening_zhongguancun(client: TestClient) -> None:
    """¶2: Zhongguancun courts multinational research centres; spouse and family benefits."""
    park = fetch(client, "regions/zhongguancun-science-park")
    assert park["kind"] == "science_park"
    assert park["parent"] == "beijing"
    assert [(a["slug"], a["iso_code"]) for a in park["ancestors"]] == [
        ("cn", "CN"),
        ("beijing", "CN-BJ"),
    ]
    cites(park, OPENING, 2, "the country's first high-tech industry pilot zone")

    drive = fetch(client, "policies/zhongguancun-multinational-rd-drive")
    assert drive["status"] == "in_force"  # "has recently intensified efforts"
    cites(drive, OPENING, 2, "has recently intensified efforts")
    assert roles(drive) == {
        ("zhongguancun-administration", "implementer"),
        ("beijing-municipal-government", "implementer"),
        ("multinational-firms", "target"),
    }
    cites(region_link(drive, "zhongguancun-science-park", "location"), OPENING, 2)
    assert {(r["policy"], r["role"]) for r in drive["related_from"]} == {
        ("zhongguancun-permanent-residency-foreign-spouses", "part_of"),
        ("zhongguancun-overseas-talent-incentives", "part_of"),
    }
    goal = fetch(client, "goals/zhongguancun-multinational-rd-goal")
    assert goal["status"] == "in_progress"  # "has recently intensified efforts"
    assert goal["actor"] == "zhongguancun-administration"

    spouses = fetch(client, "policies/zhongguancun-permanent-residency-foreign-spouses")
    cites(spouses, OPENING, 2, 'foreign spouses of Chinese citizens who are considered "high-level')
    incentives = fetch(client, "policies/zhongguancun-overseas-talent-incentives")
    cites(incentives, OPENING, 2, "benefits for their spouse or family")
    for measure in (spouses, incentives):
        assert measure["kind"] == "measure"
        assert measure["status"] == "unknown"  # what the park's effort "includes"
        actor_link(measure, "foreign-talent", "target")
        actor_link(measure, "zhongguancun-administration", "implementer")
    # Beijing (CN-BJ) includes the park, and so the park's policies.
    assert slugs(client, "policies", region="CN-BJ") >= {
        drive["slug"],
        spouses["slug"],
        incentives["slug"],
    }
    assert slugs(client, "policies", topic=["talent", "immigration"]) == {
        "mps-12-measures-foreign-talent-2019",
        spouses["slug"],
        incentives["slug"],
    }


def test_opening_foreign_investment_law(client: TestClient) -> None:
    """¶3: China "amended its Foreign Investment Law" to penalise misuse of commercial secrets.

    The article names no amending act: the record is the law, with its own dates and issuer.
    """
    law = fetch(client, "policies/foreign-investment-law")
    assert law["kind"] == "law"
    assert law["titles"] == {"zh": "中华人民共和国外商投资法"}
    assert law["identifiers"] == [
        {"scheme": "official_document_number", "value": "中华人民共和国主席令第二十六号"}
    ]
    assert (law["announced"], law["in_force_from"]) == ("2019-03-15", "2020-01-01")
    cites_document(law, FIL_TEXT, "于2019年3月15日通过")
    cites_document(law, FIL_TEXT, "自2020年1月1日起施行")
    assert law["status"] == "in_force"  # in force from 2020-01-01, before the article
    assert "intellectual_property" in law["topics"]
    assert roles(law) == {
        ("national-peoples-congress", "issuer"),
        ("foreign-investors", "beneficiary"),
    }
    cites_document(actor_link(law, "national-peoples-congress", "issuer"), FIL_TEXT)
    cites(law, OPENING, 3, "misuse or share commercial secrets from foreign companies")
    cites(relation(law, "foreign-capital-talent-drive-ai", "part_of"), OPENING, 3)
    assert law["related_from"] == []
    assert slugs(client, "policies", kind="amendment") == set()
    assert law["slug"] not in slugs(client, "policies", in_force_on="2019-12")
    assert law["slug"] in slugs(client, "policies", in_force_on="2020-12-21")

    goal = fetch(client, "goals/fil-foreign-investor-concerns")
    assert goal["policy"] == law["slug"]
    assert goal["actor"] == "chinese-government"  # "the government has also shown some awareness"
    cites(goal, OPENING, 3, "pervasive concerns of unfair treatment toward foreign investors")
    npc = fetch(client, "actors/national-peoples-congress")
    assert npc["kind"] == "legislature"
    cites_document(npc, CONSTITUTION, "中华人民共和国全国人民代表大会是最高国家权力机关")


# --- "Nurturing Home-Grown AI Talent and Development Centers" --------------------------------


def test_nurturing_home_grown_drive_and_fyp_proposal(client: TestClient) -> None:
    """¶1: the 14th FYP Proposal's priorities; an AI talent drive already under way."""
    proposal_goals = walk(client, "goals", policy="fourteenth-five-year-plan-proposal")
    assert {g["slug"] for g in proposal_goals} == {
        "fyp-proposal-basic-research",
        "fyp-proposal-young-talent",
        "fyp-proposal-research-ecosystem",
    }
    for goal in proposal_goals:
        cites(goal, NURTURING, 1)
        assert goal["owners"]["policy_title"] == "Proposal for the 14th Five-Year Plan"

    drive = fetch(client, "policies/home-grown-ai-talent-drive")
    assert drive["status"] == "in_force"  # "major efforts are under way"
    assert {"artificial_intelligence", "talent", "education"} <= set(drive["topics"])
    cites(relation(drive, "fourteenth-five-year-plan-proposal", "related_to"), NURTURING, 1)
    cites(drive, NURTURING, 1, "major efforts are under way to generate more AI talent at home")
    assert fetch(client, "goals/home-grown-ai-talent-goal")["status"] == "in_progress"
    assert {r["policy"] for r in drive["related_from"] if r["role"] == "part_of"} == {
        "moe-ai-higher-education-action-plan",
        "ucas-school-of-ai-establishment",
        "tsinghua-institute-for-ai-establishment",
        "tianjin-ai-industrial-upgrade",
        "tianjin-100bn-rmb-ai-fund",
        "guizhou-big-data-development",
        "rural-schools-st-action-plan-2018",
    }


def test_nurturing_moe_action_plan_stages(client: TestClient) -> None:
    """¶2: in 2018, in support of the AIDP, the MoE's plan in three stages (2020, 2025, 2030)."""
    plan = fetch(client, "policies/moe-ai-higher-education-action-plan")
    assert plan["kind"] == "plan"
    assert plan["status"] == "unknown"  # the article does not say whether it is current
    assert plan["announced"] == "2018-04-02"  # "in 2018"; the day from the MoE's notice
    assert plan["in_force_to"] is None  # 2030 is its last stage's deadline, not an expiry
    assert plan["titles"] == {"zh": "高等学校人工智能创新行动计划"}
    assert plan["identifiers"] == [
        {"scheme": "official_document_number", "value": "教技〔2018〕3号"}
    ]
    cites_document(plan, MOE_NOTICE, "2018年4月2日")
    assert roles(plan) == {
        ("ministry-of-education", "issuer"),
        ("moe-convened-university-experts", "contributor"),
    }
    cites(actor_link(plan, "ministry-of-education", "issuer"), NURTURING, 2, "in 2018 convened")
    support = relation(plan, "new-generation-ai-development-plan", "supports")
    cites(support, NURTURING, 2, "In support of the 2017 AIDP")
    cites_document(support, MOE_NOTICE, "为落实《国务院关于印发新一代人工智能发展规划的通知》")
    aidp = fetch(client, "policies/new-generation-ai-development-plan")
    assert {"policy": plan["slug"], "title": plan["title"], "role": "supports"} in (
        aidp["related_from"]
    )
    assert [(g["stage"], g["deadline"]) for g in plan["goals"]] == [
        (1, "2020"),
        (2, "2025"),
        (2, "2025"),
        (3, "2030"),
    ]

    goals = {g["slug"]: g for g in walk(client, "goals", policy=plan["slug"])}
    expected = {
        "moe-ai-higher-education-stage-1": (1, "2020", "higher education curricula by 2020"),
        "moe-ai-higher-education-stage-2-talent": (2, "2025", "enlarge a new generation"),
        "moe-ai-higher-education-stage-2-recognition": (2, "2025", "recognition for AI"),
        "moe-ai-higher-education-stage-3": (3, "2030", "world hub of leading talent by 2030"),
    }
    assert set(goals) == set(expected)
    for slug, (stage, deadline, excerpt) in expected.items():
        goal = goals[slug]
        assert isinstance(goal["stage"], int)
        assert (goal["stage"], goal["deadline"]) == (stage, deadline)
        assert goal["actor"] == "ministry-of-education"
        assert goal["owners"] == {
            "policy_title": plan["title"],
            "actor_name": "Ministry of Education",
        }
        cites(goal, NURTURING, 2, excerpt)
    stage_2 = slugs(client, "goals", policy=plan["slug"], deadline_from="2025", deadline_to="2025")
    assert stage_2 == {
        "moe-ai-higher-education-stage-2-talent",
        "moe-ai-higher-education-stage-2-recognition",
    }
    assert plan["slug"] in slugs(client, "policies", announced_from="2018", announced_to="2018")
    assert plan["slug"] in slugs(
        client, "policies", actor="ministry-of-education", actor_role="issuer"
    )
    ministry = fetch(client, "actors/ministry-of-education")
    assert (ministry["kind"], ministry["parent"]) == ("ministry", "state-council")
    assert {g["slug"] for g in ministry["goals"]} == set(expected)


def test_nurturing_ucas_and_tsinghua(client: TestClient) -> None:
    """¶3: UCAS's new School of AI; Tsinghua's AI institute and its reported partners."""
    school = fetch(client, "actors/ucas-school-of-ai")
    assert school["parent"] == "ucas"
    assert school["kind"] == "university"
    cites(school, NURTURING, 3, "pattern recognition, intelligent human-machine interaction")
    ucas = fetch(client, "actors/ucas")
    assert ucas["aliases"] == ["UCAS"]
    assert ucas["parent"] == "chinese-academy-of-sciences"
    assert ucas["region"] == "beijing"
    assert {c["slug"] for c in ucas["children"]} == {school["slug"]}
    assert slugs(client, "actors", parent="ucas") == {school["slug"]}
    establishment = fetch(client, "policies/ucas-school-of-ai-establishment")
    assert establishment["status"] == "in_force"  # "established new institutions"
    assert roles(establishment) == {("ucas", "implementer"), ("ucas-school-of-ai", "subject")}

    institute = fetch(client, "actors/tsinghua-institute-for-ai")
    assert institute["kind"] == "research_institute"
    assert institute["parent"] == "tsinghua-university"
    tsinghua = fetch(client, "policies/tsinghua-institute-for-ai-establishment")
    partners = {"google", "tencent", "sogou", "horizon-robotics"}
    assert roles(tsinghua) == {
        ("tsinghua-university", "implementer"),
        ("tsinghua-institute-for-ai", "subject"),
        *((partner, "partner") for partner in partners),
    }
    for partner in partners:
        link = actor_link(tsinghua, partner, "partner")
        assert cites(link, NURTURING, 3)["note"] == "reported, prospective partnership"
        actor = fetch(client, f"actors/{partner}")
        assert actor["kind"] == "company"
        assert {"policy": tsinghua["slug"], "title": tsinghua["title"], "role": "partner"} in (
            actor["policies"]
        )
    assert fetch(client, "actors/google")["region"] == "us"
    cites(region_link(tsinghua, "beijing", "location"), NURTURING, 3, "in Beijing")
    assert slugs(client, "policies", actor="google", actor_role="partner") == {tsinghua["slug"]}
    assert slugs(client, "policies", actor="google", actor_role="issuer") == set()
    assert slugs(client, "policies", actor="sogou") == {tsinghua["slug"]}


def test_nurturing_tianjin_fund_and_upgrade(client: TestClient) -> None:
    """¶4: Tianjin's AI hub goal for 2020 and its 100 billion RMB fund pledged at the 2019 WIC."""
    fund = fetch(client, "policies/tianjin-100bn-rmb-ai-fund")
    assert fund["kind"] == "fund"
    assert fund["status"] == "planned"  # a pledge
    assert fund["announced"] is None  # the article does not say when the pledge was made
    assert fund["money"] == {"amount": "100000000000", "currency": "CNY", "approximate": False}
    assert isinstance(fund["money"]["amount"], str)
    # Tianjin hosted the congress; the congress is no party to the fund.
    assert roles(fund) == {
        ("tianjin-municipal-government", "issuer"),
        ("tianjin-municipal-government", "funder"),
    }
    cites(actor_link(fund, "tianjin-municipal-government", "funder"), NURTURING, 4, "100 billion")
    cites(fund, NURTURING, 4, "As the host city of the 2019 World Intelligence Congress")
    cites(region_link(fund, "tianjin", "jurisdiction"), NURTURING, 4)
    cites(fund, NURTURING, 4, "intelligent robots, hardware, and software development")
    congress = fetch(client, "actors/world-intelligence-congress-2019")
    assert (congress["kind"], congress["region"]) == ("forum_event", "tianjin")
    assert congress["policies"] == []
    cites(congress, NURTURING, 4, "As the host city of the 2019 World Intelligence Congress")
    assert slugs(client, "policies", kind="fund") == {fund["slug"]}

    upgrade = fetch(client, "policies/tianjin-ai-industrial-upgrade")
    assert upgrade["status"] == "in_force"  # "has focused on industrial upgrades"
    assert roles(upgrade) == {("tianjin-municipal-government", "implementer")}
    goal = fetch(client, "goals/tianjin-ai-hub-2020")
    assert goal["policy"] == upgrade["slug"]
    assert goal["actor"] == "tianjin-municipal-government"
    assert goal["deadline"] == "2020"  # "a goal set for this year", in a 2020 article
    assert "= 2020" in cites(goal, NURTURING, 4, "with a goal set for this year")["note"]
    assert slugs(client, "goals", deadline_from="2020", deadline_to="2020") == {
        goal["slug"],
        "moe-ai-higher-education-stage-1",
    }
    tianjin = fetch(client, "regions/tianjin")
    assert (tianjin["kind"], tianjin["iso_code"], tianjin["parent"]) == (
        "municipality",
        "CN-TJ",
        "cn",
    )
    assert slugs(client, "policies", region="CN-TJ") == {fund["slug"], upgrade["slug"]}


def test_nurturing_guizhou_and_rural_schools(client: TestClient) -> None:
    """¶4: Guizhou's big data focus and Apple's data centre there; the 2018 rural-schools plan."""
    guizhou = fetch(client, "regions/guizhou")
    assert (guizhou["kind"], guizhou["iso_code"], guizhou["parent"]) == ("province", "CN-GZ", "cn")
    cites(guizhou, NURTURING, 4, "one of the poorest rural provinces in China")

    big_data = fetch(client, "policies/guizhou-big-data-development")
    assert {"data", "rural_development"} <= set(big_data["topics"])
    assert roles(big_data) == {("guizhou-provincial-government", "implementer")}
    assert big_data["status"] == "in_force"  # "has targeted big data development"
    data_centre = fetch(client, "policies/apple-guizhou-data-center")
    assert data_centre["status"] == "unknown"  # a facility, not a measure
    assert roles(data_centre) == {("apple", "implementer"), ("guizhou-cloud-big-data", "partner")}
    cites(actor_link(data_centre, "guizhou-cloud-big-data", "partner"), NURTURING, 4, "partner")
    cites(region_link(data_centre, "guizhou", "location"), NURTURING, 4, "Apple data center")
    cites(relation(data_centre, big_data["slug"], "related_to"), NURTURING, 4)
    assert slugs(client, "policies", region="CN-GZ") == {big_data["slug"], data_centre["slug"]}
    assert fetch(client, "actors/apple")["region"] == "us"
    partner = fetch(client, "actors/guizhou-cloud-big-data")
    assert (partner["kind"], partner["region"]) == ("company", "guizhou")
    assert slugs(client, "actors", region="CN-GZ") == {
        "guizhou-provincial-government",
        "guizhou-cloud-big-data",
    }

    rural = fetch(client, "policies/rural-schools-st-action-plan-2018")
    assert rural["kind"] == "plan"
    assert rural["announced"] == "2018"
    assert rural["status"] == "unknown"
    assert {"education", "science_technology", "rural_development"} <= set(rural["topics"])
    assert roles(rural) == {("rural-schools", "target")}
    cites(rural, NURTURING, 4, "A 2018 action plan more broadly targeted S&T advancement")
    assert slugs(client, "policies", announced_from="2018", announced_to="2018") == {
        rural["slug"],
        "moe-ai-higher-education-action-plan",
    }


def test_talent_topic_finds_the_talent_policies(client: TestClient) -> None:
    talent = walk(client, "policies", topic="talent")
    assert all("talent" in p["topics"] for p in talent)
    assert {p["slug"] for p in talent} >= {
        "foreign-capital-talent-drive-ai",
        "mps-12-measures-foreign-talent-2019",
        "zhongguancun-permanent-residency-foreign-spouses",
        "zhongguancun-overseas-talent-incentives",
        "fourteenth-five-year-plan-proposal",
        "home-grown-ai-talent-drive",
        "moe-ai-higher-education-action-plan",
        "ucas-school-of-ai-establishment",
        "tsinghua-institute-for-ai-establishment",
    }
    assert "tianjin-100bn-rmb-ai-fund" not in {p["slug"] for p in talent}


# --- "U.S. Competition and Actions Help Drive These Ambitions" -------------------------------


def test_us_competition_export_restrictions_and_clean_network(client: TestClient) -> None:
    """¶1: U.S. export restrictions on Chinese firms; the State Department's Clean Network."""
    us = fetch(client, "regions/us")
    assert (us["kind"], us["iso_code"], us["parent"]) == ("country", "US", None)
    cites(us, US_COMPETITION, 1, "the clear leader in AI fields")
    aidp = fetch(client, "policies/new-generation-ai-development-plan")
    cites(aidp, US_COMPETITION, 1, "the main reference point for Chinese efforts to compete")
    cites(actor_link(aidp, "state-council", "issuer"), US_COMPETITION, 1, "in 2017")

    restrictions = fetch(client, "policies/us-export-restrictions-chinese-firms")
    assert restrictions["kind"] == "export_control"
    assert restrictions["status"] == "in_force"  # restrictions "that cut off supplies"
    assert "semiconductors" in restrictions["topics"]
    assert roles(restrictions) == {
        ("trump-administration", "issuer"),
        ("chinese-technology-firms", "target"),
    }
    region_link(restrictions, "us", "jurisdiction")
    cites(region_link(restrictions, "cn", "target"), US_COMPETITION, 1, "ties to China's military")
    cites(restrictions, US_COMPETITION, 1, "key components such as semiconductors")
    cites(relation(restrictions, "trump-measures-chinese-technology", "part_of"), US_COMPETITION, 1)

    clean = fetch(client, "policies/clean-network-initiative")
    assert clean["short_name"] == "Clean Network"
    assert clean["kind"] == "initiative"
    assert clean["status"] == "unknown"  # "sought to build": outcome unstated
    assert roles(clean) == {
        ("us-department-of-state", "issuer"),
        ("chinese-digital-infrastructure-suppliers", "target"),
    }
    cites(actor_link(clean, "us-department-of-state", "issuer"), US_COMPETITION, 1, "Clean Network")
    region_link(clean, "us", "jurisdiction")
    region_link(clean, "cn", "target")
    assert [g["slug"] for g in clean["goals"]] == ["clean-network-coalition"]
    coalition = fetch(client, "goals/clean-network-coalition")
    assert coalition["owners"] == {
        "policy_title": "Clean Network initiative",
        "actor_name": "U.S. Department of State",
    }
    state = fetch(client, "actors/us-department-of-state")
    assert (state["kind"], state["parent"], state["region"]) == ("ministry", "us-government", "us")
    assert "State Department" in state["aliases"]
    assert slugs(client, "policies", actor="us-department-of-state", actor_role="issuer") == {
        clean["slug"]
    }
    assert slugs(client, "policies", actor="trump-administration", actor_role="issuer") == {
        restrictions["slug"],
        "trump-measures-chinese-technology",
    }
    assert slugs(client, "policies", actor="chinese-technology-firms", actor_role="target") == {
        restrictions["slug"],
        "trump-measures-chinese-technology",
    }
    assert slugs(client, "policies", region="US") == {
        restrictions["slug"],
        clean["slug"],
        "trump-measures-chinese-technology",
    }
    firms = fetch(client, "actors/chinese-technology-firms")
    cites(firms, US_COMPETITION, 1, "Chinese firms and researchers competed with U.S.")


def test_us_competition_transition_and_outlook(client: TestClient) -> None:
    """¶2: S&T self-reliance unfolds as the U.S. changes administration; details unknown."""
    incoming = fetch(client, "actors/incoming-us-administration")
    assert incoming["kind"] == "foreign_government"
    assert incoming["parent"] == "us-government"
    cites(incoming, US_COMPETITION, 2, "transitions to a new presidential administration")
    assert incoming["policies"] == []
    assert slugs(client, "actors", parent="us-government") == {
        "trump-administration",
        "us-department-of-state",
        "incoming-us-administration",
    }
    plenum = fetch(client, "policies/fifth-plenum-st-self-reliance")
    cites(plenum, US_COMPETITION, 2, "relevant U.S. policies are still unknown")
    umbrella = fetch(client, "policies/china-ai-leadership-efforts")
    cites(umbrella, US_COMPETITION, 2, "numerous other advanced industries")


# --- across the article: statuses, Chinese names and search ---------------------------------

# Each policy's status and the article's words that establish it; `unknown` where they do not.
STATUSES = {
    "fourteenth-five-year-plan": ("planned", INTRO, 2, "the upcoming 14th Five-Year Plan"),
    "tianjin-100bn-rmb-ai-fund": ("planned", NURTURING, 4, "pledged to set up a 100 billion"),
    "shanghai-ftz-designation": ("in_force", OPENING, 1, "expanded the Shanghai Free Trade Zone"),
    "shanghai-ftz-2019-expansion-lingang": ("in_force", OPENING, 1, "In 2019, the State Council"),
    "special-economic-zones": ("in_force", OPENING, 1, "China's special economic zones, such as"),
    "zhongguancun-multinational-rd-drive": ("in_force", OPENING, 2, "recently intensified"),
    "foreign-investment-law": ("in_force", OPENING, 3, "China amended its Foreign Investment Law"),
    "home-grown-ai-talent-drive": ("in_force", NURTURING, 1, "major efforts are under way"),
    "ucas-school-of-ai-establishment": ("in_force", NURTURING, 3, "established new institutions"),
    "tsinghua-institute-for-ai-establishment": (
        "in_force",
        NURTURING,
        3,
        "established an Institute",
    ),
    "tianjin-ai-industrial-upgrade": (
        "in_force",
        NURTURING,
        4,
        "has focused on industrial upgrades",
    ),
    "guizhou-big-data-development": ("in_force", NURTURING, 4, "has targeted big data development"),
    "us-export-restrictions-chinese-firms": ("in_force", US_COMPETITION, 1, "cut off supplies"),
}


def test_statuses_are_those_the_article_establishes(client: TestClient) -> None:
    policies = walk(client, "policies")
    for policy in policies:
        expected = STATUSES.get(policy["slug"])
        if expected is None:
            assert policy["status"] == "unknown", policy["slug"]
            continue
        status, section, paragraph, excerpt = expected
        assert policy["status"] == status, policy["slug"]
        cites(policy, section, paragraph, excerpt)
    assert Counter(p["status"] for p in policies) == {"unknown": 14, "in_force": 11, "planned": 2}


def test_chinese_names_are_cited_and_searchable(client: TestClient) -> None:
    """Names a China analyst would search for find their records (CJK runs match by pairs)."""
    searches = {
        "十四五": "fourteenth-five-year-plan",
        "新一代人工智能发展规划": "new-generation-ai-development-plan",
        "高等学校人工智能创新行动计划": "moe-ai-higher-education-action-plan",
        "外商投资法": "foreign-investment-law",
        "经济特区": "special-economic-zones",
        "十九届五中全会": "fifth-plenum-19th-central-committee",
        "中共中央": "ccp-19th-central-committee",
        "全国人大": "national-peoples-congress",
        "上海自贸区": "shanghai-free-trade-zone",
        "临港新片区": "lingang-new-area",
        "教育部": "ministry-of-education",
    }
    for query, slug in searches.items():
        found = fetch(client, "search", q=query, limit=50)["items"]
        assert slug in [hit["slug"] for hit in found], query
    plan = fetch(client, "policies/fourteenth-five-year-plan")
    cites_document(plan, PROPOSAL, "“十四五”时期")
    # A Chinese name no cited document gives is left out rather than asserted.
    for actor in ("zhongguancun-administration", "horizon-robotics", "guizhou-cloud-big-data"):
        assert fetch(client, f"actors/{actor}")["names"] == {}
    beijing = fetch(client, "regions/beijing")
    assert beijing["names"] == {"zh": "北京", "zh-Latn-pinyin": "Běijīng"}
    cites_document(beijing, REGION_CODES, "北京市")
    cites_document(beijing, CONSTITUTION, "中华人民共和国首都是北京")
    cites_document(beijing, "hanyu-pinyin-scheme-1958")
    ccp = fetch(client, "actors/ccp")
    assert {"CCP", "Communist Party of China", "中共"} <= set(ccp["aliases"])


# --- citations across the whole dataset ------------------------------------------------------


def test_every_record_and_link_is_cited(client: TestClient) -> None:
    sources = slugs(client, "sources")
    counts: Counter[str] = Counter()
    for resource, kind in RECORD_LISTS.items():
        for record in walk(client, resource):
            counts[kind] += 1
            links = [link for f in LINK_LISTS for link in record[f]] if kind == "policy" else []
            counts["link"] += len(links)
            for item in [record, *links]:
                assert item["citations"], f"{kind} {record['slug']}: uncited {item}"
                for citation in item["citations"]:
                    assert citation["source"] in sources, citation
                    assert isinstance(citation["source_title"], str)
                    if citation["source"] == ARTICLE:  # a locator and a quotation
                        assert citation["section"] and citation["excerpt"], citation
                        assert isinstance(citation["paragraph"], int), citation
                    else:  # a primary document, which speaks for itself
                        assert citation["note"] is None, citation
    assert counts == {
        "policy": 27,
        "actor": 41,
        "region": 11,
        "goal": 18,
        "link": 109,
    }


def test_article_citations_quote_the_paragraph_they_point_at(
    client: TestClient, article_path: Path
) -> None:
    paragraphs = article_paragraphs(article_path)
    assert len([key for key in paragraphs if key[0] == HEADER]) == HEADER_LINES
    cited: set[tuple[str, int]] = set()
    for kind, record, link, citation in every_citation(client):
        if citation["source"] != ARTICLE:
            continue
        key = (citation["section"], citation["paragraph"])
        assert key in paragraphs, (kind, record, link, citation)
        assert citation["excerpt"] in paragraphs[key], (kind, record, link, citation)
        cited.add(key)
    # Every paragraph of the body is cited somewhere.
    body = {key for key in paragraphs if key[0] != HEADER}
    assert body <= cited, sorted(body - cited)


def test_source_shows_what_it_supports(client: TestClient) -> None:
    citations = every_citation(client)
    sources = {slug: fetch(client, f"sources/{slug}") for slug in slugs(client, "sources")}
    for slug, source in sources.items():
        supports = source["supports"]
        expected = Counter(
            (kind, record, link, c["section"], c["paragraph"], c["excerpt"], c["note"])
            for kind, record, link, c in citations
            if c["source"] == slug
        )
        shown = Counter(
            (
                s["type"],
                s["record"],
                s["link"],
                s["section"],
                s["paragraph"],
                s["excerpt"],
                s["note"],
            )
            for s in supports
        )
        assert len(supports) == sum(expected.values())
        assert shown == expected
    article = sources[ARTICLE]
    types = {s["type"] for s in article["supports"]}
    assert types == {*RECORD_LISTS.values(), *LINK_LISTS.values()}
    assert len(article["supports"]) == 229
    for fact in article["supports"]:
        assert (fact["link"] is None) == (fact["type"] in RECORD_LISTS.values()), fact
    assert {
        "type": "policy_actor",
        "record": "new-generation-ai-development-plan",
        "link": "issuer: state-council",
        "section": US_COMPETITION,
        "paragraph": 1,
        "excerpt": "When the Chinese government released its AI plan in 2017",
        "note": None,
    } in article["supports"]
    fil = sources[FIL_TEXT]["supports"]
    assert {(s["type"], s["record"], s["link"]) for s in fil} == {
        ("policy", "foreign-investment-law", None),
        ("policy_actor", "foreign-investment-law", "issuer: national-peoples-congress"),
        ("actor", "national-peoples-congress", None),
        ("actor", "xi-jinping", None),
    }


def test_dates_and_amounts_are_typed_strings(client: TestClient) -> None:
    """Dates are reduced-precision ISO strings; decimals are strings without trailing zeros."""
    policies = walk(client, "policies")
    goals = walk(client, "goals")
    dates = [p[f] for p in policies for f in ("announced", "in_force_from", "in_force_to")]
    dates += [g["deadline"] for g in goals]
    dates += [s["published"] for s in walk(client, "sources")]
    for value in dates:
        assert value is None or (isinstance(value, str) and PARTIAL_DATE.match(value)), value
    precision = Counter(len(d.split("-")) for d in dates if d is not None)
    assert set(precision) == {1, 2, 3}  # year, month and day precision all occur
    amounts = [p["money"]["amount"] for p in policies if p["money"]]
    amounts += [g[f] for g in goals for f in ("target_value", "baseline_value")]
    for value in amounts:
        assert value is None or (isinstance(value, str) and DECIMAL.match(value)), value
    assert sorted(a for a in amounts if a is not None) == ["100000000000", "50000", "5000000"]
