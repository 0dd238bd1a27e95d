"""``POST /v1/batch``: many commands in one request, decided and stored as an import is
(:meth:`~commands.handlers.CommandHandler.handle_batch`, one transaction): each command
carries its own ``command_id`` and gets its own result; the batch stops at the first
command the books refuse — those before it are stored, it and those after it are not, and
sending the same batch again replays the stored ones and carries on. Every command is
checked against the caller's role and units and posted as the token's identity; results
and errors are shown as the caller's clearance allows. A batch with a malformed command
is refused whole (422, naming it) before anything is decided."""

from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from commands.app_state import ledger_of
from commands.handlers import CommandHandler
from commands.models import parse_command
from commands.problems import STATUS, problem
from ledger.errors import LedgerError
from ledger.roles import Role

#: Most commands in one request (one transaction: the import's largest batch).
MAX_COMMANDS = 5000
PATH = "/v1/batch"


class BatchRequest(BaseModel):
    """Commands in the import format (``type``, ``command_id`` and the fields), in order;
    ``posted_by`` is the token's identity and may be left out."""

    model_config = ConfigDict(extra="forbid")
    commands: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_COMMANDS)


def add_batch_route(app: FastAPI, caller_dependency: Any, responses: Any) -> None:
    """Add the batch route; ``caller_dependency`` admits clerks and above (each command's
    own role and unit are checked as it is decided)."""

    @app.post(PATH, tags=["commands"], responses=responses, summary="Many commands at once")
    def batch(
        request: Request,
        body: Annotated[BatchRequest, Body()],
        caller: Annotated[Any, Depends(caller_dependency(Role.CLERK))],
    ) -> Response:
        """Apply up to 5,000 commands in one transaction, stopping at the first the books
        refuse; one result per command stored or replayed."""
        request.state.command = "batch"
        identity = caller.actor.identity
        commands = []
        for index, data in enumerate(body.commands):
            if data.get("posted_by", identity) != identity:
                return problem(
                    422,
                    "invalid_input",
                    f"commands[{index}]: posted_by is the token's identity ({identity}); "
                    "leave it out",
                )
            try:
                commands.append(parse_command({**data, "posted_by": identity}))
            except LedgerError as error:
                request.state.outcome = error.code
                return problem(
                    422, error.code, f"commands[{index}]: {error.message_for(caller.clearance)}"
                )
        handler = CommandHandler(ledger_of(request), actor=caller.actor)
        outcome = handler.handle_batch(commands, actors=[caller.actor] * len(commands))
        results = [r.shown_to(caller.clearance).model_dump(mode="json") for r in outcome.results]
        summary = {
            "applied": sum(r["status"] == "applied" for r in results),
            "already_applied": sum(r["status"] == "already_applied" for r in results),
            "results": results,
        }
        if outcome.error is None:
            request.state.outcome = "applied"
            return JSONResponse({"ok": True, **summary})
        refused, at = outcome.error, outcome.failed_index or 0
        request.state.outcome = refused.code
        status = next((s for cls, s in STATUS.items() if isinstance(refused, cls)), 422)
        return problem(
            status,
            refused.code,
            f"commands[{at}] ({commands[at].command_id}) was refused: "
            f"{refused.message_for(caller.clearance)}. The {len(results)} before it are "
            "stored; it and those after it are not",
            failed_index=at,
            ok=False,
            **summary,
        )
