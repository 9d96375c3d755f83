"""Third-party deprecation noise kept out of a server's output; real warnings still show.

Sanic turns every DeprecationWarning on when it is imported (`filterwarnings("once", ...)`), so the
Rasa server and the action server would print each deprecated call their libraries make
(TensorFlow, jax, pkg_resources, SQLAlchemy, matplotlib, ...). Their entry points call `quiet()`
before anything else is imported; its filters then sit in front of Sanic's. MILEA_WARNINGS=all
(core/settings.py) leaves every warning on.
"""
from __future__ import annotations

import importlib
import warnings

# Libraries whose deprecations the project cannot act on: their own calls, or Rasa's calls of them.
THIRD_PARTY = ("tensorflow", "tensorflow_addons", "tensorflow_hub", "tensorflow_text", "keras", "jax", "jaxlib",
               "pkg_resources", "setuptools", "sqlalchemy", "matplotlib", "pyparsing", "sanic", "sanic_cors",
               "sanic_routing", "apscheduler", "rasa", "rasa_sdk", "google", "absl", "flatbuffers", "dask",
               "networkx", "sklearn", "scipy", "numpy", "spacy", "websockets", "aiohttp", "twilio", "chromadb",
               "onnxruntime", "pydantic", "ruamel", "mpl_toolkits", "dateutil", "pytz", "jsonschema")
MODULES = r"(" + "|".join(THIRD_PARTY) + r")(\..*)?$"


def quiet(show_all: bool = False, preload: tuple[str, ...] = ()) -> None:
    """Hide DeprecationWarnings (and their subclasses) that the libraries above raise or trigger.

    Args:
        show_all: MILEA_WARNINGS=all: change nothing.
        preload: modules imported now, under these filters, because a later import of theirs would
            come after a filter we cannot stay in front of (Rasa turns every UserWarning on at start,
            and pyparsing's deprecations, which matplotlib triggers, are UserWarnings too).
    """
    if show_all:
        return
    import sanic.app  # noqa: F401 - its import adds the "once" filter that ours must come before

    for category in (DeprecationWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=MODULES)
    for module in preload:
        importlib.import_module(module)
