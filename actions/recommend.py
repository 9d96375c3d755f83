"""Offline wine recommender: filters and scores the catalog rows (live price and
stock + the structured attributes) against what the customer asked for.

It only ever names wines of the catalog and facts of their rows, so its answer
is safe to send without a model, and is what the LLM answer falls back to.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional, Sequence

from actions.answering.numbers import with_digits
from actions.wine_catalog import WineRow

TYPE_WORDS = {
    "red": "red", "reds": "red", "rouge": "red", "white": "white", "whites": "white", "blanc": None,
    "rose": "rose", "rosé": "rose", "roses": "rose", "rosés": "rose", "pink": "rose", "sparkling": "sparkling", "bubbly": "sparkling",
    "bubbles": "sparkling", "fizz": "sparkling", "fizzy": "sparkling", "champagne": "sparkling",
    "prosecco": "sparkling",
}
# Foods customers name -> the words the attributes use.
FOODS = {
    "steak": "steak", "steaks": "steak", "ribeye": "steak", "filet": "steak", "beef": "beef", "brisket": "beef",
    "prime rib": "prime rib", "short ribs": "short rib", "short rib": "short rib", "burger": "burger",
    "burgers": "burger", "lamb": "lamb", "pork": "pork", "ham": "pork", "duck": "duck", "chicken": "chicken",
    "turkey": "chicken", "thanksgiving": "chicken", "salmon": "fish", "smoked salmon": "smoked salmon",
    "fish": "fish", "cod": "fish", "halibut": "fish", "tuna": "fish", "trout": "fish", "oyster": "oyster",
    "oysters": "oyster", "clam": "clam", "clams": "clam", "shellfish": "shellfish", "mussels": "shellfish",
    "scallops": "shellfish", "shrimp": "shrimp", "prawns": "shrimp", "crab": "crab", "lobster": "lobster",
    "lobster roll": "lobster roll", "pasta": "creamy pasta", "mushroom": "mushroom", "mushrooms": "mushroom",
    "cheese": "cheese", "cheeses": "cheese", "goat cheese": "goat cheese", "brie": "soft cheese",
    "charcuterie": "charcuterie", "salad": "salad", "salads": "salad", "veggies": "vegetable",
    "vegetables": "vegetable", "sushi": "sushi", "thai": "thai", "spicy": "spicy food", "curry": "spicy food",
    "schnitzel": "schnitzel", "stew": "beef stew", "appetizers": "appetizer", "apps": "appetizer",
    "snacks": "salty snack", "brunch": "brunch", "fruit": "fruit", "bbq": "burger", "barbecue": "burger",
    "pizza": "burger", "tacos": "spicy food",
}
OCCASIONS = {
    "celebration": ("celebration", "sparkling"), "celebrate": ("celebration", "sparkling"),
    "party": ("celebration", "sparkling"), "wedding": ("celebration", "sparkling"),
    "anniversary": ("celebration", "sparkling"), "new year": ("celebration", "sparkling"),
    "toast": ("celebration", "sparkling"), "picnic": ("salad", "rose"), "summer": ("salad", "rose"),
    "patio": ("appetizer", "rose"), "beach": ("salad", "rose"), "pool": ("salad", "rose"),
}
GIFT = re.compile(r"\b(gift|present|birthday|b-?day|bday|boss|host|hostess|impress|special occasion|thank you gift)\b", re.I)
_GRAPES = ("pinot noir", "cabernet sauvignon", "cab sauv", "cabernet franc", "cab franc", "merlot", "syrah", "shiraz",
           "malbec", "zinfandel", "sauvignon blanc", "sauv blanc", "pinot grigio", "pinot gris", "riesling",
           "chardonnay", "chard", "albarino", "chablis", "champagne", "prosecco", "cava", "bordeaux", "rose",
           "gamay", "muscadet", "gruner", "seyval")
_GRAPE_NORMAL = {"cab sauv": "cabernet sauvignon", "cab franc": "cabernet franc", "sauv blanc": "sauvignon blanc",
                 "chard": "chardonnay", "pinot gris": "pinot grigio", "shiraz": "syrah", "gruner": "gruner veltliner",
                 "seyval": "seyval blanc"}
# a ceiling said before the number ("nothing over $40", "under 35", "max 50") or after it ("$40 or less")
_UNDER = re.compile(r"(?:\b(?:under|below|less than|cheaper than|(?:no|not|nothing|none|not anything) (?:more than|over|"
                    r"above|higher than|pricier than)|max(?:imum)?(?: of)?|up to|at most|within|budget(?: is| of)?|"
                    r"<=?)\s*\$?\s*(\d+))|(?:\$\s*(\d+)\s*(?:or (?:less|under|below|cheaper)|max|tops|and under|"
                    r"or so max)\b)", re.I)
_TYPE = "|".join(sorted((w for w, k in TYPE_WORDS.items() if k), key=len, reverse=True))
# a type of wine said to be left out: "not counting sparkling", "reds aren't my thing", "no rosé"
_LEFT_OUT = re.compile(rf"\b(?:not counting|except(?: for)?|excluding|other than|apart from|no|not|never drink|"
                       rf"(?:do ?n[o']?t|dont) (?:like|drink|do|want|care for|love)|not (?:a fan of|into|big on)|hate|"
                       rf"can'?t stand)\s+(?:\w+\s+)?({_TYPE})\b|"
                       rf"\b({_TYPE})\s+(?:\w+\s+)?(?:aren'?t|isn'?t|are not|is not|are never|is never)\s+"
                       rf"(?:my|our|for|really)\b", re.I)
_STRICTLY_UNDER = re.compile(r"(under|below|less than|cheaper than)\b", re.I)
_OVER = re.compile(r"(?:\b(?:over|above|more than|at least|pricier than)\s*\$?\s*(\d+))|"
                   r"(?:\$\s*(\d+)\s*(?:or more|and up|plus)\b)", re.I)


@dataclass
class Wish:
    """What the customer asked for, read from their words."""
    types: set = field(default_factory=set)
    not_types: set = field(default_factory=set)   # "not counting sparkling", "reds aren't my thing"
    foods: list = field(default_factory=list)
    like: list = field(default_factory=list)
    style: str = ""
    body: str = ""
    max_price: Optional[float] = None
    below_only: bool = False    # "under $30": strictly less; "$30 or less", "up to 30": the ceiling too
    min_price: Optional[float] = None
    in_stock: bool = False
    gift: bool = False
    occasion: str = ""

    @property
    def empty(self) -> bool:
        return not (self.types or self.not_types or self.foods or self.like or self.style or self.body or self.max_price
                    or self.min_price or self.in_stock or self.gift or self.occasion)


def read_wish(text: str) -> Wish:
    low = " " + with_digits(text.casefold().replace("’", "'")) + " "   # "thirty bucks or less" as "$30 or less"
    wish = Wish()
    for word in re.findall(r"[a-zé]+", low):
        kind = TYPE_WORDS.get(word)
        if kind:
            wish.types.add(kind)
    for left_out in _LEFT_OUT.finditer(low):
        wish.not_types.add(TYPE_WORDS[(left_out.group(1) or left_out.group(2)).casefold()])
    wish.types -= wish.not_types
    for name in sorted(FOODS, key=len, reverse=True):
        if re.search(rf"\b{re.escape(name)}\b", low) and FOODS[name] not in wish.foods:
            if any(name in f for f in wish.foods):
                continue
            wish.foods.append(FOODS[name])
    # "a big Bordeaux guy", "Bordeaux-style wines", "a chardonnay drinker": what they like, too
    if re.search(r"\b(something like|anything like|similar to|lovers?|loves?|fan of|usually drink|drinks|enjoys?|"
                 r"into|(i|we|she|he|they|wife|husband|mom|dad|friend) (really )?likes?|guy|gal|person|drinker|fan|"
                 r"style)\b", low):
        for grape in _GRAPES:
            if re.search(rf"\b{re.escape(grape)}s?\b", low):
                wish.like.append(_GRAPE_NORMAL.get(grape, grape))
    if re.search(r"\b(sweet|dessert|semi[- ]sweet|off[- ]dry)\b", low):
        wish.style = "sweet"
    elif re.search(r"\bdry\b", low):
        wish.style = "dry"
    if re.search(r"\b(bold|big|full|full[- ]bodied|heavy|robust|rich)\b", low):
        wish.body = "full"
    elif re.search(r"\b(light|lighter|light[- ]bodied|crisp|refreshing|easy drinking)\b", low):
        wish.body = "light"
    m = _UNDER.search(low)
    if m:
        wish.max_price = float(m.group(1) or m.group(2))
        wish.below_only = bool(_STRICTLY_UNDER.match(m.group(0)))
    else:
        m = _OVER.search(low)
        if m:
            wish.min_price = float(m.group(1) or m.group(2))
    wish.in_stock = bool(re.search(r"\b(in stock|available|have right now|on hand)\b", low))
    wish.gift = bool(GIFT.search(low))
    for word, (food, kind) in OCCASIONS.items():
        if re.search(rf"\b{word}\b", low):
            wish.occasion = word
            if not wish.foods and not wish.types and not wish.like:
                wish.types.add(kind)
            wish.foods.append(food)
            break
    return wish


def within_price(wish: Wish, price: Optional[float]) -> bool:
    """Whether a price keeps to the wish's bounds (no bound: any price)."""
    if wish.max_price is None and wish.min_price is None:
        return True
    if price is None:
        return False
    if wish.max_price is not None and (price > wish.max_price or wish.below_only and price >= wish.max_price):
        return False
    return wish.min_price is None or price >= wish.min_price


