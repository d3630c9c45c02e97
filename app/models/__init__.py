"""SQLAlchemy tables; importing this package registers every table on Base.metadata."""

from app.models.actor import Actor
from app.models.api_key import ApiKey
from app.models.base import Base
from app.models.citation import Citation
from app.models.goal import Goal
from app.models.history import HistoryEntry
from app.models.installation import InstallationSecret
from app.models.policy import Policy, PolicyActor, PolicyRegion, PolicyRelation, PolicyTopic
from app.models.region import Region
from app.models.search import SearchDocument
from app.models.source import Source

__all__ = [
    "Actor",
    "ApiKey",
    "Base",
    "Citation",
    "Goal",
    "HistoryEntry",
    "InstallationSecret",
    "Policy",
    "PolicyActor",
    "PolicyRegion",
    "PolicyRelation",
    "PolicyTopic",
    "Region",
    "SearchDocument",
    "Source",
]
