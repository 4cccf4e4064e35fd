"""Time-to-event endpoints: event-time models, accrual and dropout (:mod:`.models`), and the closed-form sizing
of log-rank designs (:mod:`.sizing`). The simulation of trials lives with the other endpoint families
(:mod:`planner.endpoints.time_to_event`)."""
