"""How the network counts an SMS: GSM-7 (160 per single SMS, 153 per segment of a long one, extension
characters such as EUR or brackets take two septets) or UCS-2 as soon as one character is outside GSM-7
(70 / 67 UTF-16 code units; an emoji takes two); and typographic characters replaced by GSM-7 look-alikes.
Shared by the SMS channel (channels/sms_text.py) and the console's campaign estimate."""
from __future__ import annotations

MAX_SMS_CHARS = 1600  # Twilio rejects longer bodies (error 21617)
GSM_SINGLE, GSM_SEGMENT = 160, 153
UCS2_SINGLE, UCS2_SEGMENT = 70, 67

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
GSM7 = GSM7_BASIC | GSM7_EXTENSION

# Typographic characters that would force UCS-2 (2.3x the segments) for no visible gain.
_GSM_FRIENDLY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2022": "-", "\u00b7": "-",
})


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7 for ch in text)


def encoding(text: str) -> str:
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def _width(ch: str, gsm: bool) -> int:
    if gsm:
        return 2 if ch in GSM7_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1


def sms_units(text: str) -> int:
    """Length as the network counts it: septets for GSM-7, UTF-16 code units for UCS-2."""
    gsm = is_gsm7(text)
    return sum(_width(ch, gsm) for ch in text)


def segment_count(text: str) -> int:
    if not text:
        return 0
    units = sms_units(text)
    single, segment = (GSM_SINGLE, GSM_SEGMENT) if is_gsm7(text) else (UCS2_SINGLE, UCS2_SEGMENT)
    return 1 if units <= single else -(-units // segment)


def gsm_friendly(text: str) -> str:
    """Replace curly quotes, dashes, ellipses and odd spaces by their GSM-7 look-alikes."""
    return text.translate(_GSM_FRIENDLY)
