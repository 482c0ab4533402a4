"""Pure domain: no Qt, no I/O. Entities, ports (Protocols), errors, progress and cancellation."""
