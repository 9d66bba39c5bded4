-- wrk script: every connection walks whole USSD sessions against POST /ussd, hop after hop.
--
-- Run with one connection per thread (wrk -t N -c N -s ussd.lua URL -- RUN_ID), so each
-- thread's state below is one caller's session. RUN_ID keeps session ids unique across runs.
--
-- A session: the first hop (text ""), then the inputs of one of PATHS below, each joined to the
-- previous text with "*". Screens that depend on who calls and on what happened before are
-- answered as a caller would: the first-use language prompt ("lang.first") with a language,
-- the offer to continue a dropped session ("resume") with "2" (start again). The screen id comes
-- from the at-ussd-hop-metadata header that Minerline sends for the gateway's dashboard; a
-- server without it (the bare endpoint) simply gets the path's inputs.
--
-- Every answer must be 200 and start with "CON " or "END "; anything else is an error.
-- A screen other than the one the path expects counts as off_path (the walk is not what we
-- meant to measure). A new session starts after END, at the end of the path, after an error,
-- and after MAX_HOPS hops in any case.

local MAX_HOPS = 12
local SERVICE_CODE = "*384*44#"
local NETWORK_CODE = "64110"

-- Each step: the input, then the screen Minerline should answer with (none given: any screen).
-- Paths keep to screens that send no SMS ("Send me this by SMS" is never chosen). Most end by
-- opening Meetings, whose answer depends on who calls (members see the next meeting, others are
-- told it is for members and the session ends): after it, the session ends or is dropped, and a
-- caller who dropped one is offered to continue it next time.
local PATHS = {
  -- Read a rights topic page by page, back out, go home, open Meetings.
  { {"3", "rights"}, {"1", "rights.area"}, {"2", "rights.topic"}, {"98", "rights.topic"},
    {"0", "rights.topic"}, {"0", "rights.area"}, {"00", "main"}, {"5"} },
  -- Another area and topic, a second page, then home and Meetings.
  { {"3", "rights"}, {"2", "rights.area"}, {"1", "rights.topic"}, {"98", "rights.topic"},
    {"00", "main"}, {"5"} },
  -- Change the language (a database write), browse, and step back to the main menu.
  { {"6", "lang.change"}, {"LANG", "main"}, {"3", "rights"}, {"3", "rights.area"},
    {"1", "rights.topic"}, {"0", "rights.area"}, {"0", "rights"}, {"0", "main"} },
  -- The first path again: reading is what most callers do.
  { {"3", "rights"}, {"1", "rights.area"}, {"2", "rights.topic"}, {"98", "rights.topic"},
    {"0", "rights.topic"}, {"0", "rights.area"}, {"00", "main"}, {"5"} },
}

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

-- Per thread (globals, so that done() can read them with thread:get).
run_id = "run"
sessions, ended, hops_sent = 0, 0, 0
bad_status, bad_body, off_path, resumes, first_language = 0, 0, 0, 0, 0

local serial = 0
local session_id, phone, path, step, hops, lang
local inputs = {}

local function encode(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function new_session()
  serial = serial + 1
  sessions = sessions + 1
  session_id = string.format("bench-%s-%d-%d", run_id, tid, serial)
  local k = tid * 7 + serial
  if k % 2 == 0 then
    -- Demo members: +256700000001 .. +256700000005 (some with a language, one without).
    phone = string.format("+25670000000%d", math.floor(k / 2) % 5 + 1)
  else
    -- Not members: +256700000100 .. +256700000199; each chooses a language on first use.
    phone = string.format("+2567000001%02d", math.floor(k / 2) % 100)
  end
  path = PATHS[k % #PATHS + 1]
  lang = tostring(k % 3 + 1)
  step, hops = 0, 0
  inputs = {}
end

function init(args)
  if args[1] then run_id = args[1] end
  new_session()
end

function request()
  hops = hops + 1
  hops_sent = hops_sent + 1
  local body = "sessionId=" .. encode(session_id) .. "&serviceCode=" .. encode(SERVICE_CODE) ..
    "&phoneNumber=" .. encode(phone) .. "&networkCode=" .. NETWORK_CODE ..
    "&text=" .. encode(table.concat(inputs, "*"))
  return wrk.format("POST", "/ussd", {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end

local function send(value)
  if value == "LANG" then value = lang end
  table.insert(inputs, value)
end

function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
    return new_session()
  end
  local kind = string.sub(body, 1, 4)
  if kind ~= "CON " and kind ~= "END " then
    bad_body = bad_body + 1
    return new_session()
  end
  local screen = headers["at-ussd-hop-metadata"]
  local expected = step > 0 and path[step][2]
  if screen and expected and screen ~= expected then
    off_path = off_path + 1
    return new_session()
  end
  if kind == "END " then
    ended = ended + 1
    return new_session()
  end
  if hops >= MAX_HOPS then
    return new_session()
  end
  if screen == "lang.first" then
    first_language = first_language + 1
    return send(lang)
  end
  if screen == "resume" then
    resumes = resumes + 1
    return send("2")
  end
  step = step + 1
  if step > #path then
    return new_session()
  end
  send(path[step][1])
end

function done(summary, latency, requests)
  local c = {sessions = 0, ended = 0, hops_sent = 0, bad_status = 0, bad_body = 0, off_path = 0,
             resumes = 0, first_language = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(c) do c[name] = c[name] + (tonumber(thread:get(name)) or 0) end
  end
  local e = summary.errors
  local parts = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"p50_us":%d', latency:percentile(50)),
    string.format('"p90_us":%d', latency:percentile(90)),
    string.format('"p99_us":%d', latency:percentile(99)),
    string.format('"max_us":%d', latency.max),
    string.format('"mean_us":%.1f', latency.mean),
    string.format('"connect_errors":%d', e.connect),
    string.format('"read_errors":%d', e.read),
    string.format('"write_errors":%d', e.write),
    string.format('"status_errors":%d', e.status),
    string.format('"timeouts":%d', e.timeout),
  }
  for name, value in pairs(c) do table.insert(parts, string.format('"%s":%d', name, value)) end
  io.write("BENCH_JSON {" .. table.concat(parts, ",") .. "}\n")
end
