"""The op catalogue (names, aliases, arguments, categories) and each op's formulas."""
