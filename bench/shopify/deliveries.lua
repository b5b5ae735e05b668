-- wrk script: replays the signed deliveries of DELIVERIES (see generate.py),
-- thread i taking lines i, i + THREADS, … so no delivery is sent twice
-- (unless the run outlasts the file, when repeats are answered "duplicate").
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local count = tonumber(os.getenv("THREADS") or "2")
  lines = {}
  local n = 0
  for line in io.lines(os.getenv("DELIVERIES")) do
    if n % count == id then
      local webhook, signature, body = line:match("^([^\t]+)\t([^\t]+)\t(.*)$")
      table.insert(lines, { webhook, signature, body })
    end
    n = n + 1
  end
  counter = 0
  shop = os.getenv("SHOP")
end

function request()
  counter = counter + 1
  local d = lines[(counter - 1) % #lines + 1]
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-Shopify-Topic"] = "orders/paid",
    ["X-Shopify-Shop-Domain"] = shop,
    ["X-Shopify-Webhook-Id"] = d[1],
    ["X-Shopify-Hmac-Sha256"] = d[2],
  }
  return wrk.format("POST", "/webhooks/shopify", headers, d[3])
end
