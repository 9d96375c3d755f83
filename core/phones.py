"""Phone numbers in logs and notices."""
from __future__ import annotations

import re
from typing import Any


def mask_phone(number: Any) -> str:
    """'+15550001111' -> '***1111' (logs never carry a whole number)."""
    digits = re.sub(r"\D", "", str(number or ""))
    return f"***{digits[-4:]}" if len(digits) >= 4 else "***"
