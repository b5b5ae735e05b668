-- wrk script: one company's public key, as fast as wrk can send it, from one
-- client address (the storefront key is in every page: anyone can do this).
function init(args)
  key = os.getenv("FLOOD_KEY")
  counter = 0
end
local headers = { ["Content-Type"] = "text/plain" }
function request()
  counter = counter + 1
  local body = string.format('{"company_key":"%s","user_fingerprint":"FP-f%d"}', key, counter % 1000)
  return wrk.format("POST", "/analytics/visits", headers, body)
end
local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
