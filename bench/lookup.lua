-- wrk script: cycles through the queries in the file named by QUERIES,
-- asking about the organisation in ORG.
local queries = {}
local org = os.getenv("ORG") or "kinda"
for line in io.lines(os.getenv("QUERIES")) do
  queries[#queries + 1] = line
end
local i = 0
request = function()
  i = i % #queries + 1
  return wrk.format("GET", "/api/v1/lookup?org=" .. org .. "&q=" .. queries[i])
end
