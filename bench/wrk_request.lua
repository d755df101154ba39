-- wrk script of bench/wrk.py for a page that is not a plain GET (the API's POST): every request
-- carries its own body. BODY's %N% becomes a number no other request of the run has (NONCE,
-- the thread, a counter) and %PICK% the next of PICKS (space-separated: units' serials);
-- HEADERS are "Name: value" lines added to every request. Sessions and the report: as
-- bench/wrk_report.lua, which this runs first.
dofile(os.getenv("REPORT_SCRIPT"))

local method = os.getenv("METHOD") or "POST"
local body = os.getenv("BODY") or ""
local nonce = os.getenv("NONCE") or ""
local picks = {}
for p in string.gmatch(os.getenv("PICKS") or "", "%S+") do table.insert(picks, p) end
local headers = {}
for line in string.gmatch(os.getenv("HEADERS") or "", "[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.-)%s*$")
  if name then headers[name] = value end
end

local report_init = init
local n = 0
function init(args)
  report_init(args)
  for name, value in pairs(headers) do wrk.headers[name] = value end
end

function request()
  n = n + 1
  local text = body:gsub("%%N%%", nonce .. "-" .. id .. "-" .. n)
  if #picks > 0 then
    text = text:gsub("%%PICK%%", picks[(n * 7 + id) % #picks + 1])
  end
  return wrk.format(method, nil, nil, text)
end
