"""Aggregates: the consistency boundaries of the ledger."""

from ledger.aggregates.api_token import ApiToken
from ledger.aggregates.budget_line import BudgetLine
from ledger.aggregates.catalogue import ClassificationCatalogue
from ledger.aggregates.command_record import CommandRecord
from ledger.aggregates.department import Department, DepartmentMembership
from ledger.aggregates.fiscal_year import FiscalYear, YearStatus
from ledger.aggregates.project import Project
from ledger.aggregates.reserve import NonFiscalReserve
from ledger.aggregates.unit import Unit, UnitName, resolve_unit_code

__all__ = [
    "ApiToken",
    "BudgetLine",
    "ClassificationCatalogue",
    "CommandRecord",
    "Department",
    "DepartmentMembership",
    "FiscalYear",
    "NonFiscalReserve",
    "Project",
    "Unit",
    "UnitName",
    "YearStatus",
    "resolve_unit_code",
]
