"""A redaction rule, and rcabot's own rules for the kinds detect-secrets lacks.

A :class:`Rule` is an RE2 pattern, the kind it names (``[REDACTED <kind>]``), which capture
groups hold the secret (the rest of the match, e.g. ``password=``, stays visible), an optional
Python check on the candidate (Luhn, mod 97, ...) and whether the secret extends over the rest
of its token (patterns of a fixed length would otherwise leave the tail of a longer token).

Where each kind comes from is listed in ``tools.text.redactor``'s docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tools.text import validators

TOKEN_TAIL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/=")
"""Characters a token-like secret may continue with (base64, base64url)."""

Check = Callable[[str], "bool | list[tuple[int, int]]"]


@dataclass(frozen=True)
class Rule:
    kind: str
    pattern: str
    groups: tuple[int, ...] = ()
    """The groups holding the secret, first participating one wins; () = the whole match."""
    check: Check | None = None
    """On the secret: false or [] keeps it, True redacts it, a list of (start, end) redacts
    those slices of it."""
    extend: bool = False
    """Redact on to the end of the token (:data:`TOKEN_TAIL` characters) after the match."""
    origin: str = "rcabot"


_B = r"(?:^|[^A-Za-z0-9_])"  # a consumed word boundary where RE2's \b is not enough
_SECRET_KEY = (
    r"(?i)([A-Za-z0-9_.-]*(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|"
    r"access[_-]?key|private[_-]?key|auth[_-]?key|credentials?))"
)
# a bare value right before "{" or "(" names a type or call (Android's token=Token{9f4ef63 …})
_QUOTED_OR_BARE = (
    r"""(?:"([^"\n]{1,256})"|'([^'\n]{1,256})'|"""
    r"""([^\s"',;&<>{}()\[\]]+)(?:[\s"',;&<>})\[\]]|\z))"""
)

BEFORE: tuple[Rule, ...] = (
    # A BEGIN line opens a key; with no END (the text was cut earlier) it runs to the end.
    Rule(
        "private key",
        r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?s:.*?)"
        r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|\z)",
    ),
    Rule("private key", r"PuTTY-User-Key-File-\d: (?s:.*?)(?:Private-MAC: [0-9a-f]+|\z)"),
    Rule(
        "connection string password",
        r"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|"
        r"sqlserver|clickhouse|jdbc:[a-z0-9]+)://[^\s:/@]*:([^\s@]+)@",
        groups=(1,),
    ),
    Rule("url password", r"(?i)\b[a-z][a-z0-9+.-]*://[^\s:/@]+:([^\s@/]+)@", groups=(1,)),
    Rule(
        "azure key",
        r"(?i)\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|sig)=([^;\s\"'&]+)",
        groups=(1,),
    ),
    Rule(
        "authorization",
        r"(?i)\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest|"
        r"negotiate|apikey|sso-key)\s+)?([^\s\"',;]+)",
        groups=(1,),
    ),
    Rule("authorization", r"(?i)\b(?:bearer|basic)\s+([A-Za-z0-9._~+/=-]{8,})", groups=(1,)),
    Rule(
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*",
        extend=True,
    ),
    Rule("github token", r"\bgithub_pat_[A-Za-z0-9_]{22,}"),
    Rule("slack token", r"\bxox[a-z]-[A-Za-z0-9-]{10,}", extend=True),
    Rule("slack token", r"\bxapp-\d-[A-Za-z0-9-]{10,}", extend=True),
    Rule(
        "discord webhook",
        r"(?i)https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]+",
    ),
    Rule("google api key", r"\bAIza[0-9A-Za-z_-]{35}", extend=True),
    Rule("anthropic key", r"\bsk-ant-[A-Za-z0-9_-]{20,}"),
    Rule("openai key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
    Rule("stripe key", r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}"),
    Rule("huggingface token", r"\bhf_[A-Za-z0-9]{30,}"),
    Rule("npm token", r"\bnpm_[A-Za-z0-9]{36,}"),
    Rule("pypi token", r"\bpypi-[A-Za-z0-9_-]{50,}"),
    Rule("gitlab token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
    Rule("sendgrid key", r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
    Rule("square token", r"\b(?:sq0atp|sq0csp|EAAA)[A-Za-z0-9_-]{22,}"),
)
"""Rules tried before the maintained (detect-secrets) ones: blocks and URLs that contain
token-like text, and provider formats detect-secrets does not know."""

AFTER: tuple[Rule, ...] = (
    # key=value, key: value, "key": "value" — the key must END in a secret word, so
    # max_tokens=700, token_count: 5 and "token expired" stay.
    Rule(
        "secret",
        _SECRET_KEY + r"[\"']?\s*(?:=>|:=|=|:)\s*" + _QUOTED_OR_BARE,
        groups=(2, 3, 4),
    ),
    Rule(
        "email",
        r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
    ),
    # not after a word character or "-": blk_-6952295868487656571 is an HDFS block id
    Rule(
        "card number",
        r"(?:^|[^\w-])(\d(?:[ -]?\d){12,})\b",
        groups=(1,),
        check=validators.card_spans,
    ),
    Rule(
        "iban",
        r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
        check=validators.iban,
    ),
    Rule("us ssn", r"\b\d{3}[- ]\d{2}[- ]\d{4}\b", check=validators.us_ssn),
    Rule(
        "uk nino",
        r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
        check=validators.uk_nino,
    ),
    Rule(
        "phone",
        _B + r"(\+[1-9]\d{0,3}(?:[ .-]?\(?\d{1,4}\)?)?(?:[ .-]?\d{2,5}){1,5})\b",
        groups=(1,),
        check=validators.phone_digits,
    ),
    Rule("phone", r"(?:^|[^\w(+])(\(\d{3}\) ?\d{3}[-.]\d{4})\b", groups=(1,)),
    Rule("phone", _B + r"(\d{3}[-.]\d{3}[-.]\d{4})\b", groups=(1,)),
)
"""Rules tried after the maintained ones: generic key/value pairs and PII, whose candidates
need a check."""
