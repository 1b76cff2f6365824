"""Random but reproducible identifiers: trace/span ids, pods, users, SKUs, orders, addresses."""

from __future__ import annotations

import random

_POD_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_ORDER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CITIES = ("berlin", "hamburg", "munich", "vienna", "zurich", "lyon", "milan", "prague")
CARRIERS = ("dhl", "ups", "dpd", "gls")
CARDS = ("visa", "mastercard", "amex")
CATEGORIES = ("shoes", "jackets", "backpacks", "tents", "socks", "headlamps", "stoves")
QUERIES = (
    "rain jacket",
    "trail shoes",
    "down sleeping bag",
    "merino socks",
    "2 person tent",
    "camping stove",
    "head torch",
    "hiking poles",
    "waterproof trousers",
)


def hex_id(rng: random.Random, bits: int) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def trace_id(rng: random.Random) -> str:
    return hex_id(rng, 128)


def span_id(rng: random.Random) -> str:
    return hex_id(rng, 64)


def pod_suffix(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_POD_ALPHABET) for _ in range(length))


def deployment_pods(rng: random.Random, service: str, count: int) -> tuple[str, ...]:
    """Pod names of one ReplicaSet of a Deployment, e.g. ``payments-7d9c5b6f4-x2k8p``."""
    replica_set = pod_suffix(rng, 9)
    return tuple(f"{service}-{replica_set}-{pod_suffix(rng, 5)}" for _ in range(count))


def user(rng: random.Random) -> str:
    return f"u-{rng.randint(10000, 99999)}"


def sku(rng: random.Random) -> str:
    return f"SKU-{rng.randint(10000, 10999)}"


def order(rng: random.Random) -> str:
    return "ORD-" + "".join(rng.choice(_ORDER_ALPHABET) for _ in range(8))


def payment(rng: random.Random) -> str:
    return "pay_" + hex_id(rng, 64)[:14]


def client_ip(rng: random.Random) -> str:
    block = rng.choice(("203.0.113", "198.51.100", "192.0.2"))
    return f"{block}.{rng.randint(2, 254)}"


def pod_ip(rng: random.Random) -> str:
    return f"10.42.{rng.randint(0, 7)}.{rng.randint(2, 254)}"


def amount(rng: random.Random) -> str:
    return f"{rng.uniform(9.0, 420.0):.2f}"


def request_context(rng: random.Random) -> dict[str, str]:
    """What one request is about (user, SKU, order, ...): its log lines quote these."""
    return {
        "user": user(rng),
        "ip": client_ip(rng),
        "sku": sku(rng),
        "qty": str(rng.randint(1, 3)),
        "items": str(rng.randint(1, 6)),
        "order": order(rng),
        "payment": payment(rng),
        "amount": amount(rng),
        "card": rng.choice(CARDS),
        "carrier": rng.choice(CARRIERS),
        "city": rng.choice(CITIES),
        "query": rng.choice(QUERIES),
        "category": rng.choice(CATEGORIES),
        "page": str(rng.randint(1, 6)),
        "warehouse": rng.choice(("fra-1", "fra-2", "ams-1")),
    }
