"""The values the papers print (``paper/published.yaml``), quoted, never computed here."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
PAPER_DIR = REPO_ROOT / "paper"
DEFAULT_PUBLISHED = PAPER_DIR / "published.yaml"


def load_published(path: Path | str | None = None) -> dict:
    """Every published block of ``paper/published.yaml`` (or another file of its layout)."""
    p = Path(path) if path else DEFAULT_PUBLISHED
    if not p.exists():
        raise FileNotFoundError(f"published values not found: {p}")
    try:
        return yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"published values {p} are not valid YAML: {err}") from None
