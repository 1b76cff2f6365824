"""Fixed text the simulated services log and record: SQL, error messages, stack traces."""

from __future__ import annotations

import random

SQL: dict[str, str] = {
    "SELECT products": "SELECT id, sku, title, price FROM products WHERE category = $1 "
    "ORDER BY rank LIMIT 24 OFFSET $2",
    "SELECT product": "SELECT * FROM products WHERE sku = $1",
    "SELECT products_search": "SELECT id, sku, title FROM products WHERE search_vector @@ "
    "plainto_tsquery($1) LIMIT 48",
    "SELECT stock": "SELECT on_hand, reserved FROM stock WHERE sku = $1 AND warehouse = $2",
    "UPDATE stock": "UPDATE stock SET reserved = reserved + $1 WHERE sku = $2 AND warehouse = $3 "
    "RETURNING on_hand, reserved",
    "SELECT payment_methods": "SELECT id, brand, last4 FROM payment_methods WHERE user_id = ?",
    "INSERT charges": "INSERT INTO charges (id, order_id, amount, currency, status) "
    "VALUES (?, ?, ?, ?, ?)",
}
NOISE_ERRORS: dict[str, str] = {
    "recommendations": "feature store unavailable: upstream connect error or disconnect/reset "
    "before headers",
    "frontend": "context canceled",
    "auth": "signing key cache miss: kid not found",
    "catalog": "psycopg.errors.QueryCanceled: canceling statement due to statement timeout",
    "cart": "context deadline exceeded",
    "checkout": "java.lang.IllegalStateException: order total mismatch after currency rounding",
    "inventory": "java.util.ConcurrentModificationException",
    "payments": "PSP returned HTTP 502 from /v1/payment_intents",
    "shipping": "java.net.SocketTimeoutException: carrier rate API read timed out",
}
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 Version/17.3 Safari",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "shop-app/5.12.0 (Android 14; Pixel 8)",
)
TEMPLATES = {
    "Home": "home.html",
    "Product": "product.html",
    "Search": "search.html",
    "ViewCart": "cart.html",
}
DECLINE_REASONS = ("insufficient_funds", "do_not_honor", "expired_card", "card_velocity_exceeded")
POOL_STACK = (
    "org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to obtain JDBC "
    "Connection\n"
    "\tat org.springframework.jdbc.datasource.DataSourceUtils.getConnection("
    "DataSourceUtils.java:84)\n"
    "\tat com.shop.payments.charges.ChargeRepository.save(ChargeRepository.java:57)\n"
    "\tat com.shop.payments.charges.ChargeService.authorize(ChargeService.java:112)\n"
    "Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not "
    "available, request timed out after 5000ms.\n"
    "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)"
)
LEDGER_STACK = (
    "com.shop.inventory.ledger.LedgerMismatchException: reservation ledger mismatch\n"
    "\tat com.shop.inventory.ledger.StockLedger.verify(StockLedger.java:141)\n"
    "\tat com.shop.inventory.stock.StockService.lookup(StockService.java:88)"
)


def fault_error(fault: str, rng: random.Random) -> str:
    """The error a request failed by ``fault`` itself reports (its root's spans and logs)."""
    if fault == "bad-deploy":
        return (
            "HikariPool-1 - Connection is not available, request timed out after 5000ms "
            f"(total=50, active=50, idle=0, waiting={rng.randint(12, 48)})"
        )
    if fault == "error-return":
        return (
            "stock lookup returned error code=INV-5003: reservation ledger mismatch "
            f"(expected {rng.randint(3, 40)}, got {-rng.randint(1, 9)})"
        )
    if fault == "thread-leak":
        return (
            "java.lang.OutOfMemoryError: unable to create native thread: possibly out of "
            "memory or process/resource limits reached "
            f"(order-confirmation-{rng.randint(1000, 9999)})"
        )
    if fault == "disk-full":
        return "audit: flush session event: write /var/log/auth/audit.log: no space left on device"
    raise ValueError(f"fault {fault} has no failure message")
