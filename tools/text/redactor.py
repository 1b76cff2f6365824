"""Redaction of secrets and PII: ``[REDACTED <kind>]`` in place of each one.

Where the kinds come from:

* **detect-secrets** (``tools.text.maintained``, read from the installed package at import):
  AWS access key ids and quoted secret keys, Azure storage ``AccountKey=``, credentials in URLs
  (``scheme://user:pass@``), Cloudant, Discord bot tokens, GitHub classic tokens (``ghp_`` …
  ``ghr_``), GitLab tokens, Mailchimp, npm ``.npmrc`` tokens, OpenAI legacy keys, PyPI, SendGrid,
  Slack tokens and webhook URLs, SoftLayer, Square, Stripe, Telegram bot tokens, Twilio.
* **rcabot** (``tools.text.rules``): PEM and PuTTY private keys as whole blocks (a BEGIN with no
  END runs to the end of the text), database connection strings, Azure connection-string keys
  and SAS signatures, ``Authorization`` headers and bearer/basic credentials, JWTs, fine-grained
  GitHub tokens (``github_pat_``), ``xapp-`` and newer Slack tokens, Discord webhooks, Google
  API keys (``AIza``), Anthropic, OpenAI project keys, Stripe test keys, Hugging Face, npm
  (``npm_``) and PyPI tokens in any form, generic ``password=`` / ``api_key:`` /
  ``"secret": "…"`` pairs, e-mail addresses, card numbers (Luhn and card prefixes), IBANs
  (mod 97), US SSNs (issued ranges), UK NI numbers, phone numbers (``+`` forms with 8-15 digits
  and North-American formats).
* **the operator**: ``redaction.extra_patterns`` in ``rcabot.yaml`` (``[REDACTED custom]``;
  when the pattern has a capture group, only group 1 is redacted).

Every pattern is compiled with RE2, so each runs in time linear in the text. One RE2 set of all
patterns says which rules can match at all; only those run, in order (operator patterns, then
rcabot's structural rules, detect-secrets, then generic pairs and PII). A replacement is never
redacted again, so redaction is idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import re2

from tools.settings import re2_pattern
from tools.text import maintained
from tools.text.rules import AFTER, BEFORE, TOKEN_TAIL, Rule

MARK = "[REDACTED"
BUILTIN: tuple[Rule, ...] = BEFORE + maintained.load() + AFTER


class PatternError(ValueError):
    """An extra redaction pattern RE2 cannot compile."""


def custom_rule(pattern: str) -> Rule:
    """The rule for an operator's extra pattern; :class:`PatternError` names a bad one."""
    try:
        re2_pattern(pattern)
    except ValueError as error:
        raise PatternError(f"redaction {error}") from None
    grouped = re2.compile(pattern).groups > 0
    return Rule("custom", pattern, groups=(1,) if grouped else (), origin="settings")


class Redactor:
    """Applies the built-in rules and ``extra_patterns`` to a text (see the module docstring)."""

    def __init__(self, extra_patterns: Sequence[str] = ()) -> None:
        self.rules = tuple(custom_rule(p) for p in extra_patterns) + BUILTIN
        self._compiled = tuple(re2.compile(rule.pattern) for rule in self.rules)
        self._set = re2.Set.SearchSet()
        for rule in self.rules:
            self._set.Add(rule.pattern)
        self._set.Compile()

    def __call__(self, text: str) -> str:
        if not text:
            return text
        # the stubs type Set.Match as bool; it returns the indices of the patterns that match
        hits = cast(list[int], self._set.Match(text))
        if not hits:
            return text
        for index in sorted(hits):
            text = self._apply(self.rules[index], self._compiled[index], text)
        return text

    @staticmethod
    def _apply(rule: Rule, regex: re2._Regexp[str], text: str) -> str:
        pieces: list[str] = []
        last = 0
        size = len(text)
        for match in regex.finditer(text):
            group = next((g for g in rule.groups if match.start(g) >= 0), 0)
            start, end = match.span(group)
            if start < last or text.startswith(MARK, start):
                continue
            spans = [(start, end)]
            if rule.check is not None:
                verdict = rule.check(text[start:end])
                if not verdict:
                    continue
                if isinstance(verdict, list):
                    spans = [(start + s, start + e) for s, e in verdict]
            for span_start, span_end in spans:
                if rule.extend:
                    while span_end < size and text[span_end] in TOKEN_TAIL:
                        span_end += 1
                pieces += (text[last:span_start], f"{MARK} {rule.kind}]")
                last = span_end
        if not pieces:
            return text
        pieces.append(text[last:])
        return "".join(pieces)
