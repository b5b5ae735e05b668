"""Sends checkouts from 8 threads until the server dies; writes the order ids
it got a 201 for, one a line, to the file named by argv[2]."""
import http.client, json, os, sys, threading

host, port = sys.argv[1].split(":")
out = open(sys.argv[2], "w")
key, run = os.environ["CRASH_KEY"], os.environ["RUN"]
lock = threading.Lock()

def worker(t):
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    i = 0
    while True:
        i += 1
        order = f"o-{run}-{t}-{i}"
        body = json.dumps({"company_key": key, "user_fingerprint": f"FP-{t}-{i % 50}", "order_id": order,
                           "order_value": "48.00", "currency": "USD", "line_items": []})
        try:
            conn.request("POST", "/analytics/checkout_events", body, {"Content-Type": "application/json"})
            r = conn.getresponse(); r.read()
        except Exception:
            return
        if r.status == 201:
            with lock:
                out.write(order + "\n"); out.flush()

threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
for t in threads: t.start()
for t in threads: t.join()
