-- wrk script: seeds one conversation for each of the fingerprints FP-0 …
-- FP-9999: a shopper question and a grounded AI answer an hour ago (inside
-- the 24 h window of the mixed stream). Later requests for a fingerprint
-- upsert the same ticket, as a chat widget re-sending a conversation does.
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  key = os.getenv("REVTRACE_KEY")
  run = os.getenv("RUN_ID") or tostring(os.time())
  counter = 0
  asked = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - 3600)
end

local headers = { ["Content-Type"] = "application/json" }

function request()
  counter = counter + 1
  local n = (counter * 2 + id) % 10000
  local fp = "FP-" .. n
  local body = string.format(
    '{"company_key":"%s","ticket_id":"T-%s-%d","channel":"chat","fingerprint":"%s","messages":[' ..
    '{"message_id":"q","sent_at":"%s","role":"shopper","text":"Which moisturizer is best for dry skin?"},' ..
    '{"message_id":"a","sent_at":"%s","role":"ai","has_answer_found":true}]}',
    key, run, n, fp, asked, asked)
  return wrk.format("POST", "/analytics/tickets", headers, body)
end
