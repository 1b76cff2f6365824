"""The simulated online shop: services, their operations, and who calls whom.

Application services answer requests (``server`` spans) and call others (``client`` spans).
Datastores (``redis``, the Postgres databases) record no spans of their own: their callers'
``client`` spans name them in ``peer.service`` / ``db.system``. Every service, datastores
included, has metrics and logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Call:
    """One downstream call an operation may make, in order."""

    target: str  # service (or datastore) called
    op: str  # operation name on the target (datastores: the statement / command)
    prob: float  # probability the call is made (when nothing failed before it)
    critical: bool = True  # a failure fails the caller; otherwise it degrades gracefully


@dataclass(frozen=True, slots=True)
class Operation:
    name: str  # e.g. "Charge"; client spans are named "<service>.<name>"
    route: str  # server span name, e.g. "POST /v1/charges"
    weight: float  # share of the service's requests
    self_ms: float  # median own processing time
    sigma: float  # log-normal spread of the own time
    calls: tuple[Call, ...] = ()
    reject_prob: float = 0.0  # share of requests answered with a 4xx (not an error)
    reject_code: int = 0


THREADS_LIMIT = 4096.0  # a container's pids limit: no thread starts past it


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    kind: str  # "app", "postgres" or "redis"
    runtime: str  # "go", "jvm", "python", "postgres", "redis"
    replicas: int
    base_error: float  # probability a request fails here for no particular reason
    cpu_base: float  # cpu_usage_ratio at the start of the window
    memory_base: float  # bytes
    memory_limit: float  # bytes
    operations: tuple[Operation, ...] = ()
    pool_size: int = 0  # connections in the DB pool it owns (0: none)
    pool_base: float = 0.0  # usual pool usage ratio at base load
    volume_base: float = 0.0  # share of its own volume in use while healthy (0: it has none)

    @property
    def is_datastore(self) -> bool:
        return self.kind != "app"

    @property
    def threads_base(self) -> float:
        """Live threads of a JVM service while healthy (Tomcat's workers, GC and JIT threads,
        its client pools), as Micrometer's ``jvm_threads_live_threads``; 0 for the others."""
        return 150.0 + 12.0 * len(self.operations) if self.runtime == "jvm" else 0.0

    def operation(self, name: str) -> Operation:
        for op in self.operations:
            if op.name == name:
                return op
        raise KeyError(f"{self.name} has no operation {name!r}")


def _op(
    name: str,
    route: str,
    weight: float,
    self_ms: float,
    sigma: float,
    *calls: Call,
    reject: tuple[float, int] = (0.0, 0),
) -> Operation:
    return Operation(name, route, weight, self_ms, sigma, calls, reject[0], reject[1])


def _db(statement: str, self_ms: float, sigma: float, weight: float = 1.0) -> Operation:
    return Operation(statement, statement, weight, self_ms, sigma)


_AUTH = Call("auth", "ValidateSession", 1.0)

