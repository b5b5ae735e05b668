"""One tenant's calls while another floods: N secret-key cart events and N
report reads over one keep-alive connection; prints p50/p99 in ms."""
import http.client, json, os, sys, time

host, port = sys.argv[1].split(":")
n = int(sys.argv[2])
secret = os.environ["VICTIM_SECRET"]
conn = http.client.HTTPConnection(host, int(port))
headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
ingest, report, statuses = [], [], {}
for i in range(n):
    body = json.dumps({"user_fingerprint": f"FP-v{i % 500}", "event_type": "ITEM_ADDED", "product_id": "p1",
                       "quantity": 1, "unit_price": "19.99", "currency": "USD"})
    t = time.perf_counter()
    conn.request("POST", "/analytics/cart_events", body, headers)
    r = conn.getresponse(); r.read()
    ingest.append((time.perf_counter() - t) * 1000)
    statuses[r.status] = statuses.get(r.status, 0) + 1
    t = time.perf_counter()
    conn.request("GET", "/v1/revenue-impact", headers=headers)
    r = conn.getresponse(); r.read()
    report.append((time.perf_counter() - t) * 1000)
    statuses[r.status] = statuses.get(r.status, 0) + 1

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]

print(f"ingest p50 {pct(ingest, .5):.2f} ms p99 {pct(ingest, .99):.2f} ms; "
      f"report p50 {pct(report, .5):.2f} ms p99 {pct(report, .99):.2f} ms; statuses {statuses}")
