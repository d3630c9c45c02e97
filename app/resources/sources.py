"""Sources: the documents that state facts; every citation names one."""

from app.models import Source
from app.resources.descriptor import Facet, Resource, SearchText, Sortable, text_search, timestamps
from app.schemas.source import SourceOut, SourceRecord

SOURCES = Resource(
    name="sources",
    singular="source",
    model=Source,
    record=SourceRecord,
    document=SourceOut,
    cited_as=None,
    label=Source.title,
    search=SearchText(Source.title, (Source.publisher, Source.series, Source.authors)),
    facets={
        "publisher": Facet("publisher", Source.publisher),
        "language": Facet("language", Source.language),
    },
    sortable={
        **timestamps(Source),
        "title": Sortable(Source.title),
        "published": Sortable(Source.published_earliest, nullable=True),
    },
    filters={"q": text_search(Source)},
)
