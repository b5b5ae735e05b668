-- wrk script: a mixed stream of cart events (4 in 5) and checkouts (1 in 5)
-- for 20,000 visitors, about half of whom had a grounded conversation
-- (seeded by tickets.lua). Order ids are unique per run, thread and request.
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  key = os.getenv("REVTRACE_KEY")
  run = os.getenv("RUN_ID") or tostring(os.time())
  counter = 0
  math.randomseed(os.time() + id * 7919)
end

local headers = { ["Content-Type"] = "application/json" }

function request()
  counter = counter + 1
  local fp = "FP-" .. math.random(0, 19999)
  if counter % 5 == 0 then
    local body = string.format(
      '{"company_key":"%s","user_fingerprint":"%s","order_id":"o-%s-%d-%d","order_value":"48.00","currency":"USD",' ..
      '"line_items":[{"product_id":"hydra-barrier-cream","quantity":1,"unit_price":"48.00"}]}',
      key, fp, run, id, counter)
    return wrk.format("POST", "/analytics/checkout_events", headers, body)
  end
  local body = string.format(
    '{"company_key":"%s","user_fingerprint":"%s","event_type":"ITEM_ADDED","product_id":"p-%d",' ..
    '"quantity":%d,"unit_price":"19.99","currency":"USD"}',
    key, fp, math.random(1, 500), math.random(1, 3))
  return wrk.format("POST", "/analytics/cart_events", headers, body)
end
