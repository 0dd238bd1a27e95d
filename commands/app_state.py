"""What the service's composition root leaves on the application for its routes (the API's
and the web page's alike): the services built once at start."""

from __future__ import annotations

from fastapi import FastAPI, Request

from ledger.application import Ledger
from ledger.composition import Services


def ledger_of(request: Request) -> Ledger:
    """The service's ledger."""
    return services_of(request).ledger


def services_of(request: Request) -> Services:
    """The ledger, its read-model store and its job locks, as the service built them."""
    return services_of_app(request.app)


def services_of_app(app: FastAPI) -> Services:
    """The services the application was started with."""
    services: Services = app.state.services
    return services
