"""fundflow's domain: money, classifications, aggregates, events and the application."""
