-- easegress.duration: Go's time.ParseDuration, in milliseconds (cases from Go's tests).
local duration = require "easegress.duration"

describe("easegress.duration", function()
  local good = {
    ["0"] = 0, ["-0"] = 0, ["+0"] = 0, ["5s"] = 5000, ["30s"] = 30000, ["1478s"] = 1478000,
    ["-5s"] = -5000, ["+5s"] = 5000, ["5.0s"] = 5000, ["5.6s"] = 5600, ["5.s"] = 5000,
    [".5s"] = 500, ["1.0s"] = 1000, ["1.004s"] = 1004, ["100.00100s"] = 100001,
    ["10ns"] = 10e-6, ["11us"] = 11e-3, ["12\194\181s"] = 12e-3, ["12\206\188s"] = 12e-3,
    ["13ms"] = 13, ["14s"] = 14000, ["15m"] = 900000, ["16h"] = 57600000,
    ["3h30m"] = 12600000, ["10.5s4m"] = 250500, ["-2m3.4s"] = -123400,
    ["1h2m3s4ms5us6ns"] = 3723004.005006, ["39h9m14.425s"] = 140954425,
    ["2562047h"] = 2562047 * 3600e3,
  }
  for text, ms in pairs(good) do
    it("parses " .. text, function()
      local got = assert(duration.parse(text))
      assert.is_true(math.abs(got - ms) < 1e-9 * math.max(1, math.abs(ms)), text .. " gave " .. got)
    end)
  end

  local bad = { "", "3", "-", "s", ".", "-.", ".s", "+.s", "1d", "1.5.5s", "00", "5 s", "1e3s",
    "3000000h", "2562048h", "9223372036854775808ns" }
  for _, text in ipairs(bad) do
    it("refuses " .. string.format("%q", text), function()
      local ms, err = duration.parse(text)
      assert.is_nil(ms)
      assert.matches("^time: ", err)
    end)
  end

  it("names the problem as Go does", function()
    assert.are.equal('time: unknown unit "d" in duration "1d"', select(2, duration.parse("1d")))
    assert.are.equal('time: missing unit in duration "3"', select(2, duration.parse("3")))
    assert.are.equal('time: invalid duration ""', select(2, duration.parse("")))
  end)
end)
