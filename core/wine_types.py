"""A wine's type from its varietal, for the catalog the assistant reads and the demo store alike."""
from __future__ import annotations

_WHITE = ("chardonnay", "blanc", "gruner", "grüner", "veltliner", "riesling", "seyval", "grigio", "gris",
          "white")


def wine_type(varietal: str) -> str:
    """'sparkling', 'rose', 'white' or 'red' (any other grape); '' for no varietal.

    Args:
        varietal: as Commerce7 holds it, e.g. "Cabernet Franc", "Sparkling (Chardonnay and Pinot Noir)".
    """
    v = (varietal or "").casefold()
    if "sparkling" in v:
        return "sparkling"
    if "rose" in v or "rosé" in v:
        return "rose"
    if any(w in v for w in _WHITE):
        return "white"
    return "red" if v.strip() else ""
