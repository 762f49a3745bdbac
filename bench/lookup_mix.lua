-- wrk script: cycles through the request paths in the file named by QUERIES
-- (each line a whole "/api/v1/lookup?org=…&q=…").
local paths = {}
for line in io.lines(os.getenv("QUERIES")) do
  paths[#paths + 1] = line
end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
