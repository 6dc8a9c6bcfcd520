-- Busted's plain terminal output, ending with "sdk-spec (Lua 5.x): N passed, N failed".
-- Used by `make sdk-spec`: busted -o sdk-spec/output.lua ...
return function(options)
  local busted = require "busted"
  local handler = require "busted.outputHandlers.plainTerminal"(options)
  busted.subscribe({ "suite", "end" }, function()
    local failed = handler.failuresCount + handler.errorsCount
    io.write(string.format("sdk-spec (%s): %d passed, %d failed\n", _VERSION, handler.successesCount, failed))
    io.flush()
    return nil, true
  end)
  return handler
end
