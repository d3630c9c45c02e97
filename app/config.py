"""Settings from the environment (prefix ``POLICYDB_``), read when asked for, not at import."""

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of a policydb deployment; each one is documented in the README."""

    model_config = SettingsConfigDict(env_prefix="POLICYDB_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./policydb.sqlite3",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    default_page_size: int = Field(default=50, ge=1)
    max_page_size: int = Field(default=200, ge=1)
    count_cap: int = Field(
        default=100_000, ge=1, description="Lists count matching rows up to this many."
    )
    max_body_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    max_import_records: int = Field(default=200_000, ge=1)
    max_record_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest body of a record or key write (an import may be max_body_bytes).",
    )
    max_json_depth: int = Field(
        default=64, ge=8, le=1000, description="Deepest nesting of a JSON or YAML body."
    )
    max_errors: int = Field(
        default=100, ge=1, description="Problems listed in one answer (the total is given)."
    )
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="The server's public base URL (e.g. https://policy.example.org): the "
        "reconciliation manifest's links and identifier space; unset: the request's own.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses (or CIDR networks) of proxies whose X-Forwarded-For is "
        "believed; empty: none, the connecting address is the client.",
    )
    cursor_secret: str | None = Field(
        default=None,
        description="HMAC key that signs paging cursors so a tampered cursor is detected; "
        "unset: a random key generated on first start and kept in the database.",
    )
    facet_max_values: int = Field(default=30, ge=1, description="Values listed per facet.")
    facet_budget_ms: int = Field(default=2000, ge=10, description="Time budget per facet.")
    graph_default_nodes: int = Field(default=200, ge=1)
    graph_max_nodes: int = Field(default=1000, ge=1)
    graph_max_depth: int = Field(default=4, ge=1)
    expand_max_depth: int = Field(default=10, ge=1, description="Relation chain depth.")
    expand_max_links: int = Field(
        default=200, ge=1, description="Policies listed in one relation chain."
    )
    require_if_match: bool = Field(
        default=False, description="Writes without If-Match are refused (428)."
    )
    read_concurrency: int = Field(
        default=0,
        ge=0,
        description="Requests of one process that read at once; 0: 4 on SQLite, no limit on "
        "PostgreSQL.",
    )
    query_timeout_ms: int = Field(
        default=10_000, ge=10, description="Longest a request's database work may run (503)."
    )
    import_timeout_ms: int = Field(
        default=600_000,
        ge=1000,
        description="Longest an HTTP import's database work may run (instead of "
        "query_timeout_ms, which bounds every other request).",
    )
    rate_limit_per_second: float = Field(
        default=50.0, ge=0, description="Sustained requests per second per client; 0: no limit."
    )
    rate_limit_burst: int = Field(default=200, ge=1, description="Requests a client may burst.")
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS; empty: CORS off."
    )
    seed_on_start: bool = Field(
        default=True, description="`policydb serve` loads seed_data/ into an empty database."
    )

    @field_validator("database_url")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:// and postgresql:// URLs are supported")
        return value


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
