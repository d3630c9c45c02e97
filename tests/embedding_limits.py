"""Documents that embed fewer rows of their limited lists, so tests of hubs stay small."""

from dataclasses import replace

import pytest

from app.resources.document import Embedded
from app.services import documents
from app.services.read import DocumentReader
from app.services.resources import ResourceName


def embed_at_most(monkeypatch: pytest.MonkeyPatch, resource: ResourceName, limit: int) -> None:
    """Until the test ends, ``resource``'s documents embed at most ``limit`` rows of each
    list the spec limits (a hub's policies, an actor's goals, a source's supports)."""
    spec = documents._READERS[resource].spec
    fields = tuple(
        replace(f, limit=limit) if isinstance(f, Embedded) and f.limit is not None else f
        for f in spec.fields
    )
    reader = DocumentReader(replace(spec, fields=fields))
    monkeypatch.setitem(documents._READERS, resource, reader)
