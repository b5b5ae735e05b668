-- wrk script: assignments of a running holdout, as widgets ask on page load.
-- Three in four calls are new visitors (an exposure is written), one in four
-- a visitor asking again (answered from its stored exposure).
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  key = os.getenv("REVTRACE_KEY")
  counter = 0
end

local headers = { ["Content-Type"] = "application/json" }

function request()
  counter = counter + 1
  local n = counter
  if counter % 4 == 0 then n = math.floor(counter / 2) end
  local body = string.format('{"company_key":"%s","experiment":"bench-holdout","fingerprint":"FP-%d-%d"}', key, id, n)
  return wrk.format("POST", "/analytics/assignments", headers, body)
end
