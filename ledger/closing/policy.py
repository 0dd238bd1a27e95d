"""The closing policy: a TOML file that decides, per line, carry over or lapse."""

from __future__ import annotations

import tomllib
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ledger.classifications import FundSource, Nature
from ledger.errors import InvalidInput


class Outcome(StrEnum):
    """What happens to a line's unspent balance at year end."""

    CARRY_OVER = "carry_over"
    LAPSE = "lapse"


class Rules(BaseModel):
    """Outcomes by kind of line; unset means "ask the next, less specific rule"."""

    model_config = ConfigDict(extra="forbid")
    basic: Outcome | None = None
    continuing_project: Outcome | None = None
    finished_project: Outcome | None = None


class ProjectRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Outcome


class ClosingPolicy(BaseModel):
    """The whole policy file."""

    model_config = ConfigDict(extra="forbid")
    adjustment_period_days: int = Field(default=90, ge=0, le=366)
    default: Rules = Rules(
        basic=Outcome.LAPSE,
        continuing_project=Outcome.CARRY_OVER,
        finished_project=Outcome.LAPSE,
    )
    fund_source: dict[FundSource, Rules] = {}
    project: dict[str, ProjectRule] = {}
    """Keyed ``"UNIT/PROJECT"``."""

    def outcome_for(
        self,
        *,
        unit_code: str,
        nature: Nature,
        fund_source: FundSource,
        project_code: str | None,
        continuing: bool,
    ) -> tuple[Outcome, str]:
        """The outcome for a line, and the rule that decided it (for the audit trail)."""
        if project_code is not None:
            rule = self.project.get(f"{unit_code}/{project_code}")
            if rule is not None:
                return rule.outcome, f'project."{unit_code}/{project_code}"'
        if nature is not Nature.PROJECT:  # basic lines and the others without a project
            field = "basic"
        elif continuing:
            field = "continuing_project"
        else:
            field = "finished_project"
        source_rules = self.fund_source.get(fund_source)
        if source_rules is not None and getattr(source_rules, field) is not None:
            return getattr(source_rules, field), f"fund_source.{fund_source.value}.{field}"
        outcome = getattr(self.default, field)
        if outcome is None:
            raise InvalidInput(f"the closing policy has no default rule for {field}")
        return outcome, f"default.{field}"

    def snapshot(self) -> dict[str, Any]:
        """The policy as plain data, recorded with the close."""
        return self.model_dump(mode="json")


def default_policy_path() -> Path:
    return Path(str(files("ledger.closing") / "default-policy.toml"))


def load_policy(path: Path | None = None) -> ClosingPolicy:
    """Read a policy file (the packaged default when ``path`` is None)."""
    path = path or default_policy_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InvalidInput(f"cannot read the closing policy {path}: {error}") from None
    try:
        return ClosingPolicy.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise InvalidInput(f"the closing policy {path} is not valid: {problems}") from None
