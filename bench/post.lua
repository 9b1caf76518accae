-- wrk script for bench/run_bench and bench/load: POST a JSON body (read from a file) to the
-- URL, check every response, and print one machine-readable result line at the end.
--
--   wrk -t2 -c16 -d10s --latency --timeout 60s -s bench/post.lua http://127.0.0.1:PORT/execute \
--       -- BODY_FILE [EXPECTED_SUBSTRING ...]
--
-- A response counts as:
--   ok          status 200, body has "success":true and every EXPECTED_SUBSTRING (plain text)
--   failed      status 200 but "success" is not true (the run itself failed: timeout, error, ...)
--   unexpected  status 200, success true, but an expected substring is missing (wrong output)
--   s429        status 429 or 503 (admission refused: overload, shutting down)
--   non200      any other status
-- wrk's own latency figures include every completed response, good or bad.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local f = assert(io.open(args[1], "rb"))
   local body = f:read("*a")
   f:close()
   expect = {}
   for i = 2, #args do expect[#expect + 1] = args[i] end
   wrk.method = "POST"
   wrk.body = body
   wrk.headers["Content-Type"] = "application/json"
   ok, failed, unexpected, s429, non200 = 0, 0, 0, 0, 0
   first_bad = ""
end

function response(status, headers, body)
   if status == 200 then
      if string.find(body, '"success"%s*:%s*true') then
         local good = true
         for _, s in ipairs(expect) do
            if not string.find(body, s, 1, true) then good = false; break end
         end
         if good then ok = ok + 1 else unexpected = unexpected + 1 end
      else
         failed = failed + 1
      end
   elseif status == 429 or status == 503 then
      s429 = s429 + 1
   else
      non200 = non200 + 1
   end
   if status ~= 200 or not string.find(body, '"success"%s*:%s*true') then
      if first_bad == "" then
         first_bad = status .. " " .. string.gsub(string.sub(body, 1, 300), "[\r\n]", " ")
      end
   end
end

function done(summary, latency, requests)
   local t = {ok = 0, failed = 0, unexpected = 0, s429 = 0, non200 = 0}
   local bad = ""
   for _, thread in ipairs(threads) do
      for k, _ in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
      local b = thread:get("first_bad")
      if bad == "" and b and b ~= "" then bad = b end
   end
   local e = summary.errors
   io.write(string.format(
      "BENCHRESULT requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d " ..
      "min_us=%d max_us=%d mean_us=%.1f ok=%d failed=%d unexpected=%d s429=%d non200=%d " ..
      "sock_connect=%d sock_read=%d sock_write=%d sock_timeout=%d\n",
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.min, latency.max, latency.mean,
      t.ok, t.failed, t.unexpected, t.s429, t.non200,
      e.connect, e.read, e.write, e.timeout))
   if bad ~= "" then io.write("BENCHFIRSTBAD " .. bad .. "\n") end
end
