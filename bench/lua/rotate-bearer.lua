-- wrk script: GET each path of a file in turn (like rotate.lua) with a bearer token on every request.
-- usage: wrk ... -s bench/lua/rotate-bearer.lua http://127.0.0.1:PORT -- PATHS_FILE TOKEN
local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  local f = assert(io.open(args[1], "r"), "cannot open " .. tostring(args[1]))
  for line in f:lines() do
    if #line > 0 then paths[#paths + 1] = line end
  end
  f:close()
  assert(#paths > 0, "no paths in " .. args[1])
  counter = (tid or 0) * 7919 % #paths
  headers = { ["Authorization"] = "Bearer " .. args[2] }
end

function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter], headers)
end
