"""Writes COUNT signed Shopify orders/paid deliveries, one per line:
webhook id, signature, body (tab-separated). Each order has its own id
(above 2^53, as Shopify's) and carries a visitor fingerprint FP-0 … FP-19999
in a line-item property; half of those visitors have a conversation.

    python3 bench/shopify/generate.py OUT SECRET COUNT
"""
import base64
import hashlib
import hmac
import json
import random
import sys
import time

out, secret, count = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
random.seed(5)
processed = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 1800))
with open(out, "w") as f:
    for n in range(count):
        order_id = 820_982_911_946_154_508 + n
        price = f"{random.randrange(1_000, 20_000) / 100:.2f}"
        body = json.dumps({
            "id": order_id, "name": f"#{1000 + n}", "order_number": 1000 + n, "cart_token": None,
            "created_at": processed, "processed_at": processed, "currency": "USD", "presentment_currency": "USD",
            "financial_status": "paid", "test": False,
            "total_price": price, "subtotal_price": price, "total_tax": "0.00",
            "total_price_set": {"shop_money": {"amount": price, "currency_code": "USD"},
                                "presentment_money": {"amount": price, "currency_code": "USD"}},
            "customer": {"id": 115_310_627_314_723_954, "email": "bench@example.com"},
            "note_attributes": [],
            "line_items": [{"id": 466_157_049 + n, "product_id": 632_910_392, "variant_id": 39_072_856,
                            "sku": "HBC-50", "title": "Hydra Barrier Cream", "quantity": 1, "price": price,
                            "properties": [{"name": "_revtrace_fingerprint", "value": f"FP-{random.randrange(20_000)}"}]}],
        }, separators=(",", ":"))
        signature = base64.b64encode(hmac.new(secret, body.encode(), hashlib.sha256).digest()).decode()
        f.write(f"wh-{n}\t{signature}\t{body}\n")
