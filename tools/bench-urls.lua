-- wrk script for `make bench`'s realsite section (tools/bench): each request asks for the
-- next path of a list, cycling through all of it.
--
--   wrk -t1 -c32 -d5s -s tools/bench-urls.lua http://127.0.0.1:PORT -- URLS
--
-- URLS: one path a line, URL-encoded, starting with '/'. wrk gives each thread a Lua state
-- of its own, so the index is per thread: thread 0 starts at the top, thread N at
-- N × 0.618 of the list (mod its length; the thread count is not known in a thread's
-- state), so that threads do not ask for the same paths in step. -H headers
-- (Connection: close) apply.

local thread_count = 0

function setup(thread)
	thread:set("id", thread_count)
	thread_count = thread_count + 1
end

local requests = {}
local i = 0

function init(args)
	local name = args[1] or error("bench-urls.lua: give the URL list: wrk ... URL -- FILE")
	local f = assert(io.open(name, "r"))
	-- Each request formatted once, here: request() runs for every request, on wrk's one
	-- core, and a format per request would cost more of it than the server's answer.
	for line in f:lines() do
		if line ~= "" then requests[#requests + 1] = wrk.format(nil, line) end
	end
	f:close()
	if #requests == 0 then error("bench-urls.lua: " .. name .. " has no paths") end
	i = math.floor((id or 0) * 0.6180339887 * #requests) % #requests
end

function request()
	i = i % #requests + 1
	return requests[i]
end