def matches(row: WineRow, wish: Wish) -> bool:
    """Hard filters: type, price bounds, stock, dryness."""
    if wish.types and row.type not in wish.types or row.type in wish.not_types:
        return False
    if not within_price(wish, row.price):
        return False
    if wish.in_stock and row.in_stock is False:
        return False
    if wish.style == "dry" and row.style and row.style != "dry":
        return False
    return True


def food_match(row: WineRow, food: str) -> bool:
    return any(food == p or food in p or p in food for p in row.pairs_with)


def score(row: WineRow, wish: Wish) -> float:
    s = 0.0
    for food in wish.foods:
        s += 3.0 if food_match(row, food) else 0.0
    for grape in wish.like:
        if grape in row.like:
            s += 3.0
        elif grape in row.grapes:
            s += 1.5
    if wish.body and row.body == wish.body:
        s += 1.0
    if wish.gift:
        s += (row.price or 0) / 30 + (1.0 if row.rating_points else 0.0)
    s += (row.rating_points or 0) / 200  # a small nudge towards the rated wine on ties
    if row.in_stock is False:
        s -= 5.0
    return s


def recommend(rows: Sequence[WineRow], wish: Wish, k: int = 2) -> list[WineRow]:
    """The best k rows for the wish, best first; [] when nothing fits the hard filters."""
    pool = [r for r in rows if matches(r, wish)]
    if wish.foods or wish.like:
        scored = [(score(r, wish), r) for r in pool]
        if any(s > 0.5 for s, _ in scored):
            pool = [r for s, r in scored if s > 0.5]
    return sorted(pool, key=lambda r: (-score(r, wish), r.price or 0, r.title))[:k]


def why(row: WineRow, wish: Wish) -> str:
    """A short reason grounded in the row's attributes."""
    foods = [f for f in wish.foods if food_match(row, f)]
    if foods:
        return f" that pairs well with {foods[0]}"
    liked = [g for g in wish.like if g in row.like or g in row.grapes]
    if liked:
        return f" that {liked[0].title()} lovers tend to enjoy" if liked[0] not in row.grapes else f" made from {liked[0].title()}"
    if row.notes:
        return f" with notes of {', '.join(row.notes[:3])}"
    if row.rating_points:
        return f", rated {row.rating_points} points by {row.rating_by}"
    return ""
