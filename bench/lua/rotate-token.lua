-- wrk script: each request takes the next (token, path) pair of a file, so a run spreads over many users, each
-- with their own bearer token (a patient user's search sees only that patient's compartment).
-- File lines: TOKEN<space>PATH. Each thread starts at its own offset in the list.
-- usage: wrk ... -s bench/lua/rotate-token.lua http://127.0.0.1:PORT -- PAIRS_FILE
local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  pairs_ = {}
  local f = assert(io.open(args[1], "r"), "cannot open " .. tostring(args[1]))
  for line in f:lines() do
    local token, path = line:match("^(%S+)%s+(%S+)$")
    if token then pairs_[#pairs_ + 1] = { path = path, headers = { ["Authorization"] = "Bearer " .. token } } end
  end
  f:close()
  assert(#pairs_ > 0, "no token/path pairs in " .. args[1])
  counter = (tid or 0) * 7919 % #pairs_
end

function request()
  counter = counter % #pairs_ + 1
  local p = pairs_[counter]
  return wrk.format("GET", p.path, p.headers)
end
