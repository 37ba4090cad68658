-- Nexmark q2: selection. Same statement as bench/nexmark/README.md (`%` is MOD).
SELECT auction, price FROM bid WHERE auction % 123 = 0
