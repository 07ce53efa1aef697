-- wrk script: POST /v1/sales, one ticket per sale, cash, a unique Idempotency-Key per request.
--
-- Environment (read by every wrk thread):
--   SALE_TOKENS    comma-separated session tokens; wrk thread i uses token i (round robin)
--   SALE_TYPES     comma-separated ticket type ids; each request picks one at random
--   SALE_NONCE     a string unique to this run (keys are NONCE-THREAD-COUNTER)
--   SALE_TENDERED  cash tendered per sale (minor units, >= the price)
-- done() prints machine-readable lines for bench_sales.py:
--   STATUS 201=<n> 409=<n> other=<n> first_other=<status body...>
--   LATENCY p50_us=<n> p90_us=<n> p99_us=<n> max_us=<n>
--   SUMMARY requests=<n> duration_us=<n> connect_errors=<n> read_errors=<n> write_errors=<n>
--           timeouts=<n> non_2xx_3xx=<n>

local function split(text)
  local out = {}
  for item in string.gmatch(text or "", "[^,]+") do out[#out + 1] = item end
  return out
end

local tokens = split(os.getenv("SALE_TOKENS"))
local types = split(os.getenv("SALE_TYPES"))
local nonce = os.getenv("SALE_NONCE") or tostring(os.time())
local tendered = os.getenv("SALE_TENDERED") or "100000"

-- main state only: the threads, for done()
local threads = {}
local created = 0

function setup(thread)
  created = created + 1
  thread:set("thread_id", created)
  threads[#threads + 1] = thread
end

function init(args)
  counter = 0
  c201, c409, cother = 0, 0, 0
  first_other = ""
  math.randomseed(thread_id * 7919 + os.time())
  token = tokens[((thread_id - 1) % #tokens) + 1]
  headers_base = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }
end

function request()
  counter = counter + 1
  local ticket_type = types[math.random(#types)]
  local body = '{"lines":[{"ticket_type_id":' .. ticket_type .. ',"quantity":1}],'
    .. '"payment":{"method":"cash","tendered":' .. tendered .. '}}'
  headers_base["Idempotency-Key"] = nonce .. "-" .. thread_id .. "-" .. counter
  return wrk.format("POST", "/v1/sales", headers_base, body)
end

function response(status, headers, body)
  if status == 201 then
    c201 = c201 + 1
  elseif status == 409 then
    c409 = c409 + 1
  else
    cother = cother + 1
    if first_other == "" then
      first_other = tostring(status) .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

function done(summary, latency, requests)
  local n201, n409, nother, other = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    n201 = n201 + (thread:get("c201") or 0)
    n409 = n409 + (thread:get("c409") or 0)
    nother = nother + (thread:get("cother") or 0)
    local first = thread:get("first_other") or ""
    if other == "" then other = first end
  end
  other = string.gsub(other, "\n", " ")
  io.write(string.format("STATUS 201=%d 409=%d other=%d first_other=%s\n",
    n201, n409, nother, other))
  io.write(string.format("LATENCY p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  local e = summary.errors
  io.write(string.format(
    "SUMMARY requests=%d duration_us=%d connect_errors=%d read_errors=%d write_errors=%d "
      .. "timeouts=%d non_2xx_3xx=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status))
end
