-- GCRA rate limit step, atomic inside Redis. Mirrors forgekit/ratelimit/gcra.py.
-- The clock is the server's TIME, so every API process sharing this Redis agrees on "now"
-- whatever their own clocks say. All times are integer microseconds (exact in Lua doubles).
-- KEYS[1]  state key holding the theoretical arrival time (TAT)
-- ARGV[1]  emission interval (us)   ARGV[2] burst tolerance (us)
-- ARGV[3]  cost                     ARGV[4] "1" to consume, "0" to peek
-- Returns {allowed (0/1), remaining, retry_after_us, reset_after_us}.
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local commit = ARGV[4] == "1"

local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local tat = tonumber(redis.call("GET", KEYS[1]) or now)
if tat < now then
  tat = now
end

local available = math.floor((now - (tat - burst)) / interval)
local new_tat = tat + interval * cost
local allow_at = new_tat - burst

if now < allow_at then
  return {0, available, allow_at - now, tat - now}
end
if not commit then
  return {1, available, 0, tat - now}
end

-- The key lives exactly as long as it carries information: once the TAT has passed, an
-- absent key means the same thing (full quota).
redis.call("SET", KEYS[1], string.format("%d", new_tat), "PX",
  math.max(1, math.ceil((new_tat - now) / 1000)))
return {1, math.floor((now - allow_at) / interval), 0, new_tat - now}
