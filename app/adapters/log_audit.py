"""Interim audit trail: decisions as one JSON line each in the application log (`aktenlotse.log`).

This implements the `AuditTrail` port so that every review decision is recorded from day one. It is NOT
tamper-evident; the hash-chained, HMAC-signed audit log of the audit issue replaces it in the bootstrap.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime, timezone

log = logging.getLogger("aktenlotse.audit")


class LogAuditTrail:
    def record(self, action: str, fields: Mapping[str, object]) -> None:
        entry = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "action": action, **fields}
        log.info("%s", json.dumps(entry, ensure_ascii=False, default=str))
