"""What the service's composition root leaves on the application for its routes (the API's
and the web page's alike): the services built once at start."""

from __future__ import annotations

from fastapi import Request

from ledger.composition import Services


def services_of(request: Request) -> Services:
    """The ledger, its read-model store and its job locks, as the service built them."""
    services: Services = request.app.state.services
    return services
