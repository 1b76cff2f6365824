"""Checks that run in Python on regex candidates, so a pattern can stay loose and linear.

Each returns whether the candidate is the real thing: a card number passes Luhn and starts like
a card, an IBAN passes ISO 13616's mod-97, a US SSN lies in the issued ranges. They keep
epoch-millisecond timestamps, order ids and other long numbers out of the redaction.
"""

from __future__ import annotations

CARD_DIGITS = range(13, 20)
CARD_GROUPS = 5
UNSEPARATED_CARD_DIGITS = 16
_DOUBLED = {str(d): (2 * d) % 9 if d != 9 else 9 for d in range(10)}


def luhn(digits: str) -> bool:
    """The Luhn (mod 10) checksum of a string of ASCII digits."""
    total = sum(map(int, digits[-1::-2])) + sum(_DOUBLED[char] for char in digits[-2::-2])
    return total % 10 == 0


def _card_prefix(digits: str) -> bool:
    """Starts like a payment card: Visa 4, Mastercard 51-55/2221-2720, Amex 34/37, Diners
    30/36/38/39, Discover/UnionPay/Maestro 6, JCB 35, Maestro 50/56-58. Epoch-millisecond
    timestamps (1…) and most generated ids do not."""
    first = digits[0]
    if first in "456":
        return True
    if first == "3":
        return digits[1] in "04578" or digits[1] == "6" or digits[1] == "9"
    if first == "2":
        return 2221 <= int(digits[:4]) <= 2720
    return False


def card_number(digits: str) -> bool:
    """13-19 digits (separators removed) that start like a card and pass Luhn."""
    return len(digits) in CARD_DIGITS and _card_prefix(digits) and luhn(digits)


def card_layout(lengths: list[int]) -> bool:
    """Digit groups printed the way cards are: one run, groups of four (the last may be
    shorter: 4-4-4-4-3), or Amex/Diners 4-6-5 and 4-6-4. ``REPORT : 5015 150454 240`` and a
    list of channel numbers are not cards, even where their digits happen to pass Luhn."""
    if len(lengths) == 1:
        return True
    if lengths in ([4, 6, 5], [4, 6, 4]):
        return True
    return len(lengths) >= 4 and all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4


def card_spans(candidate: str) -> list[tuple[int, int]]:
    """The spans of ``candidate`` (digit groups split by single spaces or dashes) that are cards.

    Left to right, the longest run of at most :data:`CARD_GROUPS` whole groups that is a card
    number, so ``1 4111 1111 1111 1111`` finds the card after a stray digit, a list of cards
    finds each, and a digit run that merely contains a Luhn-valid slice (an id of 20 digits) is
    never cut open.
    """
    groups: list[tuple[int, int]] = []
    start = 0
    for index, char in enumerate(candidate):
        if char in " -":
            groups.append((start, index))
            start = index + 1
    groups.append((start, len(candidate)))
    if len(groups) == 1 and len(candidate) > UNSEPARATED_CARD_DIGITS:
        return []  # 17-19 digits in one run: a 64-bit id far more often than a card
    spans: list[tuple[int, int]] = []
    first = 0
    while first < len(groups):
        start = groups[first][0]
        found = None
        if candidate[start] in "23456":
            count = 0
            lengths: list[int] = []
            for last in range(first, min(first + CARD_GROUPS, len(groups))):
                lengths.append(groups[last][1] - groups[last][0])
                count += lengths[-1]
                if count > max(CARD_DIGITS):
                    break
                if count in CARD_DIGITS and card_layout(lengths):
                    digits = candidate[start : groups[last][1]].replace(" ", "").replace("-", "")
                    if card_number(digits):
                        found = last
        if found is None:
            first += 1
            continue
        spans.append((start, groups[found][1]))
        first = found + 1
    return spans


def iban(candidate: str) -> bool:
    """ISO 13616: 15-34 characters, two letters, two check digits, mod 97 == 1."""
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


def us_ssn(candidate: str) -> bool:
    """``AAA-GG-SSSS`` in the issued ranges: area not 000, 666 or 9xx; group and serial not 0."""
    digits = candidate.replace("-", "").replace(" ", "")
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in {"000", "666"} and area[0] != "9" and group != "00" and serial != "0000"


def uk_nino(candidate: str) -> bool:
    """UK National Insurance number: prefixes BG, GB, KN, NK, NT, TN and ZZ are never issued."""
    return candidate[:2].upper() not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def phone_digits(candidate: str) -> bool:
    """An E.164 number has at most 15 digits; fewer than 8 is a short code or a count."""
    digits = sum(char.isdigit() for char in candidate)
    return 8 <= digits <= 15