# fmt: off
SERVICES: tuple[Service, ...] = (
    Service("frontend", "app", "go", 3, 0.0004, 0.34, 190 * MB, 512 * MB, (
        _op("Home", "GET /", 0.24, 11.0, 0.35, Call("auth", "ValidateSession", 0.7),
            Call("catalog", "ListProducts", 1.0),
            Call("recommendations", "GetRecommendations", 0.9, critical=False)),
        _op("Product", "GET /product/{id}", 0.28, 9.0, 0.35, Call("catalog", "GetProduct", 1.0),
            Call("inventory", "GetStock", 1.0, critical=False),
            Call("recommendations", "GetRecommendations", 0.7, critical=False)),
        _op("Search", "GET /search", 0.08, 7.0, 0.35, Call("catalog", "Search", 1.0)),
        _op("ViewCart", "GET /cart", 0.12, 6.0, 0.3, _AUTH, Call("cart", "GetCart", 1.0)),
        _op("AddToCart", "POST /cart/items", 0.12, 7.0, 0.3, _AUTH,
            Call("cart", "AddItem", 1.0)),
        _op("Checkout", "POST /checkout", 0.10, 9.0, 0.3, _AUTH,
            Call("checkout", "PlaceOrder", 1.0)),
        _op("Login", "POST /login", 0.06, 5.0, 0.3, Call("auth", "Login", 1.0)),
    )),
    Service("auth", "app", "go", 2, 0.0002, 0.21, 95 * MB, 256 * MB, (
        _op("ValidateSession", "POST /v1/sessions/validate", 0.88, 0.9, 0.4, reject=(0.01, 401)),
        _op("Login", "POST /v1/login", 0.12, 48.0, 0.2, reject=(0.08, 401)),
    ), volume_base=0.41),  # its audit log's volume
    Service("catalog", "app", "python", 2, 0.0004, 0.41, 430 * MB, 1024 * MB, (
        _op("ListProducts", "GET /v1/products", 0.46, 13.0, 0.35,
            Call("catalog-db", "SELECT products", 0.4)),
        _op("GetProduct", "GET /v1/products/{sku}", 0.46, 5.0, 0.35,
            Call("catalog-db", "SELECT product", 0.3), reject=(0.015, 404)),
        _op("Search", "GET /v1/search", 0.08, 22.0, 0.4,
            Call("catalog-db", "SELECT products_search", 1.0)),
    ), pool_size=20, pool_base=0.22),
    Service("recommendations", "app", "python", 2, 0.02, 0.56, 1300 * MB, 2048 * MB, (
        _op("GetRecommendations", "GET /v1/recommendations", 1.0, 36.0, 0.45),
    )),
    Service("cart", "app", "go", 2, 0.0003, 0.24, 120 * MB, 384 * MB, (
        _op("GetCart", "GET /v1/carts/{user}", 0.62, 1.4, 0.4, Call("redis", "GET", 1.0)),
        _op("AddItem", "POST /v1/carts/{user}/items", 0.30, 2.0, 0.4,
            Call("redis", "GET", 1.0), Call("redis", "SET", 1.0)),
        _op("EmptyCart", "DELETE /v1/carts/{user}", 0.08, 1.0, 0.4, Call("redis", "DEL", 1.0)),
    )),
    Service("checkout", "app", "jvm", 2, 0.0008, 0.29, 720 * MB, 1536 * MB, (
        _op("PlaceOrder", "POST /v1/orders", 1.0, 16.0, 0.3,
            Call("cart", "GetCart", 1.0), Call("shipping", "GetQuote", 1.0),
            Call("inventory", "ReserveStock", 1.0), Call("payments", "Charge", 1.0),
            Call("shipping", "CreateShipment", 1.0),
            Call("cart", "EmptyCart", 1.0, critical=False)),
    )),
    Service("inventory", "app", "jvm", 2, 0.0004, 0.26, 630 * MB, 1536 * MB, (
        _op("GetStock", "GET /v1/stock/{sku}", 0.74, 2.2, 0.35,
            Call("inventory-db", "SELECT stock", 1.0)),
        _op("ReserveStock", "POST /v1/reservations", 0.26, 3.5, 0.35,
            Call("inventory-db", "UPDATE stock", 1.0)),
    ), pool_size=30, pool_base=0.18),
    Service("payments", "app", "jvm", 2, 0.0008, 0.31, 760 * MB, 1536 * MB, (
        _op("Charge", "POST /v1/charges", 1.0, 34.0, 0.3,
            Call("payments-db", "SELECT payment_methods", 1.0),
            Call("payments-db", "INSERT charges", 1.0), reject=(0.04, 402)),
    ), pool_size=50, pool_base=0.16),
    Service("shipping", "app", "jvm", 2, 0.0004, 0.19, 590 * MB, 2048 * MB, (
        _op("GetQuote", "POST /v1/quotes", 0.5, 6.0, 0.35),
        _op("CreateShipment", "POST /v1/shipments", 0.5, 11.0, 0.35),
    )),
    Service("redis", "redis", "redis", 1, 0.0, 0.12, 260 * MB, 1024 * MB, (
        _db("GET", 0.35, 0.45, 0.62), _db("SET", 0.4, 0.45, 0.3), _db("DEL", 0.3, 0.45, 0.08),
    )),
    Service("payments-db", "postgres", "postgres", 1, 0.0, 0.22, 2200 * MB, 4096 * MB, (
        _db("SELECT payment_methods", 1.4, 0.4), _db("INSERT charges", 2.8, 0.4),
    )),
    Service("inventory-db", "postgres", "postgres", 1, 0.0, 0.27, 1900 * MB, 4096 * MB, (
        _db("SELECT stock", 1.1, 0.4, 0.74), _db("UPDATE stock", 2.4, 0.4, 0.26),
    )),
    Service("catalog-db", "postgres", "postgres", 1, 0.0, 0.33, 2600 * MB, 4096 * MB, (
        _db("SELECT products", 4.0, 0.45), _db("SELECT product", 1.3, 0.4),
        _db("SELECT products_search", 17.0, 0.6),
    )),
)
# fmt: on

BY_NAME: dict[str, Service] = {service.name: service for service in SERVICES}
ENTRY = "frontend"
FRONTEND_RPS = 42.0  # requests per second at the edge at the start of the window
DB_OF: dict[str, str] = {
    "payments": "payments-db",
    "inventory": "inventory-db",
    "catalog": "catalog-db",
}


def service(name: str) -> Service:
    return BY_NAME[name]


def names() -> tuple[str, ...]:
    return tuple(s.name for s in SERVICES)


@cache
def bottom_up() -> tuple[str, ...]:
    """Services ordered so that every callee comes before its callers."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for op in BY_NAME[name].operations:
            for call in op.calls:
                visit(call.target)
        order.append(name)

    for svc in SERVICES:
        visit(svc.name)
    return tuple(order)


def callers_of(name: str) -> tuple[str, ...]:
    return tuple(
        s.name for s in SERVICES if any(c.target == name for op in s.operations for c in op.calls)
    )
