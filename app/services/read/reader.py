"""A resource's documents from its spec: dicts from Python, JSON from the database."""

from collections.abc import Sequence

from pydantic_core import to_json
from sqlalchemy.orm import Session

from app.resources.document import DocumentSpec
from app.services.read.python_builder import Document, DocumentPlan
from app.services.read.sql_builder import documents_sql, json_documents


class DocumentReader:
    """Reads the documents one spec declares, by id, in the order asked for."""

    def __init__(self, spec: DocumentSpec) -> None:
        self.spec = spec
        self.plan = DocumentPlan(spec)
        self._statements: dict[str, str | None] = {}

    def dicts(self, session: Session, ids: Sequence[int]) -> list[Document]:
        """The documents as dicts (missing ids are skipped)."""
        found = self.plan.build(session, ids)
        return [found[i] for i in ids if i in found]

    def statement(self, session: Session) -> str | None:
        """The SQL writing these documents on the session's engine; None if there is none."""
        dialect = session.get_bind().dialect
        if dialect.name not in self._statements:
            self._statements[dialect.name] = documents_sql(self.spec, dialect)
        return self._statements[dialect.name]

    def json(self, session: Session, ids: Sequence[int]) -> list[bytes]:
        """``to_json`` of each document, written by the database where it can write it
        exactly, and by the Python builder otherwise (missing ids are skipped)."""
        statement = self.statement(session)
        if statement is None:
            return [to_json(d) for d in self.dicts(session, ids)]
        found = dict(json_documents(session, statement, ids))
        if inexact := [i for i, text in found.items() if text is None]:
            found.update((i, to_json(d)) for i, d in self.plan.build(session, inexact).items())
        return [text for i in ids if (text := found.get(i)) is not None]
