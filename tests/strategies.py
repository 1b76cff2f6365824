"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def json_values(
    *, text_size: int, key_size: int, width: int, leaves: int
) -> st.SearchStrategy[Any]:
    """Any JSON value, hostile ones included: huge integers, NaN and ±Infinity, nesting."""
    return st.recursive(
        st.none()
        | st.booleans()
        | st.integers(min_value=-(10**400), max_value=10**400)
        | st.floats(allow_nan=True, allow_infinity=True)
        | st.text(max_size=text_size),
        lambda inner: (
            st.lists(inner, max_size=width)
            | st.dictionaries(st.text(max_size=key_size), inner, max_size=width)
        ),
        max_leaves=leaves,
    )
