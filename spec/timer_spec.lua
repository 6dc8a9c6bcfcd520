-- eg.timer: background runs on the worker's loop (here the spec runner's).
local testing = require "easegress.testing"

describe("eg.timer", function()
  it("runs a function once after a delay", function()
    local fired = 0
    eg.timer.at(20, function(n) fired = fired + n end, 5)
    assert.are.equal(0, fired)
    eg.sleep(60)
    assert.are.equal(5, fired)
  end)

  it("runs a function every interval until cancelled", function()
    local ticks = 0
    local t = eg.timer.every(10, function() ticks = ticks + 1 end)
    eg.sleep(75)
    assert.is_true(t.cancel())
    local seen = ticks
    assert.is_true(seen >= 4 and seen <= 8, "ticks: " .. seen)
    eg.sleep(40)
    assert.are.equal(seen, ticks)
    assert.is_false(t.cancel())
  end)

  it("lets a run wait without blocking the others", function()
    local order = {}
    eg.timer.at(0, function()
      eg.sleep(40)
      order[#order + 1] = "slow"
    end)
    eg.timer.at(10, function() order[#order + 1] = "fast" end)
    eg.sleep(80)
    assert.are.same({ "fast", "slow" }, order)
  end)

  it("calls backends from a run", function()
    local port, stop = testing.start_mirror()
    local got
    eg.timer.at(0, function()
      local res = eg.http.request{ url = "http://127.0.0.1:" .. port .. "/from-timer" }
      got = res and res.body:match("URL   : (%S+)")
    end)
    for _ = 1, 100 do
      if got then break end
      eg.sleep(10)
    end
    stop()
    assert.are.equal("/from-timer", got)
  end)

  it("logs an error in a run and keeps the others going", function()
    local after = false
    eg.timer.at(0, function() error("timer boom") end)
    eg.timer.at(10, function() after = true end)
    eg.sleep(40)
    assert.is_true(after)
  end)
end)
