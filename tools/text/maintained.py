"""Rules taken, at import time, from detect-secrets' regex plugins (the maintained pattern set).

Each ``RegexBasedDetector`` listed in :data:`DETECTORS` contributes its ``denylist`` regexes,
compiled with RE2 so that every one runs in linear time. Adapted on the way:

* Python flags become inline flags (``(?i)``, ``(?s)``, ``(?m)``); a verbose pattern that
  holds whitespace or comments is skipped (RE2 has no verbose mode).
* A trailing ``(?!\\w)`` is dropped: after a greedy run it only refuses longer tokens, and for
  redaction the longer token is the safer match (the GitLab patterns).
* Anything RE2 still cannot compile (look-behind, repetition over 1000) is skipped and listed in
  :data:`SKIPPED` — the keyword heuristics (Cloudant, IBM, SoftLayer) are all such.

Not taken: the entropy and keyword plugins (they redact trace ids, hashes and prose), the public
IP detector (operators need addresses), Artifactory (``AP[0-9A-F]…`` matches upper-case words
such as ``APACHEHTTPD``), the JWT pattern (its lazy tail stops before the signature; rcabot's own
rule takes the whole token) and the private-key markers (they name the header line only; rcabot's
own rule takes the block).
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import re2

from tools.text.rules import Check, Rule

DETECTORS: dict[str, tuple[str, str]] = {
    # class name: (module, kind)
    "AWSKeyDetector": ("aws", "aws key"),
    "AzureStorageKeyDetector": ("azure_storage_key", "azure key"),
    "BasicAuthDetector": ("basic_auth", "url password"),
    "CloudantDetector": ("cloudant", "cloudant key"),
    "DiscordBotTokenDetector": ("discord", "discord token"),
    "GitHubTokenDetector": ("github_token", "github token"),
    "GitLabTokenDetector": ("gitlab_token", "gitlab token"),
    "MailchimpDetector": ("mailchimp", "mailchimp key"),
    "NpmDetector": ("npm", "npm token"),
    "OpenAIDetector": ("openai", "openai key"),
    "PypiTokenDetector": ("pypi_token", "pypi token"),
    "SendGridDetector": ("sendgrid", "sendgrid key"),
    "SlackDetector": ("slack", "slack token"),
    "SoftlayerDetector": ("softlayer", "softlayer key"),
    "SquareOAuthDetector": ("square_oauth", "square token"),
    "StripeDetector": ("stripe", "stripe key"),
    "TelegramBotTokenDetector": ("telegram_token", "telegram token"),
    "TwilioKeyDetector": ("twilio", "twilio key"),
}

_SECRET_IN_GROUP = frozenset(
    {"AWSKeyDetector", "BasicAuthDetector", "CloudantDetector", "NpmDetector", "SoftlayerDetector"}
)
"""Detectors whose first group is the secret (the match around it is context such as
``https://user:…@``); the others' groups are prefixes (``(ghp|gho|…)_``), so their whole match
is redacted."""

CHECKS: dict[str, Check] = {
    # \d{8,10}:[\w-]{35} also matches SCSI WWIDs (01000010:6005-08b4-…); a token is mixed case
    "TelegramBotTokenDetector": lambda secret: any(c.isupper() for c in secret.partition(":")[2]),
}
"""Extra checks on a detector's candidates, where its pattern alone over-matches."""

SKIPPED: list[str] = []
"""``Detector: pattern`` for each denylist regex RE2 could not take (filled at import)."""

QUIET = re2.Options()
QUIET.log_errors = False
_FLAGS = ((re.IGNORECASE, "i"), (re.DOTALL, "s"), (re.MULTILINE, "m"))


def compiles(pattern: str) -> bool:
    """Whether RE2 accepts ``pattern`` (without logging the failure to stderr)."""
    try:
        re2.compile(pattern, options=QUIET)
    except re2.error:
        return False
    return True


def adapt(pattern: str, flags: int) -> str | None:
    """``pattern`` in RE2 syntax with its flags inline, or None where that cannot be done."""
    if flags & re.VERBOSE and re.search(r"\s|#", pattern):
        return None
    if pattern.endswith(r"(?!\w)"):
        pattern = pattern[: -len(r"(?!\w)")]
    inline = "".join(letter for flag, letter in _FLAGS if flags & flag)
    adapted = f"(?{inline}){pattern}" if inline else pattern
    return adapted if compiles(adapted) else None


def _denylist(module: str, name: str) -> list[Any]:
    detector = getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), name)
    return list(detector().denylist)


def load() -> tuple[Rule, ...]:
    """One :class:`Rule` per usable denylist regex of :data:`DETECTORS`."""
    rules: list[Rule] = []
    SKIPPED.clear()
    for name, (module, kind) in DETECTORS.items():
        for regex in _denylist(module, name):
            adapted = adapt(regex.pattern, regex.flags)
            if adapted is None:
                SKIPPED.append(f"{name}: {regex.pattern[:60]}")
                continue
            grouped = name in _SECRET_IN_GROUP and re2.compile(adapted).groups > 0
            groups = (1,) if grouped else ()
            rules.append(
                Rule(
                    kind,
                    adapted,
                    groups=groups,
                    check=CHECKS.get(name),
                    extend=not grouped,
                    origin=name,
                )
            )
    return tuple(rules)
